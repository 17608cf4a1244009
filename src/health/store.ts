import type postgres from 'postgres';
import type { Queryable } from '../db/client.ts';
import { LOCKS } from '../db/locks.ts';
import { notifyAll } from '../db/notify.ts';
import { LIVE_CHANNEL, nodeNotices, reasonNotices } from '../live/model.ts';
import { OUTBOX_CHANNEL } from '../outbox/store.ts';
import { plainArray, textArray } from '../db/array-literal.ts';
import { IntArrayReader } from '../db/int-array-reader.ts';
import type { CronSchedule } from './cron-deadline.ts';
import type { Checks, HeartbeatStatus, State } from './decide.ts';
import type { DueCursor, DueRow, HealthWrite, NodeWalk, PassCursor, Reschedule } from './model.ts';


/**
 * NOTIFY channel the evaluator LISTENs on: nodes were made due now, so the leader judges them at
 * once rather than at its next tick (up to LIFELINE_EVALUATOR_INTERVAL_MS). Sent in the
 * transaction of the write that made them due (delivered at commit, dropped on rollback), by an
 * ingest flush and by an operator's write that can change a decision: a maintenance window made
 * or ended (one starting later: its start is the new earliest due time), a node's timing,
 * schedule or labels edited. Named for the flush, its first sender, and
 * kept so: an evaluator of the previous release, during a rolling upgrade, hears the others too.
 */
export const DUE_CHANNEL = 'lifeline_flushed';

export async function announceDue(tx: Queryable): Promise<void> {
  await tx`select pg_notify(${DUE_CHANNEL}, '')`;
}

/**
 * An instant as whole epoch milliseconds. An infinite one (none of the engine's writes makes one,
 * but a hand-made row may hold it) reads as NULL: as int8 it would fail the whole batch's read,
 * where no node can be set apart as the one at fault, and so stop every pass.
 */
const epochMs = (sql: Queryable, column: postgres.Fragment) =>
  sql`case when isfinite(${column}) then floor(round(date_part('epoch', ${column}) * 1e6) / 1000)::int8 end`;

/**
 * The failed run a failure ping received at `at` ended, as jsonb. Its last 1,000 characters:
 * decide.ts picks the last line with something to read once terminal sequences are gone, which
 * may not be the last line here (a colour reset alone on one).
 */
const failedRunAt = (sql: Queryable, at: postgres.Fragment) => sql`(
  select jsonb_build_object('exit_code', r.exit_code, 'tail', right(r.output, 1000))
  from node_runs r
  where r.node_id = d.node_id and r.status = 'failure' and r.finished_at = ${at}
  order by r.id desc limit 1)`;

/**
 * Everything the evaluator judges a node on, from its four rows, as arrays of column values
 * (`values()`) that dueRowOf turns into DueRows. Every number comes in one int8[] printed as text,
 * read digit by digit (IntArrayReader): postgres.js would make a string per column and a number from
 * it, and build each row as an object by adding its ~20 keys one at a time. Instants are epoch
 * milliseconds, rounded to the microsecond first (float8 epoch seconds carry it only to ~0.2 µs),
 * then cut to the millisecond like a Date parsed from the text; when a node's schedule was set
 * (its creation, or a later edit) only for a scheduled job, the one kind judged on it.
 */
