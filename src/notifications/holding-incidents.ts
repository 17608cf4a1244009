import type { Tx } from '../db/client.ts';
import { NAMED_INCIDENTS, stillHeld, stillParked } from '../oncall/model.ts';
import { incidentsOwing, openIncidentsPaging, parkedEventsMessaging } from './store.ts';

/**
 * Why a channel or person being deleted must stay (stillHeld, else stillParked), read inside the
 * deleting transaction; undefined when nothing holds it. Each read runs only when the ones before
 * found nothing: what incidents still owe it scans the outbox's payloads, the dead events scan
 * `outbox_dead`'s, and the refusal names paged incidents first, then owing ones, then dead events.
 */
export async function holdingIncidents(tx: Tx, what: 'channel' | 'user', id: string): Promise<string | undefined> {
  const field = `${what}_id` as const;
  const paged = await openIncidentsPaging(tx, field, id, NAMED_INCIDENTS);
  const held = stillHeld(what, paged, paged.length ? [] : await incidentsOwing(tx, field, id, NAMED_INCIDENTS));
  return held ?? stillParked(what, await parkedEventsMessaging(tx, field, id, NAMED_INCIDENTS));
}
