import type { Queryable } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import type { CronSchedule } from '../health/cron-deadline.ts';
import type { State } from '../health/decide.ts';
import { announceDue } from '../health/store.ts';
import type { ComponentSpec } from '../statuspages/model.ts';
import type { LabelPair, NewNode, NodePatch, NodeRef, NodeRow, NodeSettings, TransitionRow } from './model.ts';

function selectNodes(sql: Queryable) {
  return sql`
    select n.id, n.name, n.labels, n.heartbeat_interval_seconds, n.grace_seconds, n.failures_for_down,
           n.successes_for_recovery, n.escalation_policy_id, n.badge_id, n.schedule, n.ping_key, n.created_at, n.updated_at,
           h.state, h.since, h.reason, h.version as state_version,
           hb.last_heartbeat_at, hb.last_status, hb.checks,
           coalesce(n.schedule_since, n.created_at) as schedule_since,
           (select since from ingest_coverage) as coverage_since
    from nodes n
    join node_health h on h.node_id = n.id
    join node_heartbeats hb on hb.node_id = n.id`;
}

/** The node with this id, never one named like it: a deleted node's id may be another node's name. */
export async function nodeById(sql: Queryable, id: string): Promise<NodeRow | undefined> {
  const [row] = await sql<NodeRow[]>`${selectNodes(sql)} where n.id = ${id}::uuid`;
  return row;
}

/**
 * The node `ref` names, as every node route and the incident list's node filter take it: the node
 * with that id, else the one with that name. A name may look like a UUID, even another node's id;
 * the id wins. Compared as a uuid, so an id in capitals still finds its node before a name.
 */
export async function getNode(sql: Queryable, ref: string): Promise<NodeRow | undefined> {
  const [row] = isUuid(ref)
    ? await sql<NodeRow[]>`${selectNodes(sql)} where n.id = ${ref}::uuid or n.name = ${ref} order by (n.id = ${ref}::uuid) desc limit 1`
    : await sql<NodeRow[]>`${selectNodes(sql)} where n.name = ${ref}`;
  return row;
}

/**
 * `and` the node `n` carries every one of these labels: one `@>` each (on the labels' GIN index),
 * so two values asked of one key select nothing, where one merged object would keep only the last.
 * The node list, the fleet view and the incident list filter by labels through this one condition.
 */
export function carriesLabels(sql: Queryable, labels: readonly LabelPair[]) {
  return labels.reduce((cond, l) => sql`${cond} and n.labels @> ${sql.json({ [l.key]: l.value })}`, sql``);
}

export interface NodeFilter {
  state?: State | undefined;
  /** Every one of these, as carriesLabels reads them. */
  labels?: readonly LabelPair[] | undefined;
  after?: string | undefined;
  limit: number;
}

export async function listNodes(sql: Queryable, f: NodeFilter): Promise<NodeRow[]> {
  return sql<NodeRow[]>`
    ${selectNodes(sql)}
    where true
      ${f.state ? sql`and h.state = ${f.state}` : sql``}
      ${carriesLabels(sql, f.labels ?? [])}
      ${f.after !== undefined ? sql`and n.name > ${f.after}` : sql``}
    order by n.name
    limit ${f.limit}`;
}

/** What the console's fleet view narrows by: state, labels (every one carried), part of the name. */
export interface FleetFilter {
  state?: State | undefined;
  labels?: readonly LabelPair[] | undefined;
  /** Nodes whose name contains this, ignoring case. */
  search?: string | undefined;
}

/** Worst first: the order someone looking for trouble reads the fleet in. */
export const FLEET_ORDER: readonly State[] = ['down', 'degraded', 'unknown', 'maintenance', 'healthy'];

/** Keyset position in the fleet order: (rank of the state, 1 = down, then name). */
export type FleetCursor = [rank: number, name: string];

function fleetWhere(sql: Queryable, f: FleetFilter) {
  return sql`
    ${carriesLabels(sql, f.labels ?? [])}
    ${f.search ? sql`and strpos(lower(n.name), lower(${f.search})) > 0` : sql``}`;
}