const dueRows = (sql: Queryable) => sql`
    select d.node_id, n.name, n.schedule, h.state, hb.last_status, hb.checks,
           array[n.heartbeat_interval_seconds, n.grace_seconds, n.failures_for_down, n.successes_for_recovery,
                 h.version, h.received_at_entry, hb.ok_streak, hb.received, d.wake, d.failures,
                 ${epochMs(sql, sql`h.since`)}, ${epochMs(sql, sql`hb.last_heartbeat_at`)}, ${epochMs(sql, sql`hb.run_started_at`)},
                 case when n.schedule is not null then ${epochMs(sql, sql`coalesce(n.schedule_since, n.created_at)`)} end,
                 case when isfinite(d.due_at) then round(date_part('epoch', d.due_at) * 1e6)::int8 end,
                 case when d.hidden_failure_at > h.since then ${epochMs(sql, sql`d.hidden_failure_at`)} end,
                 case when d.streak_met_at > h.since then ${epochMs(sql, sql`d.streak_met_at`)} end]::text as numbers,
           -- The failed run a failure ping ended, for the reason ("exited with status 3: disk full"):
           -- the ping's run row has the heartbeat's receive time, so an agent's later "failing"
           -- matches none. Looked up only for a node whose last report is failing (a probe of
           -- node_runs_failed, sql/0024); nothing is added to ingest's writes.
           case when hb.last_status = 'failing' then ${failedRunAt(sql, sql`hb.last_heartbeat_at`)} end as failed_run,
           -- A failure a later report of the same flush replaced (sql/0029), read only while it is
           -- newer than the state (decide.ts judges it then). Stored failures are never cleared, so
           -- once judged (or absent, the common case) it is four nulls, not a status, a checks
           -- document and a time sent and parsed on every later read of the node.
           case when d.hidden_failure_at > h.since then d.hidden_failure_status end,
           case when d.hidden_failure_at > h.since then d.hidden_failure_checks end,
           case when d.hidden_failure_status = 'failing' and d.hidden_failure_at > h.since
                then ${failedRunAt(sql, sql`d.hidden_failure_at`)} end as hidden_failure_run,
           -- The reason, for a node down or degraded: a judgement of the same state for another
           -- reason replaces it (decide.ts, ReasonChange). A healthy fleet's pass reads none.
           case when h.state in ('down', 'degraded') then h.reason end as reason
    from node_due d
    join nodes n on n.id = d.node_id
    join node_health h on h.node_id = d.node_id
    join node_heartbeats hb on hb.node_id = d.node_id
    -- No ingest has ever run: there is nothing any node could be judged on (read in the same
    -- round trip as the coverage itself, so this says so without waiting for it).
    where exists (select 1 from ingest_coverage)`;

type DueValues = [
  string, string, CronSchedule | null, State, HeartbeatStatus | null, Checks | null, string, DueRow['failed_run'],
  HeartbeatStatus | null, Checks | null, DueRow['failed_run'], string | null,
];

const numbers = new IntArrayReader();

/** A due row from its column values, in dueRows's order. */
function dueRowOf(v: DueValues): DueRow {
  numbers.read(v[6]);
  return {
    node_id: v[0],
    name: v[1],
    schedule: v[2],
    state: v[3],
    last_status: v[4],
    checks: v[5],
    heartbeat_interval_seconds: numbers.next()!,
    grace_seconds: numbers.next()!,
    failures_for_down: numbers.next()!,
    successes_for_recovery: numbers.next()!,
    version: numbers.next()!,
    received_at_entry: numbers.next()!,
    ok_streak: numbers.next()!,
    received: numbers.next()!,
    wake: numbers.next()!,
    failures: numbers.next()!,
    since_ms: numbers.next()!,
    last_heartbeat_at_ms: numbers.next(),
    run_started_at_ms: numbers.next(),
    schedule_since_ms: numbers.next(),
    due_us: numbers.next()!,
    hidden_failure_at_ms: numbers.next(),
    streak_met_at_ms: numbers.next(),
    failed_run: v[7],
    hidden_failure_status: v[8],
    hidden_failure_checks: v[9],
    hidden_failure_run: v[10],
    reason: v[11],
  };
}

const dueRowsOf = (values: unknown[]): DueRow[] => (values as DueValues[]).map(dueRowOf);

/** Rows after `cursor` in due order; the cursor's due_at turned back into a timestamptz by whole microseconds. */
const afterInDueOrder = (sql: Queryable, cursor: DueCursor) =>
  sql`(d.due_at, d.node_id) > (timestamptz 'epoch' + ${cursor.dueUs}::int8 * interval '1 microsecond', ${cursor.nodeId}::uuid)`;

/**
 * Nodes whose due time has come, resuming after `cursor` within one tick: in due order, or, for a
 * pass that walks by node id (mostlyDue), the nodes due after its due-order start in node id order.
 * This and loadDueNodes are sent at the call (execute): postgres.js sends statements in the order
 * they are started, and an awaited query is started a microtask late, after any started explicitly.
 */
