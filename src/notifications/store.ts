import type { Queryable } from '../db/client.ts';
import { DIGEST_LOCK_CLASS, STORM_LOCK_CLASS } from '../db/locks.ts';
import { deliveryId, destinationKey, isPageEvent, pageStep, type DeliveryRow, type NewDelivery, type QueuedDelivery, type Recipient } from './model.ts';
import type { HoldingIncident } from '../oncall/model.ts';

/**
 * Inserts what is not there yet (a redelivered event adds nothing) and returns the ids of new rows
 * to send on their own (digest rows wait for the digest).
 */
export async function insertDeliveries(tx: Queryable, ds: NewDelivery[], now: Date): Promise<string[]> {
  if (ds.length === 0) return [];
  // Only the ids to enqueue come back: in a storm most rows are held for the digest.
  const rows = await tx<{ id: string }[]>`
    with inserted as (
      insert into deliveries (id, incident_id, event, event_key, channel_id, user_id, channel_type, status, digest, occurred_at, created_at)
      select id, incident_id, event, event_key, channel_id, user_id, channel_type, 'pending', digest, occurred_at, ${now}
      from unnest(${ds.map((d) => deliveryId(d.incidentId, d.eventKey, d.channelId, d.userId ?? null))}::text[],
                  ${ds.map((d) => d.incidentId)}::uuid[], ${ds.map((d) => d.event)}::text[], ${ds.map((d) => d.eventKey)}::text[],
                  ${ds.map((d) => d.channelId)}::uuid[], ${ds.map((d) => d.userId ?? null)}::uuid[], ${ds.map((d) => d.channelType)}::text[],
                  ${tx.array(ds.map((d) => d.digest === true))}::bool[], ${ds.map((d) => d.occurredAt.toISOString())}::timestamptz[])
           as d(id, incident_id, event, event_key, channel_id, user_id, channel_type, digest, occurred_at)
      on conflict do nothing
      returning id, digest)
    select id from inserted where not digest`;
  return rows.map((r) => r.id);
}

// A destination (destinationKey) is a channel id, or the id of a person whose mailbox it is: the
// expression coalesce(channel_id, user_id), which the storm and digest indexes cover.

/**
 * Serialises storm counting per destination until the caller commits, so two workers fanning out
 * at once both see each other's rows and the threshold holds across workers. Sorted, so two
 * transactions taking several destinations cannot deadlock.
 */
export async function lockStormCounters(tx: Queryable, destinations: string[]): Promise<void> {
  if (destinations.length === 0) return;
  await tx`
    select pg_advisory_xact_lock(${STORM_LOCK_CLASS}, hashtext(id))
    from unnest(${[...destinations].sort()}::text[]) as id order by id`;
}

/**
 * Deliveries created for each of these destinations since `since` (the storm detector's window),
 * counted up to `cap`: the storm rule only asks whether a destination reached its threshold, and
 * an uncapped count read every row of the window. In a 10,000-node outage paging one email
 * channel, each batch counted all the pages the outage had already written to it, under the
 * storm lock every worker waits for: 28-31 ms at 9,500 fresh rows against 2-3 ms capped at 20 on a
 * copy of the ledger; ~60 ms less per 10,000 pages in the page path (ARCHITECTURE.md).
 */
export async function recentDeliveryCounts(tx: Queryable, destinations: string[], since: Date, cap: number): Promise<Map<string, number>> {
  if (destinations.length === 0) return new Map();
  const rows = await tx<{ destination: string; n: number }[]>`
    select d.id as destination, (
      select count(*)::int from (
        select from deliveries where coalesce(channel_id, user_id) = d.id and created_at > ${since} limit ${cap}) recent) as n
    from unnest(${destinations}::uuid[]) as d(id)`;
  return new Map(rows.map((r) => [r.destination, r.n]));
}

/** Only one notifier at a time sends a destination's digest; the lock ends with the transaction. */
export async function tryDigestLock(tx: Queryable, destination: string): Promise<boolean> {
  const [row] = await tx<{ ok: boolean }[]>`select pg_try_advisory_xact_lock(${DIGEST_LOCK_CLASS}, hashtext(${destination})) as ok`;
  return row?.ok === true;
}

/** A destination with held storm updates: a channel, or (`mailbox`) a person's email. */
export interface DigestDestination {
  destination: string;
  mailbox: boolean;
  /** When its digest may be retried: null when none of its rows waits for a retry (it goes out on the next pass). */
  retry_at: Date | null;
}