/**
 * One page of the fleet, worst first, then by name: `limit` rows after `after`, or the `limit`
 * rows just before `before` (still in fleet order). Each state is read on its own, by name, and
 * only as far as the page needs, so the page never sorts the whole fleet (at 10,000 nodes a sort of
 * everything cost a p99 of 280 ms on a busy machine, against tens of ms this way); the details
 * (health, last heartbeat) are joined only for the page's rows.
 *
 * Unfiltered, `sizes` (fleetCounts) chooses how each state is read, never which rows: whichever
 * reads fewer rows, its nodes through the state index and sorted by
 * name (as many rows as the state has), or the name index walked until `limit` of them (about
 * limit × fleet ÷ state rows, its nodes being spread over the names). The planner made that choice
 * badly: at 100,000 nodes with 1 % down and 1 % degraded it walked ~40,000 names per rare state
 * (170,000 buffers, 555 ms on a busy machine) where their 2,500 rows cost ~12,000 buffers; in an
 * outage of the whole fleet the walk is the right way for `down` (101 rows instead of 100,000).
 */
export async function fleetPage(
  sql: Queryable,
  f: FleetFilter,
  at: { after?: FleetCursor | undefined; before?: FleetCursor | undefined },
  limit: number,
  /** The fleet's counts per state; only an unfiltered page uses them, so a filtered one may omit them. */
  sizes?: Record<State, number>,
): Promise<NodeRow[]> {
  const backwards = at.before !== undefined;
  const from = at.before ?? at.after;
  const direction = backwards ? sql`desc` : sql`asc`;
  const states = FLEET_ORDER.map((state, i) => ({ state, rank: i + 1 })).filter(
    ({ state, rank }) => (!f.state || f.state === state) && (!from || (backwards ? rank <= from[0] : rank >= from[0])),
  );
  if (states.length === 0) return [];
  const fleet = sizes ? Object.values(sizes).reduce((a, b) => a + b, 0) : 0;
  const branch = ({ state, rank }: { state: State; rank: number }) => {
    // Only unfiltered: the sorted way reads the state's every row before a label or name filter
    // applies (and loses the labels' GIN index): 60,000 buffers for a label two nodes carry at
    // 20,000 nodes, against 10 when the planner joins from the filter.
    const sorted = sizes !== undefined && !f.labels?.length && !f.search && sizes[state] ** 2 <= limit * fleet;
    // `offset 0` keeps the subquery from being flattened into a join the planner would drive from
    // the name index again; through it each node is one primary-key lookup.
    const source = sorted
      ? sql`node_health h cross join lateral (select id, name, labels from nodes where id = h.node_id offset 0) n`
      : sql`nodes n join node_health h on h.node_id = n.id`;
    return sql`
      (select n.id, ${rank}::int as rank, n.name from ${source}
       where h.state = ${state} ${fleetWhere(sql, f)}
         ${from && from[0] === rank ? sql`and n.name ${backwards ? sql`<` : sql`>`} ${from[1]}` : sql``}
       order by n.name ${direction}
       limit ${limit})`;
  };
  const union = states.map(branch).reduce((a, b) => sql`${a} union all ${b}`);
  const rows = await sql<NodeRow[]>`
    with page as (select * from (${union}) b order by rank ${direction}, name ${direction} limit ${limit})
    ${selectNodes(sql)}
    join page on page.id = n.id
    order by page.rank ${direction}, page.name ${direction}`;
  return backwards ? rows.reverse() : rows;
}

/** A node's place in the fleet order, as fleetPage's cursors count it. */
export const fleetCursor = (n: Pick<NodeRow, 'state' | 'name'>): FleetCursor => [FLEET_ORDER.indexOf(n.state) + 1, n.name];

/**
 * Nodes per state among those the label and name filters select, in one grouped query. Unfiltered,
 * node_health alone answers (every node has its one row): an index-only scan of the state index,
 * 85 pages at 100,000 nodes, where joining nodes read both tables whole (600–750 ms against
 * 24–37 ms on a busy machine).
 */