export async function loadDue(sql: Queryable, now: Date, cursor: PassCursor | undefined, limit: number): Promise<DueRow[]> {
  if (cursor && 'from' in cursor) return walkDue(sql, now, cursor, limit);
  return sql`
    ${dueRows(sql)}
      and d.due_at <= ${now}
      ${cursor ? sql`and ${afterInDueOrder(sql, cursor)}` : sql``}
    order by d.due_at, d.node_id
    limit ${limit}`
    .values()
    .execute()
    .then(dueRowsOf);
}

/**
 * When most of the fleet is due (a mass outage, a new leader), a batch in due order joins each row to
 * the other three tables by a primary-key descent per table, in random order. In node id order the
 * four primary keys are walked side by side instead (merge joins, each index scan starting at the
 * walk's last node), every index page read once: Postgres CPU of a 5,000-row batch's joins and
 * columns 47-50 → 23-32 ms at 100,000 nodes all due (65,000 → 23,000 buffer hits). The walk also
 * passes every node that is not due, so it pays only when most are (mostlyDue). The planner is
 * told: its estimate of the due set is the statistics', which after a restart say nothing is due,
 * and it then sorts every due row per batch.
 */
function walkDue(sql: Queryable, now: Date, walk: NodeWalk, limit: number): Promise<DueRow[]> {
  const after = sql`${walk.after}::uuid`;
  return withPlanner(sql, ['enable_nestloop', 'enable_hashjoin', 'enable_sort'], () =>
    sql`
      ${dueRows(sql)}
        and d.due_at <= ${now} and ${afterInDueOrder(sql, walk.from)}
        and d.node_id > ${after} and n.id > ${after} and h.node_id > ${after} and hb.node_id > ${after}
      order by d.node_id
      limit ${limit}`
      .values()
      .execute()
      .then(dueRowsOf),
  );
}

/**
 * Whether the nodes due after `from` (in due order) are at least half the fleet, so that walking
 * the fleet by node id costs less than a descent per table per due node (walkDue). Asked once for
 * a pass whose first batch is full. The fleet is counted only up to twice the due count plus one:
 * at 1,000,000 nodes a steady tick has ~5,600 due, its first batch is full, and a whole count of
 * `node_due` (whose pages are rarely all-visible, as due times move all the time) on every such
 * tick would read a million entries to answer no.
 */
export async function mostlyDue(sql: Queryable, now: Date, from: DueCursor): Promise<boolean> {
  const [row] = await sql<{ mostly: boolean }[]>`
    with due as (select count(*) as n from node_due d where d.due_at <= ${now} and ${afterInDueOrder(sql, from)})
    select (select count(*) from (select from node_due limit (select 2 * n + 1 from due)) fleet)
           <= (select 2 * n from due) as mostly`;
  return row!.mostly;
}

/**
 * Keeps the rest of the caller's transaction on its own backend. The planner gives a 5,000-row
 * due read a parallel worker: one started per batch, its rows passed back through a queue, while
 * the other core is busy writing the previous batch. Alternated at 100,000 nodes, load 7-8: the
 * read took 66-189 ms (median ~95 ms) without it, 88-188 ms (median ~111 ms) with it.
 */
export function withoutParallelWorkers(tx: Queryable) {
  return tx`set local max_parallel_workers_per_gather = 0`.execute();
}

/** The given nodes that are still due, as loadDue reads them (a failed batch judged again in parts). */
export async function loadDueNodes(sql: Queryable, now: Date, nodeIds: string[]): Promise<DueRow[]> {
  return sql`
    ${dueRows(sql)}
      and d.node_id = any(${nodeIds}::uuid[]) and d.due_at <= ${now}
    order by d.due_at, d.node_id`
    .values()
    .execute()
    .then(dueRowsOf);
}

export async function earliestDue(sql: Queryable): Promise<Date | null> {
  const [row] = await sql<{ due_at: Date }[]>`select due_at from node_due where due_at <> 'infinity' order by due_at limit 1`;
  return row?.due_at ?? null;
}