export async function digestDestinations(sql: Queryable): Promise<DigestDestination[]> {
  return sql<DigestDestination[]>`
    select coalesce(channel_id, user_id)::text as destination, bool_or(channel_id is null) as mailbox, max(next_attempt_at) as retry_at
    from deliveries
    where digest and status in ('pending', 'failed')
    group by 1`;
}

/**
 * A destination's held updates, oldest first (at most `limit`), when its digest is due at `now`;
 * none while a failed digest of it waits for its retry (checked again under the destination's
 * lock, since another notifier may have just tried). An acknowledgement, resolve or later level one of whose
 * earlier pages to this destination went out alone and is still being retried stays held for a later digest, as it would wait behind its
 * page if it were sent alone: no RESOLVED mail before its DOWN, no level 2 before level 1.
 */
export async function dueDigest(tx: Queryable, destination: string, now: Date, limit: number): Promise<DeliveryRow[]> {
  return tx<DeliveryRow[]>`
    select * from deliveries d
    where coalesce(d.channel_id, d.user_id) = ${destination}::uuid and d.digest and d.status in ('pending', 'failed')
      and not exists (
        select 1 from deliveries
        where coalesce(channel_id, user_id) = ${destination}::uuid and digest and status = 'failed' and next_attempt_at > ${now}
      )
      and not (d.event <> 'opened' and exists (
        select 1 from deliveries page
        where page.incident_id = d.incident_id and coalesce(page.channel_id, page.user_id) = ${destination}::uuid
          and page.event in ('opened', 'escalated')
          and not page.digest and page.status in ('pending', 'failed')
          and case when d.event = 'escalated' then ${stepOf(tx, 'page')} < ${stepOf(tx, 'd')} else page.created_at <= d.created_at end
      ))
    order by d.created_at, d.id limit ${limit}`;
}

/**
 * Records one attempt's outcome on these rows (one delivery, or every row of a digest); final rows
 * stay final. A failed attempt says when the next one is due (`retryAt`). The outcome ends the
 * row's lease; given the sender's `lease` token, it is recorded only while no other sender has
 * taken the row over (its lease lapsed and another took it: that sender's outcome counts); without
 * one, only on rows no sender holds (a live holder's outcome counts). Returns the rows recorded.
 */
export async function recordAttempts(
  sql: Queryable,
  ids: string[],
  outcome: { status: 'sent' | 'dead'; error: string | null; at: Date } | { status: 'failed'; error: string; at: Date; retryAt: Date },
  lease?: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  // A read batch leases all its rows under one token: with several ids, one send's outcome would
  // land on rows other sends of its batch still hold. Only a row of its own, then.
  if (lease !== undefined && ids.length !== 1) throw new Error('recordAttempts: a lease token goes with exactly one delivery');
  const { count } = await sql`
    update deliveries set
      status = ${outcome.status},
      attempts = attempts + 1,
      last_error = ${outcome.error},
      sent_at = ${outcome.status === 'sent' ? outcome.at : null},
      next_attempt_at = ${outcome.status === 'failed' ? outcome.retryAt : null},
      lease_until = null, lease_token = null
    where id = any(${ids}::text[]) and status not in ('sent', 'dead')
      and ((${lease ?? null}::uuid is null and (lease_until is null or lease_until <= now())) or lease_token = ${lease ?? null}::uuid)`;
  return count;
}

export type LeasedRead = DeliveryRow & { leased: boolean; lease_left_ms: number };

/**
 * Leases the unfinished rows among `ids` whose lease is absent or lapsed to `token` (the read
 * batch's own, so it can give them back by it without this statement's reply), for `leaseMs` of
 * Postgres's clock, and reads every row (`leased` says which it took). Compare and set
 * in one statement: of two senders reading one row at once, the second waits for the first's row
 * lock, finds the lease taken and leaves the row. A row taken since this statement's snapshot reads
 * as not leased here; so does a final one. `lease_left_ms` is how long another sender's lease still
 * runs as this statement saw it (0 when it saw none).
 */
