import type { Queryable } from './client.ts';
import { LOCKS, STORM_LOCK_CLASS } from './locks.ts';
import type { IncidentEvent } from '../../alerting/message.ts';

export type DeliveryStatus = 'pending' | 'sent' | 'failed' | 'dead';

export interface DeliveryRow {
  id: string;
  incident_id: string;
  event: IncidentEvent;
  event_key: string;
  channel_id: string;
  channel_type: string;
  status: DeliveryStatus;
  digest: boolean;
  attempts: number;
  last_error: string | null;
  occurred_at: Date;
  created_at: Date;
  enqueued_at: Date | null;
  sent_at: Date | null;
}

export interface NewDelivery {
  incidentId: string;
  event: IncidentEvent;
  eventKey: string;
  channelId: string;
  channelType: string;
  occurredAt: Date;
  /** Held for the channel's storm digest instead of being sent alone. */
  digest?: boolean;
}

/** The ledger key, also the BullMQ job id and the webhook-id: stable across every retry. */
export function deliveryId(incidentId: string, eventKey: string, channelId: string): string {
  return `${incidentId}.${eventKey}.${channelId}`;
}

/**
 * Inserts what is not there yet (a redelivered event adds nothing) and returns the ids of new rows
 * to send on their own (digest rows wait for the digest).
 */
export async function insertDeliveries(tx: Queryable, ds: NewDelivery[], now: Date): Promise<string[]> {
  if (ds.length === 0) return [];
  const rows = await tx<{ id: string; digest: boolean }[]>`
    insert into deliveries (id, incident_id, event, event_key, channel_id, channel_type, status, digest, occurred_at, created_at)
    select id, incident_id, event, event_key, channel_id, channel_type, 'pending', digest, occurred_at, ${now}
    from unnest(${ds.map((d) => deliveryId(d.incidentId, d.eventKey, d.channelId))}::text[],
                ${ds.map((d) => d.incidentId)}::uuid[], ${ds.map((d) => d.event)}::text[], ${ds.map((d) => d.eventKey)}::text[],
                ${ds.map((d) => d.channelId)}::uuid[], ${ds.map((d) => d.channelType)}::text[],
                ${tx.array(ds.map((d) => d.digest === true))}::bool[], ${ds.map((d) => d.occurredAt.toISOString())}::timestamptz[])
         as d(id, incident_id, event, event_key, channel_id, channel_type, digest, occurred_at)
    on conflict do nothing
    returning id, digest`;
  return rows.filter((r) => !r.digest).map((r) => r.id);
}


/**
 * Serialises storm counting per channel until the caller commits, so two workers fanning out at
 * once both see each other's rows and the threshold holds across workers. Sorted, so two
 * transactions taking several channels cannot deadlock.
 */
export async function lockStormCounters(tx: Queryable, channelIds: string[]): Promise<void> {
  if (channelIds.length === 0) return;
  await tx`
    select pg_advisory_xact_lock(${STORM_LOCK_CLASS}, hashtext(id))
    from unnest(${[...channelIds].sort()}::text[]) as id order by id`;
}

/** Deliveries created for each of these channels since `since` (the storm detector's window). */
export async function recentDeliveryCounts(tx: Queryable, channelIds: string[], since: Date): Promise<Map<string, number>> {
  if (channelIds.length === 0) return new Map();
  const rows = await tx<{ channel_id: string; n: number }[]>`
    select channel_id, count(*)::int as n from deliveries
    where channel_id = any(${channelIds}::uuid[]) and created_at > ${since}
    group by channel_id`;
  return new Map(rows.map((r) => [r.channel_id, r.n]));
}


export async function tryDigestLock(tx: Queryable): Promise<boolean> {
  const [row] = await tx<{ ok: boolean }[]>`select pg_try_advisory_xact_lock(${LOCKS.digest}) as ok`;
  return row?.ok === true;
}

