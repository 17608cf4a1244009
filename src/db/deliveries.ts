import type { Queryable } from './client.ts';
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
}

/** The ledger key, also the BullMQ job id and the webhook-id: stable across every retry. */
export function deliveryId(incidentId: string, eventKey: string, channelId: string): string {
  return `${incidentId}.${eventKey}.${channelId}`;
}

/** Inserts what is not there yet (a redelivered event adds nothing) and returns the new ids. */
export async function insertDeliveries(tx: Queryable, ds: NewDelivery[], now: Date): Promise<string[]> {
  if (ds.length === 0) return [];
  const rows = await tx<{ id: string }[]>`
    insert into deliveries (id, incident_id, event, event_key, channel_id, channel_type, status, occurred_at, created_at)
    select id, incident_id, event, event_key, channel_id, channel_type, 'pending', occurred_at, ${now}
    from unnest(${ds.map((d) => deliveryId(d.incidentId, d.eventKey, d.channelId))}::text[],
                ${ds.map((d) => d.incidentId)}::uuid[], ${ds.map((d) => d.event)}::text[], ${ds.map((d) => d.eventKey)}::text[],
                ${ds.map((d) => d.channelId)}::uuid[], ${ds.map((d) => d.channelType)}::text[],
                ${ds.map((d) => d.occurredAt.toISOString())}::timestamptz[])
         as d(id, incident_id, event, event_key, channel_id, channel_type, occurred_at)
    on conflict do nothing
    returning id`;
  return rows.map((r) => r.id);
}

/** Channels paged (or being paged) for this incident: the ones its resolve must reach. */
export async function toldChannels(tx: Queryable, incidentId: string): Promise<Array<{ channel_id: string; channel_type: string }>> {
  return tx<{ channel_id: string; channel_type: string }[]>`
    select distinct channel_id, channel_type from deliveries
    where incident_id = ${incidentId} and event in ('opened', 'escalated')`;
}

export async function markEnqueued(sql: Queryable, ids: string[], now: Date): Promise<void> {
  if (ids.length) await sql`update deliveries set enqueued_at = ${now} where id = any(${ids}::text[]) and enqueued_at is null`;
}

/** Pending deliveries whose job may never have reached Redis (it was down, or the process died). */
export async function unenqueuedDeliveries(sql: Queryable, olderThan: Date, limit: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from deliveries
    where status = 'pending' and enqueued_at is null and created_at <= ${olderThan}
    order by created_at limit ${limit}`;
  return rows.map((r) => r.id);
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

export async function recordAttempt(
  sql: Queryable,
  id: string,
  outcome: { status: DeliveryStatus; error: string | null; at: Date },
): Promise<DeliveryRow | undefined> {
  const [row] = await sql<DeliveryRow[]>`
    update deliveries set
      status = ${outcome.status},
      attempts = attempts + 1,
      last_error = ${outcome.error},
      sent_at = ${outcome.status === 'sent' ? outcome.at : null}
    where id = ${id} and status not in ('sent', 'dead')
    returning *`;
  return row;
}

export async function listDeliveries(sql: Queryable, incidentId: string): Promise<DeliveryRow[]> {
  return sql<DeliveryRow[]>`select * from deliveries where incident_id = ${incidentId} order by created_at, id`;
}