export async function leaseDeliveries(sql: Queryable, ids: string[], leaseMs: number, token: string): Promise<Map<string, LeasedRead>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<LeasedRead[]>`
    with leased as (
      update deliveries set lease_until = now() + ${leaseMs} * interval '1 millisecond', lease_token = ${token}::uuid
      where id = any(${ids}::text[]) and status not in ('sent', 'dead') and (lease_until is null or lease_until <= now())
      returning *)
    select *, true as leased, 0 as lease_left_ms from leased
    union all
    select *, false, coalesce(greatest(0, ceil(extract(epoch from lease_until - now()) * 1000)), 0)::int
    from deliveries where id = any(${ids}::text[]) and id not in (select id from leased)`;
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Gives up leases that were not used (a send put back unstarted, a read batch that failed after
 * taking them), each only while its token still holds the row, so the row's next run need not wait
 * ~120 s for it to lapse.
 */
export async function releaseLeases(sql: Queryable, leases: { id: string; token: string }[]): Promise<void> {
  if (leases.length === 0) return;
  await sql`
    update deliveries set lease_until = null, lease_token = null
    from unnest(${leases.map((l) => l.id)}::text[], ${leases.map((l) => l.token)}::uuid[]) as l(id, token)
    where deliveries.id = l.id and deliveries.lease_token = l.token`;
}

/**
 * Marks these rows sent, each at the moment its channel accepted it, in one statement; final rows
 * stay final (a row already sent by a duplicate job keeps its first time and attempt count). The
 * lease ends whoever holds it: the receiver has the message, so no one may send it again.
 */
export async function recordSent(sql: Queryable, sent: { id: string; at: Date }[]): Promise<void> {
  if (sent.length === 0) return;
  await sql`
    update deliveries set status = 'sent', attempts = attempts + 1, last_error = null, sent_at = s.at, next_attempt_at = null,
      lease_until = null, lease_token = null
    from unnest(${sent.map((s) => s.id)}::text[], ${sent.map((s) => s.at.toISOString())}::timestamptz[]) as s(id, at)
    where deliveries.id = s.id and deliveries.status not in ('sent', 'dead')`;
}

/**
 * Destinations paged (or being paged) for each incident: whom its answers must reach, each once,
 * as the row that first paged it (a channel paged on level 0 and later as a person's own channel
 * is answered as level 0's channel), in the order they were first paged. Every page to a
 * destination holds the answer back alike (earlierPageInFlight), whichever row it is answered as.
 */
export async function toldRecipients(tx: Queryable, incidentIds: string[]): Promise<Map<string, Recipient[]>> {
  if (incidentIds.length === 0) return new Map();
  const rows = await tx<(Recipient & { incident_id: string })[]>`
    select incident_id, channel_id, user_id, channel_type from (
      select distinct on (incident_id, coalesce(channel_id, user_id)) incident_id, channel_id, user_id, channel_type, created_at, id
      from deliveries
      where incident_id = any(${incidentIds}::uuid[]) and event in ('opened', 'escalated')
      order by incident_id, coalesce(channel_id, user_id), created_at, id) first
    order by incident_id, created_at, id`;
  const out = new Map<string, Recipient[]>();
  for (const { incident_id, ...r } of rows) {
    const list = out.get(incident_id);
    if (list) list.push(r);
    else out.set(incident_id, [r]);
  }
  return out;
}

/**
 * The name now of the node of incident `h` (a refusal's row, joined to `nodes n`), as the
 * incident's console page shows it; the name it opened with once the node is deleted. Joined
 * after the limit: a channel paged for thousands of open incidents in a storm looks up the nodes
 * of the NAMED_INCIDENTS it names, not of all of them.
 */
const nodeNow = (sql: Queryable) => sql`coalesce(n.name, h.node_name)`;

/**
 * Open incidents whose ledger holds a page to this channel or person (by `channel_id` or
 * `user_id`), oldest first, at most `limit` of them, each with the count of all. Their resolves go
 * to what the ledger says was paged (toldRecipients), so while one is listed the destination must
 * stay. Walks the open incidents (the partial index `incidents_one_open`) and probes each one's
 * ledger rows by its `(incident_id, …)` unique index: no index on the destination is needed.
 */
export async function openIncidentsPaging(
  sql: Queryable,
  field: 'channel_id' | 'user_id',
  id: string,
  limit: number,
): Promise<HoldingIncident[]> {
  return sql<HoldingIncident[]>`
    select h.id, h.name, ${nodeNow(sql)} as node, h.total
    from (
      select i.id, i.title as name, i.node_id, i.node_name, (count(*) over ())::int as total, i.opened_at
      from incidents i
      where i.status <> 'resolved'
        and exists (
          select 1 from deliveries d
          where d.incident_id = i.id and d.${sql(field)} = ${id} and d.event in ('opened', 'escalated'))
      order by i.opened_at, i.id
      limit ${limit}) h
    left join nodes n on n.id = h.node_id
    order by h.opened_at, h.id`;
}

