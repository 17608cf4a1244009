import type { Queryable, Tx } from '../db/client.ts';
import type { NewOutboxEvent, OutboxEvent } from './topics.ts';

/**
 * A claimed event and when it came due: its `available_at` (a timer's firing time, a retry's), or
 * when it was written if that was later. What its dispatch latency is measured from: a timer armed
 * an hour ahead is not an hour late. For an event never tried this is where the backlog gauge counts
 * lateness from too; for a retried one it is not: its latency counts from the retry's due time, while
 * the gauge counts it late from when it was written (outboxBacklog).
 */
export type ClaimedEvent = OutboxEvent & { due_at: Date };

export const OUTBOX_CHANNEL = 'lifeline_outbox';

/** Inserts in array order (ids follow it) and wakes the workers when the transaction commits. */
export async function insertOutbox(tx: Queryable, events: NewOutboxEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  await tx`
    insert into outbox (topic, key, payload, created_at, available_at)
    select topic, key, payload, ${now}, available_at
    from unnest(${events.map((e) => e.topic)}::text[], ${events.map((e) => e.key)}::text[],
                ${events.map((e) => JSON.stringify(e.payload))}::text[]::jsonb[],
                ${events.map((e) => (e.availableAt ?? now).toISOString())}::timestamptz[])
         with ordinality as e(topic, key, payload, available_at, ord)
    order by ord`;
  await tx`select pg_notify(${OUTBOX_CHANNEL}, '')`;
}

/**
 * Claims up to `limit` events that are the oldest pending event of their key, skipping rows other
 * workers hold. Each row is read as what its topic says (src/outbox/topics.ts), the shape every
 * producer writes. An event whose predecessor (same key) is still pending — claimed elsewhere, or
 * waiting for a retry — is not eligible, which is what keeps per-node order with many workers.
 * Only events of `topics` (those the caller handles) are claimed: during a rolling upgrade an
 * older process leaves an event of a topic it does not know, and the later events of its key, to
 * a newer one, instead of completing it unhandled.
 *
 * The claim reads what it takes, whatever the planner last learnt of the outbox: it never knows
 * the backlog when it matters (events live milliseconds, so the outbox is analysed near empty or not
 * at all, and a mass outage then writes 10,000 at once). The predecessor is a subquery probing the
 * key index for each event read, which the planner cannot turn into a join (as `not exists`, with
 * the outbox analysed while 20 events waited, a join filter read the whole key index for each
 * event: 610 ms a claim of 500 at 10,000 waiting, in a test). With bitmap scans and sorts off while
 * this statement is planned, then back to what they were, the only plan walks `outbox_available` in
 * order from the oldest due event and ends at `limit`: planned freely, a claim read, probed and
 * sorted every waiting event to lock 500 (40-180 ms a claim at load ~11). Ordering by due time, not
 * id, is what keeps the timers (escalation, ack timeouts, re-checks), which wait minutes to a day
 * with lower ids, out of the walk; per-key order comes from the predecessor check alone.
 * BENCHMARKS.md, 2026-12-08.
 */
export async function claimOutbox(tx: Tx, now: Date, limit: number, topics: readonly string[]): Promise<ClaimedEvent[]> {
  const [planner] = await tx<{ bitmap: string; sort: string }[]>`
    select was.bitmap, was.sort, set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)
    from (select current_setting('enable_bitmapscan') as bitmap, current_setting('enable_sort') as sort offset 0) as was`;
  const claimed = await tx<ClaimedEvent[]>`
    select o.id::text as id, o.topic, o.key, o.payload, o.created_at, o.attempts, greatest(o.created_at, o.available_at) as due_at
    from outbox o
    where o.available_at <= ${now}
      and o.topic = any(${topics as string[]}::text[])
      and o.id = (select p.id from outbox p where p.key = o.key order by p.id limit 1)
    order by o.available_at, o.id
    limit ${limit}
    for update skip locked`;
  await tx`select set_config('enable_bitmapscan', ${planner!.bitmap}, true), set_config('enable_sort', ${planner!.sort}, true)`;
  return claimed;
}

/** Claims one specific event again (the isolated retry path after a failed batch). */
export async function reclaimOutbox(tx: Queryable, id: string): Promise<ClaimedEvent | undefined> {
  const [row] = await tx<ClaimedEvent[]>`
    select o.id::text as id, o.topic, o.key, o.payload, o.created_at, o.attempts, greatest(o.created_at, o.available_at) as due_at
    from outbox o where o.id = ${id}
    for update skip locked`;
  return row;
}

/** Handled rows leave the hot table at once, keeping it small and its index scans short. */
export async function deleteOutbox(tx: Queryable, ids: string[]): Promise<void> {
  if (ids.length) await tx`delete from outbox where id = any(${ids}::bigint[])`;
}

