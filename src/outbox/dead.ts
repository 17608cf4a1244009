import { audit } from '../audit/service.ts';
import type { Acting } from '../audit/model.ts';
import type { Sql } from '../db/client.ts';
import { notFound } from '../errors.ts';
import { discardDeadOutbox, replayDeadOutbox } from './store.ts';

/**
 * What an admin does with a dead outbox event: `replay` puts it back in the outbox, `discard`
 * gives its message up (an event that fails again on every replay would otherwise be parked for
 * ever, and keep refusing the deletion of whatever it would message). Either is audited as
 * `outbox.<how>` in its own transaction, naming the event's topic and key: the event itself is
 * gone from `outbox_dead` afterwards, so the audit row is what says what it was.
 */
export async function settleDeadEvent(sql: Sql, id: string, how: 'replay' | 'discard', now: Date, acting: Acting): Promise<void> {
  const found = await sql.begin(async (tx) => {
    const event = how === 'replay' ? await replayDeadOutbox(tx, id, now) : await discardDeadOutbox(tx, id);
    if (event) await audit(tx, acting, { action: `outbox.${how}`, target: { type: 'outbox_event', id }, detail: { topic: event.topic, key: event.key } }, now);
    return event;
  });
  if (!found) throw notFound(`Dead outbox event "${id}"`);
}
