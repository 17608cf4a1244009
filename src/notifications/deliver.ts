import { setTimeout as delay } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import { sendOver, type ChannelRegistry } from '../../alerting/index.ts';
import { asDeliveryError, NotStarted, DeliveryError } from '../../alerting/errors.ts';
import type { Clock } from '../clock.ts';
import type { Events } from '../events.ts';
import type { Sql } from '../db/client.ts';
import { addTimeline } from '../incidents/store.ts';
import { DeliveryLedger, type Lease, type LedgerEntry } from './ledger.ts';
import { recipientDetail, type LinkSigning } from './message.ts';
import type { DeliveryRow } from './model.ts';
import { DELIVERY_ATTEMPTS, retryDelayMs, type RetrySchedule } from './retry.ts';
import { earlierPageInFlight, recordAttempts } from './store.ts';

/**
 * A job the worker puts back in the queue without spending one of its attempts, to run again at
 * `retryAt` (null: a backoff step from now). Nothing was sent.
 */
export class PutBack extends Error {
  constructor(
    readonly retryAt: Date | null,
    message: string,
  ) {
    super(message);
    this.name = 'PutBack';
  }
}

/**
 * An answer (acknowledged, resolved) or a later level's page whose earlier page to the same channel is still being retried: put
 * back, however long the page's own retries take, until after the page's next attempt (`retryAt`;
 * null when it has not failed yet).
 */
export class WaitingForPage extends PutBack {
  constructor(retryAt: Date | null) {
    super(retryAt, 'waiting for the earlier page to this channel to finish');
    this.name = 'WaitingForPage';
  }
}

/**
 * A row whose channel secret this process's key cannot open (LIFELINE_SECRET_KEY is not the key it
 * was sealed with, or the sealed value is damaged): no receiver was asked, and no retry by this
 * process could do better, so it spends no attempt (12 would be gone in minutes, the page dead).
 * It is looked at again every SECRET_RECHECK_MS (capped by the retry schedule's cap), by whichever
 * notifier takes it: one whose key opens it (an older one still running during a rolling restart,
 * this one restarted with the right key) sends it.
 */
export class SecretNotOpened extends PutBack {
  constructor(
    retryAt: Date,
    /** The channel whose secret to set again (or whose key to restore): what the operator fixes. */
    readonly channelId: string | null,
  ) {
    super(retryAt, 'the channel secret cannot be opened with this process’s LIFELINE_SECRET_KEY');
    this.name = 'SecretNotOpened';
  }
}

/**
 * How often a row held for its secret is looked at again: pages go out within 30 s of a notifier
 * with the right key taking the queue, and 1,000 held rows cost ~33 ledger reads a second meanwhile.
 */
const SECRET_RECHECK_MS = 30_000;

