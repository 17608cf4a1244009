import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type DeadEvent } from '../../api/shapes.ts';
import { settleDeadEvent } from '../../outbox/dead.ts';
import { listDeadOutbox } from '../../outbox/store.ts';
import { acting } from '../acting.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { notFound } from '../../errors.ts';
import { operationDocs } from '../openapi.ts';
import { closedObject, decodeCursor, page, Paging, query } from '../validation.ts';

const MAX_BIGINT = 2n ** 63n - 1n;
export const ListDead = closedObject(Paging);
export const DiscardDead = closedObject({ force: v.optional(v.picklist(['true', 'false'], 'must be true or false')) });

const isId = (k: unknown): k is string => typeof k === 'string' && /^\d{1,19}$/.test(k) && BigInt(k) <= MAX_BIGINT;

const doc = operationDocs('Outbox');

/** A path's dead event id; anything that cannot be one is an unknown event. */
function deadId(id: string): string {
  if (!isId(id)) throw notFound(`Dead outbox event "${id}"`);
  return id;
}

/** Dead outbox events: what failed for good, and a way to send them through again once fixed. */
export function outboxRoutes(deps: AppDeps) {
  const app = new Hono<AuthEnv>();
  app.use('*', requireScope('admin'));

  app.get(
    '/dead',
    doc({
      summary: 'List dead outbox events',
      description: 'Events whose handler failed on every attempt, oldest first.',
      access: 'admin',
      query: ListDead,
      ok: { status: 200, description: 'A page of dead events.', body: listOf('DeadEvent') },
    }),
    async (c) => {
      const q = query(c, ListDead);
      const rows = await listDeadOutbox(deps.sql, decodeCursor(q.cursor, isId), q.limit + 1);
      const items = rows.map((r): DeadEvent => ({
        id: r.id,
        topic: r.topic,
        key: r.key,
        payload: r.payload,
        created_at: r.created_at.toISOString(),
        attempts: r.attempts,
        last_error: r.last_error,
        died_at: r.died_at.toISOString(),
      }));
      return c.json(page(items, q.limit, (e) => e.id));
    },
  );

  app.post(
    '/dead/:id/replay',
    doc({
      summary: 'Replay a dead outbox event',
      description:
        "It goes back into the outbox, in order with its key's other events. A page of an incident resolved meanwhile, whose resolve no longer waits in the outbox (sent, or itself dead), is not sent after it: the incident's timeline says why.",
      access: 'admin',
      id: 'The dead event id',
      ok: { status: 202, description: 'Queued again.', body: { type: 'object', required: ['replayed'], properties: { replayed: { type: 'string' } } } },
    }),
    async (c) => {
      const id = deadId(c.req.param('id'));
      await settleDeadEvent(deps.sql, id, 'replay', deps.clock.now(), acting(c));
      return c.json({ replayed: id }, 202);
    },
  );

  app.delete(
    '/dead/:id',
    doc({
      summary: 'Discard a dead outbox event',
      description:
        'Drops it for good: what its handler would have done never happens. For an event that fails again on every replay, or one no longer worth handling; a dead event that would message a channel or person keeps it from being deleted until it is replayed or discarded. By topic: `incident.opened` / `incident.escalated`: that page is never sent; `incident.acknowledged`: those paged are never told of the acknowledgement; `incident.resolved`: the resolve is never sent, so a receiver that opened an alert (PagerDuty) keeps it triggered until closed there; `incident.escalation_due`: that escalation step never fires, and the incident escalates no further. `incident.ack_timeout_due`: that acknowledgement never expires. Each of these is written on the incident\'s timeline (`outbox_discarded`, with the topic). `node.state_changed`: the change is never acted on, so an incident it would open never opens (nobody is paged) and one it would resolve stays open; `node.deleted`: the node\'s open incidents are never closed. Those two are refused (409) unless `force=true`.',
      access: 'admin',
      id: 'The dead event id',
      query: DiscardDead,
      queryNotes: { force: '`true` to discard a `node.*` event, whose incidents then never follow it.' },
      ok: { status: 204, description: 'Discarded.' },
      errors: [409],
    }),
    async (c) => {
      const q = query(c, DiscardDead);
      await settleDeadEvent(deps.sql, deadId(c.req.param('id')), 'discard', deps.clock.now(), acting(c), q.force === 'true');
      return c.body(null, 204);
    },
  );
  return app;
}