/**
 * Runs `fn` with the planner's `methods` (enable_* settings) off, and puts back after it what they
 * were (an operator may have turned one off for the role or database), kept meanwhile in
 * transaction-local `lifeline.was_*` settings: the statements go out together, one round trip, so
 * the last cannot wait for the first's answer. `fn` must start its own at the call (execute): an
 * awaited query starts a microtask late, behind the statement that restores them.
 */
async function withPlanner<T>(tx: Queryable, methods: string[], fn: () => Promise<T>): Promise<T> {
  const off = tx`
    select set_config('lifeline.was_' || m, current_setting(m), true), set_config(m, 'off', true)
    from unnest(${methods}::text[]) as m`.execute();
  const out = fn();
  const back = tx`select set_config(m, current_setting('lifeline.was_' || m), true) from unnest(${methods}::text[]) as m`.execute();
  return (await Promise.all([off, out, back]))[1];
}

/**
 * Runs `fn` with hash joins off. The evaluator's compare-and-set updates join a 5,000-row unnest
 * to a table of the whole fleet by primary key; the planner underestimates those joins (25 rows)
 * and hashes the whole table: at 100k nodes a 100k-row scan per batch (a reschedule took 118 ms,
 * against 32 ms with primary-key lookups, measured on 5,000 rows). Only those statements need
 * it: other joins in the same transaction (5,000 × 5,000) must stay hashed.
 */
const withPrimaryKeyJoins = <T>(tx: Queryable, fn: () => Promise<T>) => withPlanner(tx, ['enable_hashjoin'], fn);

/**
 * Writes state changes, their log rows and their outbox rows in the caller's transaction, as a
 * compare-and-set on version: a node whose version moved since it was read (another writer won)
 * is skipped whole — no log row, no event. Returns the ids that were written. A new reason for
 * the state a node is left in (HealthWrite.reasonChange) is stored with it and leaves as a
 * `node.reason_changed` event after the node's transitions, for its open incident's timeline: no
 * log row and no new version, as the node is in the same state, the same outage.
 */
export async function writeTransitions(tx: Queryable, writes: HealthWrite[], now: Date): Promise<Set<string>> {
  if (writes.length === 0) return new Set();
  const won = await withPrimaryKeyJoins(tx, () =>
    tx<{ node_id: string }[]>`
      update node_health h
      -- A new reason alone (n = 0) keeps the state's start as stored, to the microsecond.
      set state = v.state, since = case when v.n > 0 then v.since else h.since end, reason = v.reason, version = h.version + v.n, received_at_entry = v.entry
      from unnest(
        ${plainArray(writes.map((w) => w.nodeId))}::uuid[], ${plainArray(writes.map((w) => w.expectedVersion))}::int[],
        ${plainArray(writes.map((w) => w.transitions.length))}::int[], ${plainArray(writes.map((w) => w.state))}::text[],
        ${plainArray(writes.map((w) => w.since.toISOString()))}::timestamptz[], ${textArray(writes.map((w) => w.reason))}::text[],
        ${plainArray(writes.map((w) => w.receivedAtEntry))}::bigint[]
      ) as v(node_id, expected, n, state, since, reason, entry)
      where h.node_id = v.node_id and h.version = v.expected
      returning h.node_id`
      .execute()
      .then((rows) => new Set(rows.map((r) => r.node_id))),
  );
  const t = writes
    .filter((w) => won.has(w.nodeId))
    .flatMap((w) => w.transitions.map((tr, i) => ({ nodeId: w.nodeId, name: w.nodeName, version: w.expectedVersion + i + 1, ...tr })));
  const renamed = writes.filter((w) => w.reasonChange && won.has(w.nodeId));
  if (t.length === 0 && renamed.length === 0) return won;
  // The rows, the outbox's wake-up and the live notices in one round trip; a node's new reason after its transitions.
  const written = t.length === 0 ? undefined : tx`
    with t as (
      select * from unnest(
        ${plainArray(t.map((x) => x.nodeId))}::uuid[], ${plainArray(t.map((x) => x.version))}::int[], ${plainArray(t.map((x) => x.from))}::text[],
        ${plainArray(t.map((x) => x.to))}::text[], ${plainArray(t.map((x) => x.at.toISOString()))}::text[],
        ${textArray(t.map((x) => x.reason))}::text[], ${textArray(t.map((x) => x.name))}::text[]
      ) with ordinality as t(node_id, state_version, from_state, to_state, at, reason, node_name, ord)
    ), log as (
      insert into node_state_log (node_id, state_version, from_state, to_state, at, reason)
      select node_id, state_version, from_state, to_state, at::timestamptz, reason from t
    )
    -- The payload is built here rather than stringified per row in JS (about half the client
    -- time of a 5,000-transition batch). 'at' is the text sent, toISOString's millisecond RFC 3339
    -- form, rather than to_char of the stored instant (~0.5 µs a row, ~55 ms a 100,000-node outage).
    insert into outbox (topic, key, payload, created_at, available_at)
    select 'node.state_changed', node_id::text,
           jsonb_build_object('node_id', node_id, 'node_name', node_name, 'from', from_state, 'to', to_state,
                              'at', at, 'reason', reason, 'state_version', state_version),
           ${now}, ${now}
    from t order by ord`.execute();
  await Promise.all([
    written,
    renamed.length === 0 ? undefined : reasonChanges(tx, renamed, now),
    tx`select pg_notify(${OUTBOX_CHANNEL}, '')`,
    // The live feed (console, GET /v1/events) hears of these at commit, in whichever process serves
    // it: the new reasons after the transitions, as their events are.
    notifyAll(tx, LIVE_CHANNEL, [
      ...nodeNotices(t.map((x) => ({ nodeId: x.nodeId, version: x.version }))),
      ...reasonNotices(renamed.map((w) => ({ nodeId: w.nodeId, version: w.expectedVersion + w.transitions.length }))),
    ]),
  ]);
  return won;
}

