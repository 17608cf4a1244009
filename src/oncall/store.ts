import type { Queryable } from '../db/client.ts';
import { editLock } from '../db/named-rows.ts';
import type { NamedBy, NewPolicy, PolicyLevel, PolicyPatch, PolicyRow } from './model.ts';

/** Postgres names this index when a second default would be committed (sql/0002_incidents.sql). */
export const ONE_DEFAULT_INDEX = 'escalation_policies_one_default';

// Stored field by field, so nothing but these fields ever lands in the column.
const levelsJson = (sql: Queryable, levels: PolicyLevel[]) =>
  sql.json(
    levels.map((l) => ({
      after_seconds: l.after_seconds,
      channel_ids: l.channel_ids,
      user_ids: l.user_ids ?? [],
      schedule_ids: l.schedule_ids ?? [],
    })),
  );

const COLUMNS = ['id', 'name', 'levels', 'repeat', 'ack_timeout_seconds', 'is_default', 'created_at', 'updated_at'];

/** `locked`: for an edit, until its transaction ends (editLock). */
export async function getPolicy(sql: Queryable, id: string, locked = false): Promise<PolicyRow | undefined> {
  const [row] = await sql<PolicyRow[]>`select ${sql(COLUMNS)} from escalation_policies where id = ${id} ${editLock(sql, locked)}`;
  return row;
}

/** The escalation policy with this name (names are unique), or undefined. */
export async function getPolicyByName(sql: Queryable, name: string): Promise<PolicyRow | undefined> {
  const [row] = await sql<PolicyRow[]>`select ${sql(COLUMNS)} from escalation_policies where name = ${name}`;
  return row;
}

/** Whether some escalation policy is the default, the one every node without its own follows. */
export async function hasDefaultPolicy(sql: Queryable): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`select exists (select 1 from escalation_policies where is_default) as found`;
  return row!.found;
}

/** The default escalation policy, the one every node without its own follows; undefined while none is. */
export async function getDefaultPolicy(sql: Queryable): Promise<PolicyRow | undefined> {
  const [row] = await sql<PolicyRow[]>`select ${sql(COLUMNS)} from escalation_policies where is_default`;
  return row;
}

