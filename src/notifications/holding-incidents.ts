import type { Tx } from '../db/client.ts';
import { NAMED_INCIDENTS, stillHeld, stillParked, type InUse } from '../oncall/model.ts';
import { openIncidentsPaging, owedOrParked } from './store.ts';

/**
 * Why a channel or person being deleted must stay (stillHeld, else stillParked), read inside the
 * deleting transaction; undefined when nothing holds it. The refusal names paged incidents first,
 * then owing ones, then dead events. What incidents still owe it (the outbox's payloads) and the
 * dead events (`outbox_dead`'s) are read together in one statement, and only when no paged
 * incident holds it: a replay moving an event between the two tables commits either before that
 * statement's snapshot or after it, never between two reads (owedOrParked).
 */
export async function holdingIncidents(tx: Tx, what: 'channel' | 'user', id: string): Promise<InUse | undefined> {
  const field = `${what}_id` as const;
  const paged = await openIncidentsPaging(tx, field, id, NAMED_INCIDENTS);
  if (paged.length) return stillHeld(what, paged, []);
  const { owing, parked } = await owedOrParked(tx, field, id, NAMED_INCIDENTS);
  return stillHeld(what, [], owing) ?? stillParked(what, parked);
}
