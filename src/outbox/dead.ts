import { audit } from '../audit/service.ts';
import type { Acting } from '../audit/model.ts';
import type { Sql, Tx } from '../db/client.ts';
import { conflict, notFound } from '../errors.ts';
import { addTimeline, getIncidents } from '../incidents/store.ts';
import { discardDeadOutbox, replayDeadOutbox, type DiscardedEvent } from './store.ts';

/**
 * What an admin does with a dead outbox event: `replay` puts it back in the outbox, `discard`
 * gives its message up (an event that fails again on every replay would otherwise be parked for
 * ever, and keep refusing the deletion of whatever it would message). Either is audited as
 * `outbox.<how>` in its own transaction, named "<topic> <key>" (an event has no name of its own)
 * and keeping both in detail: the event itself is gone from `outbox_dead` afterwards, so the audit
 * row is what says what it was. A discard is
 * refused for a `node.*` event unless `force` (see discard).
 */
export async function settleDeadEvent(sql: Sql, id: string, how: 'replay' | 'discard', now: Date, acting: Acting, force = false): Promise<void> {
  const found = await sql.begin(async (tx) => {
    const event = how === 'replay' ? await replayDeadOutbox(tx, id, now) : await discard(tx, id, force, now);
    if (event) await audit(tx, acting, { action: `outbox.${how}`, target: { type: 'outbox_event', id, name: `${event.topic} ${event.key}` }, detail: { topic: event.topic, key: event.key } }, now);
    return event;
  });
  if (!found) throw notFound(`Dead outbox event "${id}"`);
}

/**
 * Drops a dead event, checked in the caller's transaction (a refusal rolls the delete back), and
 * records what that does. A `node.*`
 * event is what incidents follow: discarding `node.state_changed` means an incident it would open
 * never opens (nobody is paged) or one it would resolve never resolves (and keeps escalating), and
 * `node.deleted` leaves the node's incidents open for ever, so it takes `force`. An `incident.*`
 * event's discard is written on its incident's timeline (`outbox_discarded`, with the topic), since
 * it changes what the incident did: a page never sent, an escalation that stops
 * (`incident.escalation_due`), or a resolve never sent (a PagerDuty alert left triggered).
 */
async function discard(tx: Tx, id: string, force: boolean, now: Date): Promise<DiscardedEvent | undefined> {
  const event = await discardDeadOutbox(tx, id);
  if (!event) return undefined;
  if (event.topic.startsWith('node.') && !force) {
    throw conflict(
      `Dead outbox event ${id} is a ${event.topic}: discarded, its node's incidents would not follow it (one never opened, or never resolved); ` +
        `replay it, or discard it with ?force=true once that is intended.`,
    );
  }
  // An incident gone with its node has no timeline left to write on.
  if (event.topic.startsWith('incident.') && event.incident_id !== null && (await getIncidents(tx, [event.incident_id])).size) {
    await addTimeline(tx, [{ incident_id: event.incident_id, at: now, kind: 'outbox_discarded', detail: { topic: event.topic, event_id: id } }]);
  }
  return event;
}
