import { getApiKey } from '../access/store.ts';
import type { Queryable, Tx } from '../db/client.ts';
import { auditRow, type Acting, type AuditChange } from './model.ts';
import { actorNames } from '../incidents/actor-names.ts';
import { actorText } from '../incidents/shown-actor.ts';
import { insertAuditRow, insertAuditRows, latestChangeAfter, namesAtDeletion } from './store.ts';

/**
 * Records a privileged change in the audit log, in the transaction of the change itself: both
 * commit or neither does. Every door (API, console, signed link) reaches the change through its
 * room's service, which calls this, so none can change something without leaving a row.
 */
export async function audit(tx: Tx, acting: Acting, change: AuditChange, now: Date): Promise<void> {
  await insertAuditRow(tx, auditRow(acting, change, now));
}

/**
 * An update recorded as `change` (patched, against `before`, the row as read locked in `tx`): its
 * row as `update` leaves it, or, when the patch changes nothing, `before` without writing, so a
 * re-sent value costs no update and keeps `updated_at`; undefined (nothing recorded) when
 * `update` finds no row.
 */
export async function auditedUpdate<T>(tx: Tx, acting: Acting, change: AuditChange, before: T, update: () => Promise<T | undefined>, now: Date): Promise<T | undefined> {
  const row = change.result === 'unchanged' ? before : await update();
  if (row !== undefined) await audit(tx, acting, change, now);
  return row;
}

/**
 * The same change to each of `targets` of `type` (every node one heartbeat batch registered), a
 * row each, in one statement.
 */
export async function auditEach(tx: Tx, acting: Acting, change: Omit<AuditChange, 'target'>, type: string, targets: { id: string; name: string }[], now: Date): Promise<void> {
  if (targets.length === 0) return;
  await insertAuditRows(tx, auditRow(acting, { ...change, target: { type, id: '' } }, now), targets);
}

/**
 * The name each of these things had when it was deleted (namesAtDeletion), by a deletion after
 * `since` and after the key `keyId` was made: a form whose time was edited to earlier reaches
 * back no further than what that key could have listed by name.
 */
export async function deletedNames(sql: Queryable, things: Array<{ type: string; id: string }>, since: Date, keyId: string): Promise<Array<{ type: string; id: string; name: string }>> {
  if (things.length === 0) return [];
  const made = (await getApiKey(sql, keyId))?.created_at;
  return namesAtDeletion(sql, things, made !== undefined && made > since ? made : since);
}

/**
 * Who made the latest change to a thing after `after`, and when (latestChangeAfter), named as
 * people read an actor everywhere (actorText): a key by its name now, the name it had then once
 * deleted; a person, an operator by name; a node as `node:<name>`, as an incident's `by` shows it.
 */
export async function changedSince(sql: Queryable, target: { type: string; id: string }, after: Date): Promise<{ by: string; at: Date } | undefined> {
  const row = await latestChangeAfter(sql, target.type, target.id, after);
  if (!row) return undefined;
  if (row.actor_kind === 'node') return { by: `node:${row.actor_name}`, at: row.at };
  if (row.actor_kind !== 'key') return { by: row.actor_name, at: row.at };
  const by = `api-key:${row.actor_id}`;
  return { by: actorText(by, new Map([[row.actor_id, row.actor_name], ...(await actorNames(sql, [by]))])), at: row.at };
}