export async function fleetCounts(sql: Queryable, f: Omit<FleetFilter, 'state'>): Promise<Record<State, number>> {
  const rows = await sql<{ state: State; n: number }[]>`
    select h.state, count(*)::int as n
    from node_health h ${f.labels?.length || f.search ? sql`join nodes n on n.id = h.node_id` : sql``}
    where true ${fleetWhere(sql, f)}
    group by h.state`;
  const counts = Object.fromEntries(FLEET_ORDER.map((s) => [s, 0])) as Record<State, number>;
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

/** A label value among the not-healthy nodes: how many of them carry it, down and degraded. */
export interface SpreadValue {
  value: string;
  down: number;
  degraded: number;
}

/** A label key the not-healthy nodes carry, its values most-hit first, and how many values were left out. */
export interface SpreadKey {
  key: string;
  /** Not-healthy nodes carrying this key (the sum over all its values, shown or not). */
  nodes: number;
  values: SpreadValue[];
  moreValues: number;
}

/** Where the down and degraded nodes are, by label: the keys shown, and how many keys were left out. */
export interface FleetSpread {
  keys: SpreadKey[];
  moreKeys: number;
}

/**
 * Where an outage is, by label: for each label key the down and degraded nodes carry, its values
 * with their counts, most-hit first; the `keys` keys carried by most of those nodes, `values`
 * values each, the rest only counted. One grouped query over the not-healthy nodes, found through
 * the state index (11 index pages for 10,000 of them): at 100,000 nodes with 10 % down and 5
 * labels a node, EXPLAIN ANALYZE gave 59 ms and 6,900 buffers, 50,000 pairs grouped into 53; the
 * planner hashes the down nodes and reads `nodes` whole (6,800 pages, cheaper than 10,000
 * primary-key lookups). No index helps: the labels are only in `nodes`, and the state index
 * already finds the rows. Fleet asks only when its counts show a node down or degraded.
 */
export async function fleetSpread(sql: Queryable, f: Omit<FleetFilter, 'state'>, bound: { keys: number; values: number }): Promise<FleetSpread> {
  const rows = await sql<{ key: string; value: string; down: number; degraded: number; nodes: number; key_values: number; key_count: number }[]>`
    with pairs as (
      select l.key, l.value,
             count(*) filter (where h.state = 'down')::int as down,
             count(*) filter (where h.state = 'degraded')::int as degraded
      from node_health h
      join nodes n on n.id = h.node_id
      cross join lateral jsonb_each_text(n.labels) l
      where h.state in ('down', 'degraded') ${fleetWhere(sql, f)}
      group by l.key, l.value
    ), ranked as (
      select *, row_number() over (partition by key order by down + degraded desc, value) as at,
             count(*) over (partition by key)::int as key_values,
             sum(down + degraded) over (partition by key)::int as nodes
      from pairs
    ), keyed as (
      select *, dense_rank() over (order by nodes desc, key) as key_at from ranked
    )
    select key, value, down, degraded, nodes, key_values, (select count(distinct key) from pairs)::int as key_count
    from keyed
    where at <= ${bound.values} and key_at <= ${bound.keys}
    order by key_at, at`;
  const keys: SpreadKey[] = [];
  for (const r of rows) {
    if (keys.at(-1)?.key !== r.key) keys.push({ key: r.key, nodes: r.nodes, values: [], moreValues: r.key_values - Math.min(r.key_values, bound.values) });
    keys.at(-1)!.values.push({ value: r.value, down: r.down, degraded: r.degraded });
  }
  return { keys, moreKeys: (rows[0]?.key_count ?? 0) - keys.length };
}

/** The schedule column's value, always with all four keys. */
const scheduleJson = (tx: Queryable, s: CronSchedule) =>
  tx.json({ cron: s.cron, time_zone: s.time_zone, grace_seconds: s.grace_seconds, max_run_seconds: s.max_run_seconds ?? null });

export async function insertNode(tx: Queryable, node: NewNode, now: Date): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into nodes (name, labels, heartbeat_interval_seconds, grace_seconds, failures_for_down,
                       successes_for_recovery, escalation_policy_id, token_hash, schedule, ping_key, created_at, updated_at)
    values (${node.name}, ${tx.json(node.labels)}, ${node.heartbeat_interval_seconds}, ${node.grace_seconds},
            ${node.failures_for_down}, ${node.successes_for_recovery}, ${node.escalation_policy_id},
            ${node.token_hash}, ${node.schedule ? scheduleJson(tx, node.schedule) : null},
            coalesce(${node.ping_key ?? null}, new_badge_id()), ${now}, ${now})
    returning id`;
  const id = row!.id;
  await insertCompanionRows(tx, [id], now);
  // A scheduled job is late after its first run even if it never pinged: judge it now, which
  // sets its first deadline.
  if (node.schedule) await tx`update node_due set due_at = ${now} where node_id = ${id}`;
  return id;
}

/**
 * The three rows every node has beside its own: health (born unknown), an empty heartbeat row and
 * nothing due — only a first heartbeat gives the evaluator something to judge.
 */
async function insertCompanionRows(tx: Queryable, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx`insert into node_health (node_id, state, since) select id, 'unknown', ${now} from unnest(${ids}::uuid[]) as id`;
  await tx`insert into node_heartbeats (node_id) select id from unnest(${ids}::uuid[]) as id`;
  await tx`insert into node_due (node_id, due_at) select id, 'infinity' from unnest(${ids}::uuid[]) as id`;
}

/**
 * What an edit may change of the node, with its row locked until the transaction ends, so an edit
 * merging over its schedule is not merging over what a concurrent edit is replacing, and the
 * audit row's `from` values are the ones this edit replaced; undefined when there is no such node.
 * `no key update`, not `update`: the flush inserts pings' runs, whose foreign key takes KEY SHARE
 * on the node after it has written `node_due`, and FOR UPDATE would wait on that while the flush
 * waits on this edit's `node_due` write — a deadlock that rolled back the whole fleet's flush.
 */
export async function lockEditable(tx: Queryable, id: string): Promise<(Required<NodePatch> & { updated_at: Date }) | undefined> {
  // node_due first, the order a flush takes them in (node_due, then the node through its runs'
  // foreign key): a rename takes FOR UPDATE on the node (its name is a unique key), and writing
  // node_due after that deadlocked with a flush holding node_due and waiting on the node.
  await tx`select 1 from node_due where node_id = ${id} for no key update`;
  const [row] = await tx<(Required<NodePatch> & { updated_at: Date })[]>`
    select name, labels, heartbeat_interval_seconds, grace_seconds, failures_for_down, successes_for_recovery, escalation_policy_id, schedule, ping_key, updated_at
    from nodes where id = ${id} for no key update`;
  return row;
}

/**
 * Returns false when there is no such node. The node is due at once; when what changed is what
 * the evaluator's decision reads (its timing, its schedule, its labels, by which a maintenance
 * window may cover it), the evaluator is told at commit, so a new interval, grace or schedule is
 * judged then, not at its next tick; a new name, policy or ping key changes no decision. Only for
 * a patch that changes something (updateNode's service skips one that does not).
 */
export async function updateNode(tx: Queryable, id: string, patch: NodePatch, now: Date): Promise<boolean> {
  const columns = Object.keys(patch) as (keyof NodePatch)[];
  const values: Record<string, unknown> = { ...patch, updated_at: now };
  if (patch.labels) values.labels = tx.json(patch.labels);
  if (patch.schedule) values.schedule = scheduleJson(tx, patch.schedule);
  if (patch.schedule !== undefined) {
    // Before the update replaces what it compares with: a new expression or zone gives the job a
    // new job's margin before its first run (sql/0020_schedule_since.sql); a new grace or run
    // limit does not.
    await tx`
      update nodes set schedule_since = ${now}
      where id = ${id} and (schedule->>'cron', schedule->>'time_zone') is distinct from (${patch.schedule?.cron ?? null}::text, ${patch.schedule?.time_zone ?? null}::text)`;
  }
  // The joined row is the node as it was before this update.
  const [row] = await tx<{ judged: boolean }[]>`
    update nodes n set ${tx(values, ...columns, 'updated_at')}
    from nodes was where n.id = ${id} and was.id = n.id
    returning (n.heartbeat_interval_seconds, n.grace_seconds, n.failures_for_down, n.successes_for_recovery, n.schedule, n.labels)
      is distinct from (was.heartbeat_interval_seconds, was.grace_seconds, was.failures_for_down, was.successes_for_recovery, was.schedule, was.labels) as judged`;
  if (!row) return false;
  await tx`update node_due set due_at = ${now}, wake = wake + 1 where node_id = ${id}`;
  if (row.judged) await announceDue(tx);
  return true;
}

/**
 * A new token starts a new sender: the stored seq is forgotten with the old token, so whatever seq
 * the old one sent (a leaked token's 2^53-1 included) holds back none of the new one's heartbeats.
 * Returns the node's name, for its audit row; undefined when there is no such node.
 */
export async function setNodeToken(sql: Queryable, id: string, tokenHash: string, now: Date): Promise<string | undefined> {
  const [row] = await sql<{ name: string }[]>`
    with n as (update nodes set token_hash = ${tokenHash}, updated_at = ${now} where id = ${id} returning id, name),
         h as (update node_heartbeats set last_seq = null where node_id in (select id from n))
    select name from n`;
  return row?.name;
}

/** The node a badge id names, with its state; undefined when no node has it. */
export async function findBadgeNode(sql: Queryable, badgeId: string): Promise<{ id: string; state: State } | undefined> {
  const [row] = await sql<{ id: string; state: State }[]>`
    select n.id, h.state from nodes n join node_health h on h.node_id = n.id where n.badge_id = ${badgeId}`;
  return row;
}

/** A new random badge id (the column's default, sql/0007_status_pages.sql); false if no such node. */
export async function rotateBadge(sql: Queryable, id: string, now: Date): Promise<boolean> {
  const rows = await sql`update nodes set badge_id = default, updated_at = ${now} where id = ${id} returning id`;
  return rows.length > 0;
}

/** A new random ping key (the column's default, sql/0013_scheduled_jobs.sql); false if no such node. */
/** The node's name, for the audit row; undefined when there is no such node. */
export async function rotatePingKey(sql: Queryable, id: string, now: Date): Promise<string | undefined> {
  const [row] = await sql<{ name: string }[]>`update nodes set ping_key = default, updated_at = ${now} where id = ${id} returning name`;
  return row?.name;
}

/** The id of the node with this name, never one whose id it is (PUT /v1/nodes/by-name/{name}). */
export async function nodeIdByName(sql: Queryable, name: string): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`select id from nodes where name = ${name}`;
  return row?.id;
}

/**
 * NOTIFY channel: a ping key stopped or started naming a node (moved, rotated, given on creation,
 * its node deleted). The payload is empty: the key is a credential, and a listener clears what it
 * remembers of every key (src/ingest/ping-keys.ts).
 */
export const PING_KEY_CHANNEL = 'lifeline_ping_keys';

/** Tells every process, as `tx` commits, that what its ping keys stand for may have changed. */
export async function announcePingKeyChange(tx: Queryable): Promise<void> {
  await tx`select pg_notify(${PING_KEY_CHANNEL}, '')`;
}

/** The node a ping key names; undefined when no node has it. */
export async function findPingNode(sql: Queryable, pingKey: string): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`select id from nodes where ping_key = ${pingKey}`;
  return row?.id;
}

/**
 * Deletes a node and its rows: by cascade, except its state log (no foreign key, sql/0016), deleted
 * after the node. The node's deletion waits for an evaluator transaction that changed its state
 * (the cascade to node_health waits for that row), so this second statement sees that
 * transaction's log rows, and no later one writes any: its compare-and-set finds no node_health row.
 * Returns what the node was, or undefined if there was none.
 */
export async function deleteNode(tx: Queryable, id: string): Promise<NodeRef | undefined> {
  const [row] = await tx<NodeRef[]>`delete from nodes where id = ${id} returning id, name`;
  if (row) await tx`delete from node_state_log where node_id = ${id}`;
  return row;
}

/** Resolves names or ids in one round trip (batch ingest, maintenance windows). */
export async function findNodeRefs(sql: Queryable, refs: string[]): Promise<NodeRef[]> {
  const ids = refs.filter(isUuid);
  return sql<NodeRef[]>`
    select id, name from nodes
    where name = any(${refs}::text[]) ${ids.length ? sql`or id = any(${ids}::uuid[])` : sql``}`;
}

/** Every node id after `afterId`, in id order (a rebuild of the whole fleet walks them in chunks). */
export async function nodeIdsAfter(sql: Queryable, afterId: string | undefined, limit: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from nodes ${afterId === undefined ? sql`` : sql`where id > ${afterId}::uuid`} order by id limit ${limit}`;
  return rows.map((r) => r.id);
}