/** Digest rows waiting to be sent, grouped by channel, oldest first (at most `limit` per channel). */
export async function pendingDigests(sql: Queryable, limit: number): Promise<Map<string, DeliveryRow[]>> {
  const rows = await sql<DeliveryRow[]>`
    select d.* from (select distinct channel_id from deliveries where digest and status in ('pending', 'failed')) c
    cross join lateral (
      select * from deliveries
      where channel_id = c.channel_id and digest and status in ('pending', 'failed')
      order by created_at, id limit ${limit}
    ) d`;
  const out = new Map<string, DeliveryRow[]>();
  for (const r of rows) {
    const list = out.get(r.channel_id);
    if (list) list.push(r);
    else out.set(r.channel_id, [r]);
  }
  return out;
}

/** Records one attempt's outcome on these rows (one delivery, or every row of a digest); final rows stay final. */
export async function recordAttempts(
  sql: Queryable,
  ids: string[],
  outcome: { status: DeliveryStatus; error: string | null; at: Date },
): Promise<void> {
  await sql`
    update deliveries set
      status = ${outcome.status},
      attempts = attempts + 1,
      last_error = ${outcome.error},
      sent_at = ${outcome.status === 'sent' ? outcome.at : null}
    where id = any(${ids}::text[]) and status not in ('sent', 'dead')`;
}

export interface Recipient {
  channel_id: string;
  channel_type: string;
}

/** Channels paged (or being paged) for each incident: the ones its resolve must reach. */
export async function toldChannels(tx: Queryable, incidentIds: string[]): Promise<Map<string, Recipient[]>> {
  if (incidentIds.length === 0) return new Map();
  const rows = await tx<(Recipient & { incident_id: string })[]>`
    select distinct incident_id, channel_id, channel_type from deliveries
    where incident_id = any(${incidentIds}::uuid[]) and event in ('opened', 'escalated')`;
  const out = new Map<string, Recipient[]>();
  for (const { incident_id, ...r } of rows) {
    const list = out.get(incident_id);
    if (list) list.push(r);
    else out.set(incident_id, [r]);
  }
  return out;
}

export async function markEnqueued(sql: Queryable, ids: string[], now: Date): Promise<void> {
  if (ids.length) await sql`update deliveries set enqueued_at = ${now} where id = any(${ids}::text[])`;
}

/**
 * Unfinished deliveries whose job may not be in Redis: never enqueued (Redis was down, or the
 * process died right after commit) and older than `freshBefore`, or enqueued before
 * `staleBefore` (Redis lost its data). Re-adding a job that still exists is a no-op (same job id).
 */
export async function deliveriesToEnqueue(sql: Queryable, freshBefore: Date, staleBefore: Date, limit: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from deliveries
    where status in ('pending', 'failed') and not digest
      and ((enqueued_at is null and created_at <= ${freshBefore}) or enqueued_at <= ${staleBefore})
    order by enqueued_at nulls first, created_at limit ${limit}`;
  return rows.map((r) => r.id);
}

/** Unfinished deliveries and the age of the oldest, for the backlog gauges. */
export async function deliveryBacklog(sql: Queryable, now: Date): Promise<{ pending: number; oldestSeconds: number }> {
  const [row] = await sql<{ pending: number; oldest: Date | null }[]>`
    select count(*)::int as pending, min(created_at) as oldest from deliveries where status in ('pending', 'failed')`;
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ? Math.max(0, (now.getTime() - row.oldest.getTime()) / 1000) : 0 };
}

export async function getDelivery(sql: Queryable, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await sql<DeliveryRow[]>`select * from deliveries where id = ${id}`;
  return row;
}

/**
 * Whether an earlier page (opened/escalated) to the same channel is still in flight: a resolve or
 * acknowledgement must not overtake the page it answers.
 */
export async function earlierPageInFlight(sql: Queryable, d: DeliveryRow): Promise<boolean> {
  const [row] = await sql<{ waiting: boolean }[]>`
    select exists (
      select 1 from deliveries
      where incident_id = ${d.incident_id} and channel_id = ${d.channel_id} and event in ('opened', 'escalated')
        and status in ('pending', 'failed') and created_at <= ${d.created_at} and id <> ${d.id}
    ) as waiting`;
  return row?.waiting === true;
}

export async function listDeliveries(sql: Queryable, incidentId: string): Promise<DeliveryRow[]> {
  return sql<DeliveryRow[]>`select * from deliveries where incident_id = ${incidentId} order by created_at, id`;
}
