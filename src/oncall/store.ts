import type { Queryable } from '../db/client.ts';
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

const COLUMNS = ['id', 'name', 'levels', 'repeat', 'is_default', 'created_at', 'updated_at'];

export async function getPolicy(sql: Queryable, id: string): Promise<PolicyRow | undefined> {
  const [row] = await sql<PolicyRow[]>`select ${sql(COLUMNS)} from escalation_policies where id = ${id}`;
  return row;
}

/** Whether some escalation policy is the default, the one every node without its own follows. */
export async function hasDefaultPolicy(sql: Queryable): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`select exists (select 1 from escalation_policies where is_default) as found`;
  return row!.found;
}

/**
 * Policies by id, for a batch of incidents (one query). With `forShare` they stay locked against a
 * change until commit: an escalation reading its timing this way and a policy update re-timing its
 * incidents' timers (pendingEscalations) each see what the other committed, whichever goes first.
 */
export async function getPolicies(sql: Queryable, ids: string[], forShare = false): Promise<Map<string, PolicyRow>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<PolicyRow[]>`
    select ${sql(COLUMNS)} from escalation_policies where id = any(${ids}::uuid[]) ${forShare ? sql`for share` : sql``}`;
  return new Map(rows.map((r) => [r.id, r]));
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
 * unique violation on ONE_DEFAULT_INDEX, which the caller retries.
 */
async function demoteDefault(tx: Queryable, now: Date): Promise<void> {
  await tx`update escalation_policies set is_default = false, updated_at = ${now} where is_default`;
}

export async function insertPolicy(tx: Queryable, p: NewPolicy, now: Date): Promise<PolicyRow> {
  if (p.is_default) await demoteDefault(tx, now);
  const [row] = await tx<PolicyRow[]>`
    insert into escalation_policies (name, levels, repeat, is_default, created_at, updated_at)
    values (${p.name}, ${levelsJson(tx, p.levels)}, ${p.repeat}, ${p.is_default}, ${now}, ${now})
    returning ${tx(COLUMNS)}`;
  return row!;
}

export async function updatePolicy(tx: Queryable, id: string, patch: PolicyPatch, now: Date): Promise<PolicyRow | undefined> {
  if (patch.is_default) await demoteDefault(tx, now);
  const values: Record<string, unknown> = { ...patch, updated_at: now };
  if (patch.levels) values.levels = levelsJson(tx, patch.levels);
  const [row] = await tx<PolicyRow[]>`
    update escalation_policies set ${tx(values, ...Object.keys(values))}
    where id = ${id} returning ${tx(COLUMNS)}`;
  return row;
}

export async function deletePolicy(sql: Queryable, id: string): Promise<boolean> {
  const rows = await sql`delete from escalation_policies where id = ${id} returning id`;
  return rows.length > 0;
}

/** Policies some level of which names this channel, user or schedule. */
export async function policiesNaming(sql: Queryable, field: 'channel_ids' | 'user_ids' | 'schedule_ids', id: string): Promise<NamedBy[]> {
  return sql<NamedBy[]>`
    select id, name from escalation_policies
    where levels @> ${sql.json([{ [field]: [id] }])}
    order by name`;
}