/**
 * The status page components (by index into `components`) whose labels no node carries: they
 * select nothing by label, whatever they list by id. One query; each probe uses the GIN index on
 * nodes.labels.
 */
export async function labelsMatchingNothing(sql: Queryable, components: ReadonlyArray<Pick<ComponentSpec, 'labels'>>): Promise<Set<number>> {
  const labelled = components.flatMap((c, i) => (Object.keys(c.labels).length ? [{ i, labels: c.labels }] : []));
  if (labelled.length === 0) return new Set();
  const rows = await sql<Array<{ component: number }>>`
    select (c->>'i')::int as component from jsonb_array_elements(${sql.json(labelled as never)}::jsonb) c
    where not exists (select 1 from nodes n where n.labels @> (c->'labels'))`;
  return new Set(rows.map((r) => r.component));
}

export async function listTransitions(
  sql: Queryable,
  nodeId: string,
  beforeVersion: number | undefined,
  limit: number,
): Promise<TransitionRow[]> {
  return sql<TransitionRow[]>`
    select from_state, to_state, at, reason, state_version from node_state_log
    where node_id = ${nodeId} ${beforeVersion !== undefined ? sql`and state_version < ${beforeVersion}` : sql``}
    order by state_version desc
    limit ${limit}`;
}

export async function countNodesByState(sql: Queryable): Promise<Record<string, number>> {
  const rows = await sql<{ state: string; n: number }[]>`select state, count(*)::int as n from node_health group by state`;
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

/**
 * Creates nodes for unknown names with default settings (ingest auto-registration). Concurrent
 * registrations of one name resolve to the same node: the loser's insert does nothing. Each gets a
 * random token nobody has seen; rotating it is how an operator hands one to an agent.
 */
export async function registerNodes(
  tx: Queryable,
  names: string[],
  tokenHashes: string[],
  defaults: NodeSettings,
  now: Date,
  /** Each name's heartbeat interval; the default's for every name when absent. */
  intervals: number[] = names.map(() => defaults.heartbeat_interval_seconds),
): Promise<{ refs: NodeRef[]; created: NodeRef[] }> {
  const created = await tx<NodeRef[]>`
    insert into nodes (name, labels, heartbeat_interval_seconds, grace_seconds, failures_for_down,
                       successes_for_recovery, token_hash, created_at, updated_at)
    select name, '{}', interval_seconds, ${defaults.grace_seconds}, ${defaults.failures_for_down},
           ${defaults.successes_for_recovery}, token_hash, ${now}, ${now}
    from unnest(${names}::text[], ${tokenHashes}::text[], ${intervals}::int[]) as v(name, token_hash, interval_seconds)
    on conflict (name) do nothing
    returning id, name`;
  await insertCompanionRows(tx, created.map((r) => r.id), now);
  const refs = await tx<NodeRef[]>`select id, name from nodes where name = any(${names}::text[])`;
  return { refs, created };
}

export async function nodeStates(sql: Queryable, nodeIds: string[]): Promise<Map<string, State>> {
  if (nodeIds.length === 0) return new Map();
  const rows = await sql<{ node_id: string; state: State }[]>`select node_id, state from node_health where node_id = any(${nodeIds}::uuid[])`;
  return new Map(rows.map((r) => [r.node_id, r.state]));
}

/** Each node's labels, health state and reason now (null before its first judgement) and whether it is a scheduled job, for messages. */
export async function nodesLabelsAndStates(
  sql: Queryable,
  nodeIds: string[],
): Promise<Map<string, { labels: Record<string, string>; state: State | null; reason: string | null; scheduled: boolean }>> {
  if (nodeIds.length === 0) return new Map();
  const rows = await sql<{ id: string; labels: Record<string, string>; state: State | null; reason: string | null; scheduled: boolean }[]>`
    select n.id, n.labels, h.state, h.reason, n.schedule is not null as scheduled
    from nodes n left join node_health h on h.node_id = n.id where n.id = any(${nodeIds}::uuid[])`;
  return new Map(rows.map((r) => [r.id, { labels: r.labels, state: r.state, reason: r.reason, scheduled: r.scheduled }]));
}