/** The `node.reason_changed` events of nodes left in their state for a new reason (started at the call, after the transitions' rows). */
function reasonChanges(tx: Queryable, writes: HealthWrite[], now: Date) {
  return tx`
    insert into outbox (topic, key, payload, created_at, available_at)
    select 'node.reason_changed', node_id::text,
           jsonb_build_object('node_id', node_id, 'node_name', node_name, 'state', state, 'at', at, 'reason', reason, 'state_version', state_version),
           ${now}, ${now}
    from unnest(
      ${plainArray(writes.map((w) => w.nodeId))}::uuid[], ${textArray(writes.map((w) => w.nodeName))}::text[],
      ${plainArray(writes.map((w) => w.reasonChange!.state))}::text[], ${plainArray(writes.map((w) => w.reasonChange!.at.toISOString()))}::text[],
      ${textArray(writes.map((w) => w.reasonChange!.reason))}::text[],
      ${plainArray(writes.map((w) => w.expectedVersion + w.transitions.length))}::int[]
    ) with ordinality as r(node_id, node_name, state, at, reason, state_version, ord)
    order by ord`.execute();
}

/**
 * Pushes due times back, only where the pass saw everything: not woken since it was read (wake).
 *
 * A flush wakes a node for an ok heartbeat only when it reads the node as not healthy, and it
 * reads the committed state. So a node this pass takes out of healthy could get an ok heartbeat
 * (a recovery) from a flush that still reads healthy and does not wake it. For those nodes the
 * heartbeat count must also be the one the pass read, compared under the heartbeat-write lock
 * taken exclusively: it waits for flushes in flight and holds new ones until this transaction
 * commits, so a flush that stored a heartbeat the pass did not read has committed (the count
 * differs, the node stays due) and a later one reads the new state and wakes the node. Any other
 * node is woken by such a flush whatever it reads, or gets an ok heartbeat that changes nothing
 * (healthy stays healthy), so a pass that takes nobody out of healthy — the steady state — takes
 * no lock. The lock comes before any node_due row is touched: a flush holding it shared may be
 * waiting for such a row.
 */
