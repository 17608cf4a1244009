import type postgres from 'postgres';
import type { Queryable } from '../db/client.ts';
import type { AuditFilter, AuditRow, NewAuditRow } from './model.ts';

export async function insertAuditRow(sql: Queryable, r: NewAuditRow): Promise<void> {
  await sql`
    insert into audit_log (at, actor_kind, actor_id, actor_name, via, action, target_type, target_id, target_name, result, request_id, detail)
    values (${r.at}, ${r.actor_kind}, ${r.actor_id}, ${r.actor_name}, ${r.via}, ${r.action}, ${r.target_type}, ${r.target_id},
            ${r.target_name}, ${r.result}, ${r.request_id}, ${sql.json(r.detail as postgres.JSONValue)})`;
}

/** One row per target, in one statement (a heartbeat batch may register 1,000 nodes); the row's own target is not read. */
export async function insertAuditRows(sql: Queryable, r: Omit<NewAuditRow, 'target_id' | 'target_name'>, targets: { id: string; name: string }[]): Promise<void> {
  await sql`
    insert into audit_log (at, actor_kind, actor_id, actor_name, via, action, target_type, target_id, target_name, result, request_id, detail)
    select ${r.at}, ${r.actor_kind}, ${r.actor_id}, ${r.actor_name}, ${r.via}, ${r.action}, ${r.target_type}, t.id, t.name,
           ${r.result}, ${r.request_id}, ${sql.json(r.detail as postgres.JSONValue)}
    from unnest(${targets.map((t) => t.id)}::text[], ${targets.map((t) => t.name)}::text[]) with ordinality as t(id, name, n)
    order by t.n`;
}

/** Newest first; `id::text` so a bigint survives JSON and cursors whole (ordered by the column, not that text). */
export async function listAuditRows(sql: Queryable, f: AuditFilter, limit: number): Promise<AuditRow[]> {
  const conditions = [
    f.beforeId !== undefined ? sql`id < ${f.beforeId}::bigint` : null,
    f.actorId !== undefined ? sql`actor_id = ${f.actorId}` : null,
    f.action !== undefined ? sql`action = ${f.action}` : null,
    f.targetType !== undefined ? sql`target_type = ${f.targetType}` : null,
    f.targetId !== undefined ? sql`target_id = ${f.targetId}` : null,
    f.requestId !== undefined ? sql`request_id = ${f.requestId}` : null,
    f.since !== undefined ? sql`at >= ${f.since}` : null,
    f.until !== undefined ? sql`at < ${f.until}` : null,
  ].filter((c) => c !== null);
  const where = conditions.reduce((acc, c, i) => (i === 0 ? sql`where ${c}` : sql`${acc} and ${c}`), sql``);
  return sql<AuditRow[]>`
    select id::text as id, at, actor_kind, actor_id, actor_name, via, action, target_type, target_id, target_name, result, request_id, detail
    from audit_log ${where}
    order by audit_log.id desc limit ${limit}`;
}

/**
 * The latest change that moved the thing `type`/`id` (result `done`: one that found nothing to
 * change moved nothing) stamped after `after`, probed by the target index; undefined when none.
 * A channel's test message is `done` on the channel but changes nothing of it: not a change.
 */
export async function latestChangeAfter(sql: Queryable, type: string, id: string, after: Date): Promise<AuditRow | undefined> {
  const [row] = await sql<AuditRow[]>`
    select id::text as id, at, actor_kind, actor_id, actor_name, via, action, target_type, target_id, target_name, result, request_id, detail
    from audit_log
    where target_type = ${type} and target_id = ${id} and result = 'done' and action <> 'channel.test' and at > ${after}
    order by id desc limit 1`;
  return row;
}

/**
 * The name each of these things had when it was deleted, each only as its own type (`channel` …)
 * and only by a deletion after `after`, from its deletion's row: a form sent after the thing went
 * names it by id only. Probed by the target index; a thing not deleted so is absent.
 */
export async function namesAtDeletion(sql: Queryable, things: Array<{ type: string; id: string }>, after: Date): Promise<Array<{ type: string; id: string; name: string }>> {
  return sql<{ type: string; id: string; name: string }[]>`
    select distinct on (t.type, t.id) t.type, t.id, a.target_name as name
    from unnest(${things.map((t) => t.type)}::text[], ${things.map((t) => t.id)}::text[]) as t(type, id)
    join audit_log a on a.target_id = t.id and a.action = t.type || '.delete'
    where a.target_name is not null and a.at > ${after}
    order by t.type, t.id, a.id desc`;
}