/** Deletes the events of these keys that no worker holds: one being handled is left to its worker. */
export async function deleteUnclaimed(tx: Queryable, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx`delete from outbox where id in (select id from outbox where key = any(${keys}::text[]) for update skip locked)`;
}

export async function deferOutbox(tx: Queryable, id: string, availableAt: Date, error: string): Promise<void> {
  await tx`
    update outbox set attempts = attempts + 1, available_at = ${availableAt}, last_error = ${error}
    where id = ${id}`;
}

/** Moves waiting events to new times (escalation timers whose policy changed), in one statement. */
export async function retimeOutbox(tx: Queryable, list: Array<{ id: string; availableAt: Date }>): Promise<void> {
  if (list.length === 0) return;
  await tx`
    update outbox o set available_at = v.available_at
    from unnest(${list.map((r) => r.id)}::bigint[], ${list.map((r) => r.availableAt.toISOString())}::timestamptz[]) as v(id, available_at)
    where o.id = v.id`;
  await tx`select pg_notify(${OUTBOX_CHANNEL}, '')`;
}

export async function buryOutbox(tx: Queryable, id: string, error: string, now: Date): Promise<void> {
  await tx`
    with gone as (delete from outbox where id = ${id} returning *)
    insert into outbox_dead (id, topic, key, payload, created_at, attempts, last_error, died_at)
    select id, topic, key, payload, created_at, attempts + 1, ${error}, ${now} from gone`;
}

/** A parked event as stored; its topic may be one no handler of this version knows. */
export interface DeadEvent {
  id: string;
  topic: string;
  key: string;
  payload: Record<string, unknown>;
  created_at: Date;
  attempts: number;
  last_error: string | null;
  died_at: Date;
}

export async function listDeadOutbox(sql: Queryable, afterId: string | undefined, limit: number): Promise<DeadEvent[]> {
  return sql<DeadEvent[]>`
    select id::text as id, topic, key, payload, created_at, attempts, last_error, died_at from outbox_dead
    ${afterId !== undefined ? sql`where id > ${afterId}` : sql``}
    order by id limit ${limit}`;
}

/** What names a dead event in its audit row, besides its id. */
type DeadEventName = Pick<DeadEvent, 'topic' | 'key'>;

/**
 * Puts a dead event back with its original id, so it is again ordered before anything its key
 * produced after it died. Undefined when there is no such dead event.
 */
export async function replayDeadOutbox(tx: Queryable, id: string, now: Date): Promise<DeadEventName | undefined> {
  const [row] = await tx<DeadEventName[]>`
    with back as (delete from outbox_dead where id = ${id} returning *)
    insert into outbox (id, topic, key, payload, created_at, available_at, attempts, last_error)
    select id, topic, key, payload, created_at, ${now}, 0, last_error from back
    returning topic, key`;
  if (row) await tx`select pg_notify(${OUTBOX_CHANNEL}, '')`;
  return row;
}

/** A discarded dead event: its name, and the incident it was about (every `incident.*` payload names one). */
export type DiscardedEvent = DeadEventName & { incident_id: string | null };

/** Drops a dead event for good (its message is given up); undefined when there is no such dead event. */
export async function discardDeadOutbox(tx: Queryable, id: string): Promise<DiscardedEvent | undefined> {
  const [row] = await tx<DiscardedEvent[]>`delete from outbox_dead where id = ${id} returning topic, key, payload->>'incident_id' as incident_id`;
  return row;
}

/**
 * The outbox's backlog at `now`: events due and not handled (`pending`), the oldest one's lateness,
 * and the timers not due yet (`scheduled`). A timer is scheduled work, not late work: an escalation
 * level 900 s out, read 315 s after it was armed, is 0 s late, so it counts only from its
 * `available_at`, and only once that has come. An event that has failed (attempts > 0) was due
 * already; its retry moved `available_at` and the time it first came due is not kept, so it counts
 * as late from `created_at`: an event that keeps failing is what LifelineOutboxBacklogOld is for.
 */
export async function outboxBacklog(sql: Queryable, now: Date): Promise<{ pending: number; oldestSeconds: number; scheduled: number }> {
  const [row] = await sql<{ pending: number; oldest: Date | null; scheduled: number }[]>`
    select count(*) filter (where due)::int as pending,
           min(case when attempts > 0 then created_at else greatest(created_at, available_at) end) filter (where due) as oldest,
           count(*) filter (where not due)::int as scheduled
    from (select *, available_at <= ${now} or attempts > 0 as due from outbox) o`;
  const oldest = row?.oldest ? Math.max(0, (now.getTime() - row.oldest.getTime()) / 1000) : 0;
  return { pending: row?.pending ?? 0, oldestSeconds: oldest, scheduled: row?.scheduled ?? 0 };
}