export async function reschedule(tx: Queryable, items: Reschedule[], now: Date): Promise<void> {
  if (items.length === 0) return;
  const guarded = items.filter((i) => i.leavesHealthy);
  const plain = items.filter((i) => !i.leavesHealthy);
  // Started in order, one round trip: the lock is still taken before any node_due row.
  const lock = guarded.length ? tx`select pg_advisory_xact_lock(${LOCKS.heartbeatWrites})`.execute() : undefined;
  await Promise.all([
    lock,
    withPrimaryKeyJoins(tx, () =>
      Promise.all([
        // Started here, in this order (pushBack executes). Two statements rather than one with a per-row condition: the steady state's keeps
        // exactly the plan it had before the comparison existed.
        plain.length ? pushBack(tx, plain, now, tx``) : undefined,
        // A scalar subquery, one primary-key probe per row: exists() is planned as a hash of the
        // whole table per batch.
        guarded.length
          ? pushBack(tx, guarded, now, tx`and (select hb.received from node_heartbeats hb where hb.node_id = v.node_id) = v.received`)
          : undefined,
      ]),
    ),
  ]);
}

/**
 * Due times go as whole milliseconds after `now`, NULL for none (infinity): a small integer's text
 * rather than a Date's toISOString per node (8 % of the client's all-due pass at 100,000 nodes),
 * and an integer rather than a timestamptz for Postgres to parse; exact either way.
 */
function pushBack(tx: Queryable, items: Reschedule[], now: Date, condition: postgres.Fragment) {
  const nowMs = now.getTime();
  return tx`
    update node_due d set due_at = coalesce(${now}::timestamptz + v.after_ms * interval '1 millisecond', 'infinity'), failures = 0
    from unnest(${plainArray(items.map((i) => i.nodeId))}::uuid[],
                ${plainArray(items.map((i) => (i.dueAt ? i.dueAt.getTime() - nowMs : 'NULL')))}::int8[],
                ${plainArray(items.map((i) => i.wake))}::bigint[], ${plainArray(items.map((i) => i.received))}::bigint[]) as v(node_id, after_ms, wake, received)
    where d.node_id = v.node_id and d.wake = v.wake ${condition}`.execute();
}

/**
 * Counts a failed attempt to judge one node and pushes its due time out by `delayMs(failures)`.
 * Returns the new count and due time; undefined if the node is gone.
 */
export async function deferFailedNode(
  tx: Queryable,
  nodeId: string,
  now: Date,
  delayMs: (failures: number) => number,
): Promise<{ failures: number; dueAt: Date } | undefined> {
  const [row] = await tx<{ failures: number }[]>`
    update node_due set failures = failures + 1 where node_id = ${nodeId} returning failures`;
  if (!row) return undefined;
  const dueAt = new Date(now.getTime() + delayMs(row.failures));
  await tx`update node_due set due_at = ${dueAt} where node_id = ${nodeId}`;
  return { failures: row.failures, dueAt };
}

/**
 * The evaluator's leader lock, a session-level advisory lock on the caller's own connection (see
 * Leadership). True when this call took it.
 */
export async function tryLeaderLock(sql: Queryable): Promise<boolean> {
  const [row] = await sql<{ ok: boolean }[]>`select pg_try_advisory_lock(${LOCKS.evaluatorLeader}) as ok`;
  return row?.ok === true;
}

/**
 * Whether the evaluator's leader lock is held in this database: by this session (`mine`), or by
 * any. One query for the leader's own check and a restore's (an engine is evaluating).
 */
async function leaderLockTaken(sql: Queryable, mine: boolean): Promise<boolean> {
  const [row] = await sql<{ held: boolean }[]>`
    select exists (
      select 1 from pg_locks
      where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
        and classid = 0 and objid = ${LOCKS.evaluatorLeader} and objsubid = 1
        ${mine ? sql`and pid = pg_backend_pid()` : sql``}
    ) as held`;
  return row?.held === true;
}

/** Whether this session holds the evaluator's leader lock now (a reconnected session does not). */
export const holdsLeaderLock = (sql: Queryable): Promise<boolean> => leaderLockTaken(sql, true);

/** Whether some session holds the evaluator's leader lock in this database: an engine is evaluating. */
export const leaderLockHeld = (sql: Queryable): Promise<boolean> => leaderLockTaken(sql, false);

/** Gives up the evaluator's leader lock held by this session. */
export async function releaseLeaderLock(sql: Queryable): Promise<void> {
  await sql`select pg_advisory_unlock(${LOCKS.evaluatorLeader})`;
}
