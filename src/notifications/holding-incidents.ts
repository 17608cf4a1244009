import type { Tx } from '../db/client.ts';
import { NAMED_INCIDENTS, stillHeld } from '../oncall/model.ts';
import { incidentsOwing, openIncidentsPaging } from './store.ts';

/**
 * Why a channel or person being deleted must stay (stillHeld), read inside the deleting
 * transaction; undefined when nothing holds it. What incidents still owe it is read only when no
 * open incident paged it: that scans the outbox's payloads, and the refusal names paged ones first.
 */
export async function holdingIncidents(tx: Tx, what: 'channel' | 'user', id: string): Promise<string | undefined> {
  const field = `${what}_id` as const;
  const paged = await openIncidentsPaging(tx, field, id, NAMED_INCIDENTS);
  return stillHeld(what, paged, paged.length ? [] : await incidentsOwing(tx, field, id, NAMED_INCIDENTS));
}