/**
 * Matches an incident event (row `o` of `outbox` or `outbox_dead`) that will message this channel
 * or person when handled: a page whose recipients name it, or an answer (acknowledged, resolved)
 * to an incident whose ledger paged it.
 */
function eventMessages(sql: Queryable, field: 'channel_id' | 'user_id', id: string) {
  const named =
    field === 'channel_id'
      ? sql`o.payload->'recipients'->'channel_ids' ? ${id}`
      : sql`o.payload->'recipients'->'users' @> ${sql.json([{ user_id: id }])}`;
  return sql`o.topic in ('incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved')
    and (${named} or exists (
      select 1 from deliveries d
      where d.incident_id = (o.payload->>'incident_id')::uuid and d.${sql(field)} = ${id} and d.event in ('opened', 'escalated')))`;
}

/**
 * Incidents that still owe this channel or person a message (by `channel_id` or `user_id`), oldest
 * first, at most `limit` of them, each with the count of all: a message to it in the ledger not yet
 * final (pending, or failed and to be retried: its address is read when it is sent), or an incident
 * event still in the outbox that will write one (eventMessages). A resolved incident is no longer
 * open (openIncidentsPaging), yet its resolve is first such an event, then a row that may wait
 * minutes behind a page being retried; deleting the destination meanwhile would kill it.
 * The ledger is probed by the destination index (`deliveries_destination_recent`: a person's own
 * address is the row with no channel); the outbox holds only events not yet handled.
 */
function incidentsOwing(sql: Queryable, field: 'channel_id' | 'user_id', id: string, limit: number) {
  return sql`
    select i.id, i.title as name, i.node_id, i.node_name, (count(*) over ())::int as total, i.opened_at
    from incidents i
    where i.id in (
      select d.incident_id from deliveries d
      where coalesce(d.channel_id, d.user_id) = ${id} and d.status in ('pending', 'failed')
      union
      select (o.payload->>'incident_id')::uuid from outbox o where ${eventMessages(sql, field, id)})
    order by i.opened_at, i.id
    limit ${limit}`;
}

/**
 * The `incident.resolved` event of incident `i` (the enclosing query's alias) in `events`, probed
 * by node (the events' key: `outbox_key_id`).
 */
function resolveIn(sql: Queryable, events: 'outbox' | 'outbox_dead') {
  return sql`select 1 from ${sql(events)} r where r.key = i.node_id::text and r.topic = 'incident.resolved' and r.payload->>'incident_id' = i.id::text`;
}

/**
 * Matches incident `i` (the enclosing query's alias) when a page of it (opened, escalated) handled
 * now is left unsent: the incident is resolved and its resolve no longer waits in the outbox. A
 * page of a resolved incident handled while its resolve waits behind it (a node that recovered
 * while its escalation was being handled) is sent, and its resolve follows; one handled after the
 * resolve went (a dead page replayed: a dead event no longer holds back its key) is not. The one
 * rule for both the fan-out (pagesLeftUnsent) and a deletion (parkedEventsMessaging).
 *
 * `locked` reads the resolve FOR SHARE, as the fan-out must: a resolve being handled right now
 * (its worker holds its row, the row's delete not committed) has already chosen whom to tell,
 * without this page. Read unlocked it would count as waiting and the page be sent after it;
 * locked, this waits for that commit and then finds it gone.
 */
function pageAfterResolve(sql: Queryable, locked: boolean) {
  return sql`i.status = 'resolved' and not exists (${resolveIn(sql, 'outbox')} ${locked ? sql`for share` : sql``})`;
}

/** Of these incidents, those whose pages handled now are left unsent (pageAfterResolve). */
export async function pagesLeftUnsent(tx: Queryable, incidentIds: string[]): Promise<Set<string>> {
  if (incidentIds.length === 0) return new Set();
  const rows = await tx<{ id: string }[]>`
    select i.id from incidents i where i.id = any(${[...new Set(incidentIds)]}::uuid[]) and ${pageAfterResolve(tx, true)}`;
  return new Set(rows.map((r) => r.id));
}

