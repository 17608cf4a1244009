import { setTimeout as delay } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import { sendOver, type ChannelRegistry } from '../../alerting/index.ts';
import { asDeliveryError, type DeliveryError } from '../../alerting/errors.ts';
import type { Clock } from '../clock.ts';
import type { Events } from '../events.ts';
import type { Sql } from '../db/client.ts';
import { actionLinkUrl, signActionLink, type LinkAction } from '../incidents/action-links.ts';
import type { IncidentRow } from '../incidents/model.ts';
import { addTimeline, getIncidents } from '../incidents/store.ts';
import { incidentView } from '../incidents/view.ts';
import { nodesLabels } from '../nodes/store.ts';
import { destinationOf } from './destinations.ts';
import type { ActionLinks, DeliveryRow, Notification } from './model.ts';
import { DELIVERY_ATTEMPTS, retryDelayMs, type RetrySchedule } from './retry.ts';
import { earlierPageInFlight, getDelivery, recordAttempts } from './store.ts';

/**
 * An answer (acknowledged, resolved) whose page to the same channel is still being retried: the
 * worker puts it back in the queue without spending one of its attempts, however long the page's
 * own retries take, until after the page's next attempt (`retryAt`; null when it has not failed yet).
 */
export class WaitingForPage extends Error {
  constructor(readonly retryAt: Date | null) {
    super('waiting for the earlier page to this channel to finish');
    this.name = 'WaitingForPage';
  }
}

/**
 * A failed attempt that will be retried after `delayMs`, counted from the ledger's attempts, so a
 * job re-added after Redis lost it keeps the schedule. The worker's backoff reads the delay from it.
 */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    cause: DeliveryError,
  ) {
    super(`${cause.code}: ${cause.message}`, { cause });
    this.name = 'RetryLater';
  }
}

export interface DeliverDeps {
  sql: Sql;
  clock: Clock;
  channels: ChannelRegistry;
  secretKey: Buffer;
  retry: RetrySchedule;
  /** Where each attempt's outcome is announced (`notification.result`). */
  events?: Events;
  /** Signs acknowledge and resolve links into messages; absent without a public URL: no links. */
  links?: LinkSigning | undefined;
}

export interface LinkSigning {
  /** LIFELINE_PUBLIC_URL, without a trailing slash. */
  publicUrl: string;
  /** actionLinkKey(the engine's secret key). */
  key: Buffer;
  /** How long a link acts after the event it announces. */
  ttlMs: number;
}

/**
 * The links a message carries, as the recipient: acknowledge while the incident is open and the
 * message is a page, resolve until it is resolved. Each expires `ttlMs` after the event, so every
 * retry of a message carries the same links.
 */
function linksFor(s: LinkSigning, d: DeliveryRow, incident: IncidentRow): ActionLinks | undefined {
  const page = d.event === 'opened' || d.event === 'escalated';
  const actions: LinkAction[] = [];
  if (page && incident.status === 'open') actions.push('acknowledge');
  if (d.event !== 'resolved' && incident.status !== 'resolved') actions.push('resolve');
  if (actions.length === 0) return undefined;
  const recipient = d.user_id !== null ? { kind: 'user' as const, id: d.user_id } : { kind: 'channel' as const, id: d.channel_id! };
  const expiresAt = new Date(d.occurred_at.getTime() + s.ttlMs);
  return Object.fromEntries(actions.map((action) => [action, actionLinkUrl(s.publicUrl, signActionLink(s.key, { incidentId: incident.id, action, recipient, expiresAt }))]));
}

/** The message for each ledger row whose incident still exists: two queries however many rows. */
export async function notificationsFor(sql: Sql, rows: DeliveryRow[], links?: LinkSigning): Promise<Map<string, Notification>> {
  const incidents = await getIncidents(sql, [...new Set(rows.map((d) => d.incident_id))]);
  const labels = await nodesLabels(sql, [...new Set([...incidents.values()].map((i) => i.node_id))]);
  const out = new Map<string, Notification>();
  for (const d of rows) {
    const incident = incidents.get(d.incident_id);
    if (!incident) continue;
    out.set(d.id, {
      messageId: d.id,
      event: d.event,
      occurredAt: d.occurred_at.toISOString(),
      reason: incident.reason,
      incident: incidentView(incident),
      // A deleted node's incident still names it; its labels went with it.
      node: { id: incident.node_id, name: incident.node_name, labels: labels.get(incident.node_id) ?? {} },
      ...(links ? { links: linksFor(links, d, incident) } : {}),
    });
  }
  return out;
}