/** A row another sender's lease holds: looked at again once that lease could have ended (`retryAt`). */
export class HeldElsewhere extends PutBack {
  constructor(retryAt: Date) {
    super(retryAt, 'another sender holds the delivery');
    this.name = 'HeldElsewhere';
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
  /** The ledger reads and `sent` marks shared by the sends in flight; one of its own when absent. */
  ledger?: DeliveryLedger;
}

/**
 * One attempt at one ledger row. Sent and dead rows are final and never sent again, whatever
 * BullMQ does (a duplicate job, a stalled job re-run). The attempt is numbered from the ledger, not
 * the job, so a job added again after Redis lost it neither restarts the count nor the backoff.
 *
 * Only the sender whose read leased the row sends it (DeliveryLedger): a job run twice at once (its
 * lock lapsed and another worker took it, or the sweeper revived it while its first run was only
 * blocked) finds the row held and is put back unspent until the lease could have ended. A send
 * that could not start before its lease nears its end, or before the process stops, gives the
 * lease back and is put back too: it sent nothing. So is a run that comes round before the row's
 * recorded next attempt (`next_attempt_at`), and every run once the ledger is stopping (it takes
 * no lease then).
 *
 * Delivery is at least once: the row is marked sent by the first statement after the channel
 * accepted the message, but a crash between the two sends it again once the lease has lapsed,
 * with the same webhook-id / Message-ID / dedup_key, so a receiver can drop the duplicate.
 */
export async function deliver(deps: DeliverDeps, id: string): Promise<void> {
  const { clock } = deps;
  const ledger = deps.ledger ?? new DeliveryLedger(deps);
  const entry = await ledger.read(id);
  if (!entry) throw new UnrecoverableError(`delivery ${id} does not exist`);
  if ('stopping' in entry) throw new PutBack(null, 'the notifier is stopping');
  if (entry.final) return;
  if (!entry.lease) throw new HeldElsewhere(new Date(clock.now().getTime() + entry.heldForMs));
  try {
    await attempt(deps, ledger, entry);
  } finally {
    // Its batch's start window is kept only while one of its sends may still wait for it; a run
    // that ended without asking `mayStart` (put back or marked dead before its send, or refused by
    // its channel before any wait) says so here.
    ledger.leave(entry.lease);
  }
}

/** The attempt of a run whose read leased its row. */
async function attempt(deps: DeliverDeps, ledger: DeliveryLedger, entry: Extract<LedgerEntry, { lease: Lease }>): Promise<void> {
  const { sql, clock } = deps;
  const { row: d, lease, destination, notification } = entry;
  const id = d.id;
  // Whatever ends the run before its send starts gives the lease back, so the row's next run need
  // not wait ~120 s for it to lapse.
  try {
    if (d.status === 'failed' && d.next_attempt_at && d.next_attempt_at > clock.now()) {
      // A run put back earlier (the row was held) comes round before the retry its holder recorded
      // (a 429's Retry-After, say): the receiver is not asked sooner than it said.
      throw new PutBack(d.next_attempt_at, 'the delivery’s next attempt is not due yet');
    }
    // Every update after the opening page waits for the pages before it to the same channel: an
    // answer for the page it answers, a later level for the earlier ones (retried on their own
    // schedules, level 1 otherwise lands first when the channel comes back).
    if (d.event !== 'opened') {
      // An answer to a channel whose secret this key cannot open is held as its page is, every
      // 30 s: waiting for the page instead, it would be put back every second (a held page stays
      // pending, with no retry time to wait for), 1,000 passes a second for 1,000 such answers.
      if (!('gone' in destination) && notification) heldForSecret(deps, d, destination);
      const page = await earlierPageInFlight(sql, d);
      if (page) throw new WaitingForPage(page.retryAt);
    }
    if ('gone' in destination || !notification) {
      const error = 'gone' in destination ? destination.gone : 'incident_deleted';
      if (await recordAttempts(sql, [id], { status: 'dead', error, at: clock.now() }, lease.token)) deps.events?.emit('notification.result', d.channel_type, 'dead', 1);
      return;
    }
  } catch (err) {
    await giveBack(ledger, id, lease);
    throw err;
  }
  try {
    // A config that does not open for good (revealConfig's DeliveryError) is this attempt's failure.
    const config = openConfig(deps, d, destination);
    await sendOver(deps.channels, destination.type, notification, config, clock.now(), lease);
  } catch (err) {
    if (err instanceof SecretNotOpened) {
      await giveBack(ledger, id, lease);
      throw err;
    }
    if (err instanceof NotStarted) {
      await giveBack(ledger, id, lease);
      throw new PutBack(null, err.message);
    }
    const e = asDeliveryError(err);
    const attemptNo = d.attempts + 1;
    const final = e.permanent || attemptNo >= DELIVERY_ATTEMPTS;
    const at = clock.now();
    const error = `${e.code}: ${e.message}`;
    const delayMs = retryDelayMs(attemptNo, e, deps.retry);
    const recorded = await recordAttempts(sql, [id], final ? { status: 'dead', error, at } : { status: 'failed', error, at, retryAt: new Date(at.getTime() + delayMs) }, lease.token);
    // Its lease lapsed and another sender took the row: that sender's outcome is the row's, and
    // this attempt, never recorded, is neither on the timeline nor counted.
    if (recorded === 0) return;
    await addTimeline(sql, [
      { incident_id: d.incident_id, at, kind: 'delivery_failed', detail: { ...recipientDetail(d), event: d.event, attempt: attemptNo, error: e.code, final } },
    ]);
    deps.events?.emit('notification.result', d.channel_type, final ? 'dead' : 'failed', 1);
    if (final) throw new UnrecoverableError(error);
    throw new RetryLater(delayMs, e);
  }
  // Nothing between the channel accepting and this write but the wait for the turn's batch: it is
  // the duplicate window.
  const at = clock.now();
  await markSentPatiently(ledger, d, at);
  deps.events?.emit('notification.result', d.channel_type, 'sent', 1, (at.getTime() - d.occurred_at.getTime()) / 1000);
}

/**
 * The config the row's channel sends with, its secret opened; SecretNotOpened when the key cannot
 * open the secret. A DeliveryError (a URL that does not open although the secret did: no key
 * would) is passed on, to fail the delivery.
 */
function openConfig(deps: DeliverDeps, d: DeliveryRow, destination: { open(): Record<string, unknown> }): Record<string, unknown> {
  try {
    return destination.open();
  } catch (err) {
    if (err instanceof DeliveryError) throw err;
    deps.events?.emit('notification.result', d.channel_type, 'held', 1);
    throw new SecretNotOpened(secretRecheckAt(deps), d.channel_id);
  }
}

/**
 * SecretNotOpened when the key cannot open the row's channel secret, before anything else is
 * looked at; a config that does not open for good is left to the send, which fails the attempt.
 */
function heldForSecret(deps: DeliverDeps, d: DeliveryRow, destination: { open(): Record<string, unknown> }): void {
  try {
    openConfig(deps, d, destination);
  } catch (err) {
    if (err instanceof SecretNotOpened) throw err;
  }
}

/** When a row held for its secret is looked at again (SECRET_RECHECK_MS, within the retry cap). */
export function secretRecheckAt(deps: Pick<DeliverDeps, 'clock' | 'retry'>): Date {
  return new Date(deps.clock.now().getTime() + Math.min(SECRET_RECHECK_MS, deps.retry.capMs));
}

// Giving an unused lease back only spares the row's next run the wait for it to lapse: when the
// database cannot take it now, the lease lapses on its own and the job is still put back unspent.
async function giveBack(ledger: DeliveryLedger, id: string, lease: Lease): Promise<void> {
  await ledger.release(id, lease).catch(() => undefined);
}

// Once the receiver has the message, only the ledger write stands between it and a second copy
// (the job's retry would send it again). A database hiccup there (a dropped connection, Postgres at
// its connection limit) is waited out: 7 tries over about 6 s, well inside the job's lock, before
// the duplicate is left to the at-least-once contract. The write is idempotent: a row already
// marked final stays as it is.
const SENT_WRITE_TRIES = 7;
const SENT_WRITE_FIRST_WAIT_MS = 100;

async function markSentPatiently(ledger: DeliveryLedger, d: DeliveryRow, at: Date): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ledger.markSent(d, at);
      return;
    } catch (err) {
      if (attempt >= SENT_WRITE_TRIES) throw err;
      await delay(SENT_WRITE_FIRST_WAIT_MS * 2 ** (attempt - 1));
    }
  }
}