/**
 * Dead outbox events (parked after failing, replayable: POST /v1/outbox/dead/{id}/replay) that
 * will message this channel or person once replayed (eventMessages), oldest first, at most `limit`,
 * each with its incident and the count of all. Their fan-out reads the destination when it runs,
 * so a destination deleted meanwhile loses the message: a page leaves it out, a resolve dies
 * `channel_deleted` / `user_deleted`. `outbox_dead` holds only what an operator has not replayed.
 *
 * Left out: a dead page that, replayed, would be left unsent (pageAfterResolve, the fan-out's
 * rule) and can only ever be, because its incident's resolve is in neither table: it went out, and
 * nothing puts it back. A resolve still parked may be replayed first and wait in the outbox (a
 * receiver still failing retries it for minutes), and a page replayed meanwhile is handled before
 * it (its id is older) and sent, so that page still counts. A dead resolve or acknowledgement
 * always counts: it is the message owed.
 */
function parkedEventsMessaging(sql: Queryable, field: 'channel_id' | 'user_id', id: string, limit: number) {
  return sql`
    select o.id::text as event_id, i.id, i.title as name, i.node_id, i.node_name, (count(*) over ())::int as total
    from outbox_dead o
    join incidents i on i.id = (o.payload->>'incident_id')::uuid
    where ${eventMessages(sql, field, id)}
      and not (o.topic in ('incident.opened', 'incident.escalated')
        and ${pageAfterResolve(sql, false)} and not exists (${resolveIn(sql, 'outbox_dead')}))
    order by o.id
    limit ${limit}`;
}

/**
 * What still owes this channel or person a message (incidentsOwing) and the dead events that
 * would message it once replayed (parkedEventsMessaging), read in ONE statement, so from one
 * snapshot. A replay moves its event from `outbox_dead` to `outbox` in one commit: read in two
 * statements, a replay committing between them was in neither (the outbox read before it, the
 * dead events after), and the deletion went through while the replayed event still owed the
 * destination a message (its resolve then died `channel_deleted` / `user_deleted`). One snapshot
 * sees the event in exactly one of the two tables.
 */
export async function owedOrParked(
  sql: Queryable,
  field: 'channel_id' | 'user_id',
  id: string,
  limit: number,
): Promise<{ owing: HoldingIncident[]; parked: Array<HoldingIncident & { event_id: string }> }> {
  const [row] = await sql<Array<{ owing: HoldingIncident[]; parked: Array<HoldingIncident & { event_id: string }> }>>`
    with owing as (${incidentsOwing(sql, field, id, limit)}),
         parked as (${parkedEventsMessaging(sql, field, id, limit)})
    select
      (select coalesce(json_agg(json_build_object('id', h.id, 'name', h.name, 'node', ${nodeNow(sql)}, 'total', h.total) order by h.opened_at, h.id), '[]')
        from owing h left join nodes n on n.id = h.node_id) as owing,
      (select coalesce(json_agg(json_build_object('event_id', h.event_id, 'id', h.id, 'name', h.name, 'node', ${nodeNow(sql)}, 'total', h.total) order by h.event_id::bigint), '[]')
        from parked h left join nodes n on n.id = h.node_id) as parked`;
  return row!;
}

/**
 * Records when each row's job was first added. Adding it again (the sweeper giving a new or
 * emptied job store every unfinished row) keeps the first time and writes no row: a resync during
 * a 10,000-node outage re-added ~7,300 pages still waiting to be sent, rewrote each of them and
 * moved their `enqueued_at` seconds past the moment they were really enqueued.
 */
export async function markEnqueued(sql: Queryable, ids: string[], now: Date): Promise<void> {
  if (ids.length) await sql`update deliveries set enqueued_at = ${now} where id = any(${ids}::text[]) and enqueued_at is null`;
}

/**
 * Unfinished deliveries that never reached the queue (Redis was down, or the process died right
 * after the commit), created before `freshBefore`; newer ones are normally being enqueued.
 */
export async function deliveriesNeverEnqueued(sql: Queryable, freshBefore: Date, limit: number): Promise<QueuedDelivery[]> {
  return sql<QueuedDelivery[]>`
    select id, next_attempt_at from deliveries
    where status in ('pending', 'failed') and not digest and enqueued_at is null and created_at <= ${freshBefore}
    order by created_at limit ${limit}`;
}

/** Every unfinished delivery sent on its own, a page at a time in id order (after `afterId`). */
export async function unfinishedDeliveries(sql: Queryable, afterId: string, limit: number): Promise<QueuedDelivery[]> {
  return sql<QueuedDelivery[]>`
    select id, next_attempt_at from deliveries
    where status in ('pending', 'failed') and not digest and id > ${afterId}
    order by id limit ${limit}`;
}