/** How the timeline names a recipient: the channel, the person, or both (a person's own channel). */
export const recipientDetail = (d: Pick<DeliveryRow, 'channel_id' | 'user_id'>) => ({
  ...(d.channel_id !== null ? { channel_id: d.channel_id } : {}),
  ...(d.user_id !== null ? { user_id: d.user_id } : {}),
});

/**
 * One attempt at one ledger row. Sent and dead rows are final and never sent again, whatever
 * BullMQ does (a duplicate job, a stalled job re-run). The attempt is numbered from the ledger, not
 * the job, so a job added again after Redis lost it neither restarts the count nor the backoff.
 *
 * Delivery is at least once: the row is marked sent by the first statement after the channel
 * accepted the message, but a crash between the two (or Redis losing a job mid-send) sends it again,
 * with the same webhook-id / Message-ID / dedup_key, so a receiver can drop the duplicate.
 */
export async function deliver(deps: DeliverDeps, id: string): Promise<void> {
  const { sql, clock } = deps;
  const d = await getDelivery(sql, id);
  if (!d) throw new UnrecoverableError(`delivery ${id} does not exist`);
  if (d.status === 'sent' || d.status === 'dead') return;
  if (d.event === 'acknowledged' || d.event === 'resolved') {
    const page = await earlierPageInFlight(sql, d);
    if (page) throw new WaitingForPage(page.retryAt);
  }
  const destination = await destinationOf(sql, d, deps.secretKey);
  const notification = 'gone' in destination ? undefined : (await notificationsFor(sql, [d], deps.links)).get(d.id);
  if ('gone' in destination || !notification) {
    await recordAttempts(sql, [id], { status: 'dead', error: 'gone' in destination ? destination.gone : 'incident_deleted', at: clock.now() });
    deps.events?.emit('notification.result', d.channel_type, 'dead', 1);
    return;
  }
  try {
    await sendOver(deps.channels, destination.type, notification, destination.open(), clock.now());
  } catch (err) {
    const e = asDeliveryError(err);
    const attempt = d.attempts + 1;
    const final = e.permanent || attempt >= DELIVERY_ATTEMPTS;
    const at = clock.now();
    const error = `${e.code}: ${e.message}`;
    const delayMs = retryDelayMs(attempt, e, deps.retry);
    await recordAttempts(sql, [id], final ? { status: 'dead', error, at } : { status: 'failed', error, at, retryAt: new Date(at.getTime() + delayMs) });
    await addTimeline(sql, [
      { incident_id: d.incident_id, at, kind: 'delivery_failed', detail: { ...recipientDetail(d), event: d.event, attempt, error: e.code, final } },
    ]);
    deps.events?.emit('notification.result', d.channel_type, final ? 'dead' : 'failed', 1);
    if (final) throw new UnrecoverableError(error);
    throw new RetryLater(delayMs, e);
  }
  // Nothing between the channel accepting and this write: it is the duplicate window.
  const at = clock.now();
  await recordSent(sql, id, at);
  await addTimeline(sql, [{ incident_id: d.incident_id, at, kind: 'notified', detail: { ...recipientDetail(d), channel_type: d.channel_type, event: d.event } }]);
  deps.events?.emit('notification.result', d.channel_type, 'sent', 1, (at.getTime() - d.occurred_at.getTime()) / 1000);
}

// Once the receiver has the message, only the ledger write stands between it and a second copy
// (the job's retry would send it again). A database hiccup there (a dropped connection, Postgres at
// its connection limit) is waited out: 7 tries over about 6 s, well inside the job's lock, before
// the duplicate is left to the at-least-once contract. The write is idempotent: a row already
// marked final stays as it is.
const SENT_WRITE_TRIES = 7;
const SENT_WRITE_FIRST_WAIT_MS = 100;

async function recordSent(sql: Sql, id: string, at: Date): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await recordAttempts(sql, [id], { status: 'sent', error: null, at });
      return;
    } catch (err) {
      if (attempt >= SENT_WRITE_TRIES) throw err;
      await delay(SENT_WRITE_FIRST_WAIT_MS * 2 ** (attempt - 1));
    }
  }
}