/** Policies by id, for a batch of incidents (one query). */
export async function getPolicies(sql: Queryable, ids: string[]): Promise<Map<string, PolicyRow>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<PolicyRow[]>`select ${sql(COLUMNS)} from escalation_policies where id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Locks against a change until commit every policy a batch of incidents may escalate or open by:
 * these (their own), the default and these nodes' own (what replaces a deleted one). A handful of
 * rows however large the batch, in one statement. An incident opened or escalated by a policy as
 * it reads then, and an edit re-timing that policy's incidents' timers (pendingEscalations), each
 * see what the other committed, whichever goes first. Share locks do not conflict with each other:
 * outbox workers handling incidents of the same policies never wait for one another.
 *
 * Locked in id order, the order a writer locks the policies it changes (demoteDefault): taken in
 * any other order, a batch holding the new default and waiting for the old one while the writer
 * holds the old one and waits for the new one would deadlock.
 */
export async function sharePolicies(sql: Queryable, ids: string[], nodeIds: string[]): Promise<void> {
  if (ids.length === 0 && nodeIds.length === 0) return;
  await sql`
    select id from escalation_policies
    where id = any(${ids}::uuid[])
      or (${nodeIds.length > 0} and (is_default or id in (select escalation_policy_id from nodes where id = any(${nodeIds}::uuid[]))))
    order by id for share`;
}

/**
 * For a writer deleting policy `id`: it and what replaces it for these nodes (their own policy,
 * else the default), one row at a time in id order, the deleted one FOR UPDATE and the others FOR
 * SHARE. In id order, as demoteDefault and sharePolicies go, so a concurrent "make this the
 * default" cannot hold one while waiting for the other; the fallbacks only shared, as FOR UPDATE
 * would wait on the KEY SHARE a node's edit takes through its foreign key to the policy it moves
 * to, while that edit waits on the node row this delete's ON DELETE SET NULL writes.
 */
export async function lockForDeletion(sql: Queryable, id: string, nodeIds: string[]): Promise<void> {
  const rows = await sql<{ id: string }[]>`
    select id from escalation_policies
    where id = ${id} or is_default or id in (select escalation_policy_id from nodes where id = any(${nodeIds}::uuid[]))
    order by id`;
  for (const r of rows) {
    await (r.id === id ? sql`select 1 from escalation_policies where id = ${r.id} for update` : sql`select 1 from escalation_policies where id = ${r.id} for share`);
  }
}

/** Each node's own policy, else the default policy; nodes with neither are absent. One query. */
export async function policiesForNodes(sql: Queryable, nodeIds: string[]): Promise<Map<string, PolicyRow>> {
  if (nodeIds.length === 0) return new Map();
  const rows = await sql<(PolicyRow & { node_id: string })[]>`
    select n.id as node_id, ${sql(COLUMNS.map((c) => `p.${c}`))}
    from nodes n
    cross join lateral (
      select * from escalation_policies p
      where p.id = n.escalation_policy_id or p.is_default
      order by (p.id = n.escalation_policy_id) desc nulls last
      limit 1
    ) p
    where n.id = any(${nodeIds}::uuid[])`;
  return new Map(rows.map(({ node_id, ...policy }) => [node_id, policy]));
}

/** Names are unique, so the cursor is the last name. */
export async function listPolicies(sql: Queryable, afterName: string | undefined, limit: number): Promise<PolicyRow[]> {
  return sql<PolicyRow[]>`
    select ${sql(COLUMNS)} from escalation_policies
    ${afterName !== undefined ? sql`where name > ${afterName}` : sql``}
    order by name limit ${limit}`;
}

/**
 * Making a policy the default demotes the current one first. Two transactions doing this at once
 * both find nothing to demote; the partial unique index then fails the later commit with a
 * unique violation on ONE_DEFAULT_INDEX, which the caller retries. The rows the change writes
 * (the policy, if it exists yet, and the current default) are locked first in id order, the
 * order escalations share-lock policies in (getPolicies).
 */
async function demoteDefault(tx: Queryable, now: Date, id?: string): Promise<void> {
  await tx`select id from escalation_policies where is_default ${id ? tx`or id = ${id}` : tx``} order by id for update`;
  await tx`update escalation_policies set is_default = false, updated_at = ${now} where is_default`;
}

export async function insertPolicy(tx: Queryable, p: NewPolicy, now: Date): Promise<PolicyRow> {
  if (p.is_default) await demoteDefault(tx, now);
  const [row] = await tx<PolicyRow[]>`
    insert into escalation_policies (name, levels, repeat, ack_timeout_seconds, is_default, created_at, updated_at)
    values (${p.name}, ${levelsJson(tx, p.levels)}, ${p.repeat}, ${p.ack_timeout_seconds ?? null}, ${p.is_default}, ${now}, ${now})
    returning ${tx(COLUMNS)}`;
  return row!;
}

export async function updatePolicy(tx: Queryable, id: string, patch: PolicyPatch, now: Date): Promise<PolicyRow | undefined> {
  if (patch.is_default) await demoteDefault(tx, now, id);
  const values: Record<string, unknown> = { ...patch, updated_at: now };
  if (patch.levels) values.levels = levelsJson(tx, patch.levels);
  const [row] = await tx<PolicyRow[]>`
    update escalation_policies set ${tx(values, ...Object.keys(values))}
    where id = ${id} returning ${tx(COLUMNS)}`;
  return row;
}

/** Deletes the escalation policy; its name, for the audit row that outlives it, or undefined when there was none. */
export async function deletePolicy(sql: Queryable, id: string): Promise<string | undefined> {
  const [row] = await sql<{ name: string }[]>`delete from escalation_policies where id = ${id} returning name`;
  return row?.name;
}

/** Policies some level of which names this channel, user or schedule. */
export async function policiesNaming(sql: Queryable, field: 'channel_ids' | 'user_ids' | 'schedule_ids', id: string): Promise<NamedBy[]> {
  return sql<NamedBy[]>`
    select id, name from escalation_policies
    where levels @> ${sql.json([{ [field]: [id] }])}
    order by name`;
}