/**
 * Unfinished deliveries sent on their own whose job should have tried them by `dueBefore`: enqueued,
 * and due (their `next_attempt_at`, or their enqueue for a first attempt) before it; at most
 * `limit`, in id order after `afterId`.
 *
 * The unfinished rows are read first (the `deliveries_unfinished` index), then filtered and sorted:
 * left to itself the planner walks the primary key in id order through every row ever sent,
 * expecting 100 matches early, and when none is overdue that took 215 ms of backend CPU a pass
 * on 400,000 sent rows, against 2-3 ms this way with 10,000 unfinished.
 */
export async function overdueDeliveries(sql: Queryable, dueBefore: Date, afterId: string, limit: number): Promise<QueuedDelivery[]> {
  return sql<QueuedDelivery[]>`
    with unfinished as materialized (
      select id, next_attempt_at, enqueued_at from deliveries where status in ('pending', 'failed') and not digest)
    select id, next_attempt_at from unfinished
    where enqueued_at is not null and coalesce(next_attempt_at, enqueued_at) <= ${dueBefore} and id > ${afterId}
    order by id limit ${limit}`;
}

/** Unfinished deliveries and the age of the oldest, for the backlog gauges. */
export async function deliveryBacklog(sql: Queryable, now: Date): Promise<{ pending: number; oldestSeconds: number }> {
  const [row] = await sql<{ pending: number; oldest: Date | null }[]>`
    select count(*)::int as pending, min(created_at) as oldest from deliveries where status in ('pending', 'failed')`;
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ? Math.max(0, (now.getTime() - row.oldest.getTime()) / 1000) : 0 };
}

/**
 * Of an incident's pages (the ledger rows in scope), those before `d`: for a page (an escalation),
 * those of earlier steps, so level 1 never reaches a channel before the opening page it follows
 * (their retries are timed apart: level 1 accepted 4 s before level 0 after a 30 s outage of the
 * receiver). By step, not by created_at: two pages of one incident fanned out in one transaction
 * share it, and would each wait for the other. For an answer, every page written up to it.
 */
const pagedBefore = (sql: Queryable, d: DeliveryRow) =>
  isPageEvent(d.event) ? sql`${stepOf(sql)} < ${pageStep(d.event_key)}` : sql`created_at <= ${d.created_at}`;

/** A page row's escalation step in SQL, as pageStep reads it: `opened` is 0, `escalated-<step>` its step. */
const stepOf = (sql: Queryable, alias?: string) => {
  const key = alias ? sql`${sql(alias)}.event_key` : sql`event_key`;
  return sql`(case when ${key} = 'opened' then 0 else split_part(${key}, '-', 2)::int end)`;
};

/**
 * Whether an earlier page (opened/escalated) to the same destination is still in flight, whichever
 * person it was for: a resolve, an acknowledgement or a later level's page must not overtake any page it follows (one
 * answer goes to a channel paged both as a level's channel and as a person's own). When one is, `retryAt` is the latest time
 * one of them is due to be tried again (null while none has failed yet: a page pending its first
 * attempt may finish any moment). Nothing can change before then, so the answer waits until then
 * instead of asking every second: over a page's whole retry schedule (about 27 minutes) that is
 * about 24 queries for its answer instead of about 3,200, for each of 10,000 answers after a mass
 * outage whose receiver is down.
 */
export async function earlierPageInFlight(sql: Queryable, d: DeliveryRow): Promise<{ retryAt: Date | null } | undefined> {
  const [row] = await sql<{ waiting: number; retry_at: Date | null }[]>`
    select count(*)::int as waiting, max(next_attempt_at) filter (where status = 'failed') as retry_at
    from deliveries
    where incident_id = ${d.incident_id} and coalesce(channel_id, user_id) = ${destinationKey(d)}::uuid
      and event in ('opened', 'escalated')
      and status in ('pending', 'failed') and id <> ${d.id} and ${pagedBefore(sql, d)}`;
  return row && row.waiting > 0 ? { retryAt: row.retry_at } : undefined;
}

export async function listDeliveries(sql: Queryable, incidentId: string): Promise<DeliveryRow[]> {
  return sql<DeliveryRow[]>`select * from deliveries where incident_id = ${incidentId} order by created_at, id`;
}
