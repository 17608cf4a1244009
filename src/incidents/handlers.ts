import type { Events, UnroutedReason } from '../events.ts';
import type { NewsSender } from '../notifications/handlers.ts';
import type { EmailSetup } from '../oncall/model.ts';
import type { HandlerContext, OutboxHandler } from '../outbox/registry.ts';
import type { OutboxEvent } from '../outbox/topics.ts';
import { escalate, expireAcknowledgements, followNodes, noteNewReasons, pageLater, type NodeChange } from './service.ts';

function changeOf(e: OutboxEvent<'node.state_changed' | 'node.deleted'>): NodeChange {
  if (e.topic === 'node.deleted') return { nodeId: e.payload.node_id, nodeName: e.payload.node_name, from: null, to: 'deleted', at: new Date(e.payload.at), reason: 'node deleted' };
  const { node_id, node_name, from, to, at, reason } = e.payload;
  return { nodeId: node_id, nodeName: node_name, from, to, at: new Date(at), reason };
}

/** What judging a level needs of the engine's setup: whether it sends email, if this process knows (see EmailSetup). */
export interface PagingSetup {
  emailConfigured: EmailSetup;
  /** Where a level that paged nobody is announced (`incident.unrouted`), once its transaction commits. */
  events?: Events;
}

/** Announces the levels that paged nobody after the commit: a batch rolled back and retried alone is counted once. */
function announceUnrouted(setup: PagingSetup, ctx: HandlerContext, reasons: UnroutedReason[]): void {
  const events = setup.events;
  if (events && reasons.length) ctx.afterCommit(async () => reasons.forEach((reason) => events.emit('incident.unrouted', reason)));
}

/**
 * node.state_changed and node.deleted → incidents opened and resolved (see followNodes), and the
 * pages of those opened sent by `sendPages` in the same transaction: one outbox event from a
 * transition to its page's ledger rows, where an `incident.opened` event in between made two.
 */
export function nodeEventsHandler(sendPages: NewsSender, setup: PagingSetup): OutboxHandler<'node.state_changed' | 'node.deleted'> {
  return async (events, ctx) => {
    const { pages, directory, unrouted } = await followNodes(ctx.tx, events.map(changeOf), ctx.now, setup.emailConfigured);
    announceUnrouted(setup, ctx, unrouted);
    if (pages.length === 0) return;
    try {
      // In a savepoint: a page that cannot be written must not take its transition down with it.
      await ctx.tx.savepoint((sp) =>
        sendPages(
          pages.map((p) => p.news),
          { ...ctx, tx: sp },
          { incidents: new Map(pages.map((p) => [p.incident.id, p.incident])), directory },
        ),
      );
    } catch {
      // The failure is not lost: the same fan-out runs again on the pages' own events, whose
      // retries and errors the dispatcher logs and counts.
      await pageLater(ctx.tx, pages, ctx.now);
    }
  };
}

/** node.reason_changed → a line on the node's open incident's timeline, and nothing else (see noteNewReasons). */
export const reasonHandler = (): OutboxHandler<'node.reason_changed'> => async (events, ctx) => {
  await noteNewReasons(
    ctx.tx,
    events.map((e) => ({ nodeId: e.payload.node_id, state: e.payload.state, at: new Date(e.payload.at), reason: e.payload.reason })),
  );
};

/** incident.escalation_due → the next level paged (see escalate). */
export const escalationHandler =
  (setup: PagingSetup): OutboxHandler<'incident.escalation_due'> =>
  async (events, ctx) => {
    const steps = events.map((e) => ({ incidentId: e.payload.incident_id, step: e.payload.step, atOnce: e.payload.at_once === true, released: e.payload.released === true, recheck: e.payload.recheck === true }));
    announceUnrouted(setup, ctx, await escalate(ctx.tx, steps, ctx.now, setup.emailConfigured));
  };

/** incident.ack_timeout_due → an acknowledgement that timed out reopens its incident (see expireAcknowledgements). */
export const ackTimeoutHandler =
  (setup: PagingSetup): OutboxHandler<'incident.ack_timeout_due'> =>
  async (events, ctx) => {
    const fired = events.map((e) => ({ incidentId: e.payload.incident_id, acknowledgedAt: new Date(e.payload.acknowledged_at), timeoutSeconds: e.payload.timeout_seconds }));
    announceUnrouted(setup, ctx, await expireAcknowledgements(ctx.tx, fired, ctx.now, setup.emailConfigured));
  };
