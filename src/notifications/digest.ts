import { DeliveryError } from '../../alerting/errors.ts';
import type { Queryable } from '../db/client.ts';
import type { DeliveryRow } from './model.ts';
import { digestDestinations, dueDigest, recordAttempts, tryDigestLock, type DigestDestination } from './store.ts';
import { incidentListUrl } from '../incidents/action-links.ts';
import { addTimeline } from '../incidents/store.ts';
import { destinationOf } from './destinations.ts';
import { secretRecheckAt, type DeliverDeps } from './deliver.ts';
import { notificationsFor, recipientDetail } from './message.ts';
import { DELIVERY_ATTEMPTS, retryDelayMs } from './retry.ts';

// Held updates one pass takes per channel: a 10k-node outage drains in one digest per channel,
// while memory stays bounded (the message itself lists 200, pages first, and counts the rest).
const DIGEST_ROWS = 20_000;

/**
 * One pass of the digest loop: every destination (a channel, or a person's mailbox) holding storm
 * updates whose digest is due gets one digest covering them. A digest succeeds or fails as a whole and is retried on the same schedule
 * as a single delivery (1 s doubling, capped), not once per pass; each row is dead after its own
 * 12 attempts, so an update that joined a failing digest late still gets its full share.
 *
 * Returns when the earliest failed digest is due again (undefined when none waits), so the loop
 * can wake for it instead of waiting a whole digest interval.
 */
export async function sendDigests(deps: DeliverDeps): Promise<Date | undefined> {
  const now = deps.clock.now();
  let next: Date | undefined;
  const later = (at: Date | undefined) => {
    if (at && (!next || at < next)) next = at;
  };
  for (const d of await digestDestinations(deps.sql)) {
    if (d.retry_at && d.retry_at > now) later(d.retry_at);
    else later(await sendDigest(deps, d, now));
  }
  return next;
}

/**
 * A destination's digest, in its own transaction holding that destination's lock, so two notifiers
 * never send the same digest and one slow destination holds back no other. The rows are marked
 * sent right after the destination accepted and committed before anything else: a crash before
 * that commit sends the digest again (an email digest keeps its Message-ID while it lists the same
 * updates). Each update in a digest carries its incident's acknowledge and resolve links, signed for
 * this destination, as the update would alone: a storm is when someone most needs to act from it;
 * the digest ends with the console's incident list, where the updates it only counts are.
 */
async function sendDigest(deps: DeliverDeps, d: DigestDestination, now: Date): Promise<Date | undefined> {
  const { clock } = deps;
  const outcome = await deps.sql.begin(async (tx) => {
    if (!(await tryDigestLock(tx, d.destination))) return undefined;
    const rows = await dueDigest(tx, d.destination, now, DIGEST_ROWS);
    if (rows.length === 0) return undefined;
    const destination = await destinationOf(tx, d.mailbox ? { channel_id: null, user_id: d.destination } : { channel_id: d.destination, user_id: null }, deps.secretKey);
    const ids = rows.map((r) => r.id);
    const notifications = 'gone' in destination ? [] : [...(await notificationsFor(deps.sql, rows, deps.links)).values()];
    if ('gone' in destination || destination.type === 'webhook' || destination.type === 'pagerduty' || notifications.length === 0) {
      await recordAttempts(tx, ids, { status: 'dead', error: 'gone' in destination ? destination.gone : 'nothing to send', at: clock.now() });
      deps.events?.emit('notification.result', rows[0]!.channel_type, 'dead', ids.length);
      return undefined;
    }
    let config: Record<string, unknown>;
    try {
      config = destination.open();
    } catch {
      // A secret this key cannot open: the digest waits unspent, as a single page does (SecretNotOpened).
      deps.events?.emit('notification.result', destination.type, 'held', ids.length);
      return { failed: secretRecheckAt(deps) };
    }
    try {
      const listUrl = deps.links ? incidentListUrl(deps.links.publicUrl) : undefined;
      await deps.channels[destination.type].sendDigest(notifications, config as never, clock.now(), listUrl);
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError(String(err), { permanent: false, code: 'internal' });
      return { failed: await recordDigestFailure(deps, tx, destination.type, rows, e) };
    }
    const at = clock.now();
    await recordAttempts(tx, ids, { status: 'sent', error: null, at });
    return { sent: { rows, at, type: destination.type } };
  });
  if (outcome?.sent) {
    const { rows, at, type } = outcome.sent;
    await addTimeline(
      deps.sql,
      rows.map((r) => ({ incident_id: r.incident_id, at, kind: 'notified', detail: { ...recipientDetail(r), channel_type: type, event: r.event, digest: true } })),
    );
    deps.events?.emit('notification.result', type, 'sent', rows.length);
  }
  return outcome?.failed;
}

/** Marks a failed digest's rows: dead when out of attempts (or refused for good), else when to retry. */
async function recordDigestFailure(deps: DeliverDeps, tx: Queryable, type: string, rows: DeliveryRow[], e: DeliveryError): Promise<Date | undefined> {
  const at = deps.clock.now();
  const error = `${e.code}: ${e.message}`;
  const attempts = rows.reduce((n, r) => Math.max(n, r.attempts), 0) + 1;
  const retryAt = new Date(at.getTime() + retryDelayMs(attempts, e, deps.retry));
  const dead = rows.filter((r) => e.permanent || r.attempts + 1 >= DELIVERY_ATTEMPTS).map((r) => r.id);
  const gone = new Set(dead);
  const failed = rows.filter((r) => !gone.has(r.id)).map((r) => r.id);
  await recordAttempts(tx, dead, { status: 'dead', error, at });
  await recordAttempts(tx, failed, { status: 'failed', error, at, retryAt });
  if (dead.length) deps.events?.emit('notification.result', type, 'dead', dead.length);
  if (failed.length) deps.events?.emit('notification.result', type, 'failed', failed.length);
  return failed.length ? retryAt : undefined;
}
