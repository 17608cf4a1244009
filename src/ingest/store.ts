import type { Queryable } from '../db/client.ts';
import { LOCKS } from '../db/locks.ts';
import type { Coverage } from '../health/decide.ts';
import type { CoalescedHeartbeat } from './model.ts';

/**
 * The first statement of every transaction that writes heartbeats: the heartbeat-write lock,
 * shared (flushes never wait for each other). An evaluator taking nodes out of healthy takes it
 * exclusively before pushing them back, so a flush either commits before that push-back compares
 * heartbeat counts, or runs after it committed and so sees the new state when deciding whether to
 * wake a node. Taken before any row lock, so a flush never waits for it while holding something.
 */
export async function shareHeartbeatWrites(tx: Queryable): Promise<void> {
  await tx`select pg_advisory_xact_lock_shared(${LOCKS.heartbeatWrites})`;
}

/**
 * One statement for the whole batch: `UPDATE … FROM unnest(...)` rewrites each node's single heartbeat
 * row (HOT: no indexed column changes) and, only for heartbeats that may change a state — a non-ok
 * report, or any report from a node that is not healthy — pulls the node's due time forward so the
 * evaluator looks at it next tick. A healthy fleet reporting ok touches nothing but its own rows.
 * A heartbeat whose seq is not above the stored one is stale and ignored, unless the stored
 * heartbeat is one interval old: then only its seq is taken (a restarted sender's next heartbeat
 * is stored), not its status or time, since it may as well be a late copy of an older heartbeat.
 * A node's worst non-ok report that a later one replaced (CoalescedHeartbeat.failure) is stored
 * with the wake-up it makes (it reset the streak), for the evaluator to judge before the latest
 * (node_due.hidden_failure_*, sql/0029). Those columns are sent and set only by a flush that
 * holds such a report: every other flush sends the statement it sent before they existed (no
 * array of nulls, no extra assignment), and leaves them as they are, since the evaluator judges a
 * stored failure only when it is newer than the node's state.
 * The caller's transaction must have taken shareHeartbeatWrites first, or the wake decision may
 * read a state an evaluator is about to replace.
 */
export async function writeHeartbeats(tx: Queryable, batch: CoalescedHeartbeat[], now: Date): Promise<Written> {
  if (batch.length === 0) return { written: 0, recovering: [], woken: 0 };
  const failed = batch.filter((b) => b.failure !== null);
  const withFailures = failed.length > 0;
  const rows = await tx<{ n: number; woken: number; recovering?: string[] }[]>`
    with v as (
      select * from unnest(
        ${batch.map((b) => b.nodeId)}::uuid[], ${batch.map((b) => b.at.toISOString())}::timestamptz[],
        ${batch.map((b) => b.status)}::text[], ${batch.map((b) => jsonText(b.checks))}::text[]::jsonb[],
        ${batch.map((b) => (b.seq == null ? null : String(b.seq)))}::bigint[], ${batch.map((b) => b.okRun)}::int[],
        ${tx.array(batch.map((b) => b.reset))}::bool[], ${batch.map((b) => b.count)}::int[]
      ) as v(node_id, at, status, checks, seq, ok_run, reset, n)
    )${withFailures ? failureRows(tx, failed) : tx``}, hb as (
      -- newer: no seq on either side, or a higher one (null compares to null: coalesce).
      update node_heartbeats h set
        last_heartbeat_at = case when coalesce(v.seq > h.last_seq, true) then v.at else h.last_heartbeat_at end,
        last_status = case when coalesce(v.seq > h.last_seq, true) then v.status else h.last_status end,
        checks = case when coalesce(v.seq > h.last_seq, true) then v.checks else h.checks end,
        last_seq = coalesce(v.seq, h.last_seq),
        ok_streak = case when not coalesce(v.seq > h.last_seq, true) then h.ok_streak when v.reset then v.ok_run else h.ok_streak + v.ok_run end,
        received = case when coalesce(v.seq > h.last_seq, true) then h.received + v.n else h.received end
      from v
      where h.node_id = v.node_id and (
        v.seq is null or h.last_seq is null or v.seq > h.last_seq
        -- A lower seq is a sender that started again (its counter, or its clock for the bundled
        -- agent, went back), or a late copy of an older heartbeat: once nothing was stored for
        -- one heartbeat interval its seq alone is taken, so one seq from the far future cannot
        -- silence the node for good, while a late "failing" cannot mark a healthy node down.
        -- The interval is read only for such rows (OR stops at the first true), so a fleet
        -- counting up joins nothing.
        or h.last_heartbeat_at <= v.at - (select n.heartbeat_interval_seconds from nodes n where n.id = h.node_id) * interval '1 second')
      -- RETURNING sees the new row: a stored heartbeat is one whose time was written.
      returning h.node_id, v.reset, case when h.last_heartbeat_at = v.at then v.at end as stored_at, v.ok_run, h.ok_streak, h.received
    ), woken as (
      update node_due d set due_at = least(d.due_at, ${now}), wake = d.wake + 1, streak_met_at = ${streakMet(tx, withFailures)}${withFailures ? storeFailures(tx) : tx``}
      from hb join node_health nh on nh.node_id = hb.node_id${withFailures ? tx` left join f on f.node_id = hb.node_id` : tx``}
      where d.node_id = hb.node_id and hb.stored_at is not null and (hb.reset or nh.state <> 'healthy'${withFailures ? tx` or f.node_id is not null` : tx``})
      returning ${withFailures ? stillRecovering(tx) : tx`1`}
    )
    select count(*)::int as n, (select count(*)::int from woken) as woken${withFailures ? tx`, (select coalesce(array_agg(node_id), '{}') from woken where short) as recovering` : tx``} from hb where stored_at is not null`;
  return { written: rows[0]?.n ?? 0, recovering: rows[0]?.recovering ?? [], woken: rows[0]?.woken ?? 0 };
}

/**
 * What a flush stored: how many heartbeats, the nodes whose kept failure ingest must carry on
 * (stillRecovering), and how many nodes it made due (the flush tells the evaluator only then).
 */
export interface Written {
  written: number;
  recovering: string[];
  woken: number;
}

/**
 * The nodes of a flush with a kept failure that ingest still reads as healthy, the failure not yet
 * judged (newer than the state) and the ok streak after it short of successes_for_recovery: the
 * flush that meets it must wake the node and record the moment (streakMet), which it does only
 * for a node it reads as not healthy or holding a failure. So ingest carries the failure on into
 * their next flushes (HeartbeatBuffer.carryOn) until one meets the threshold or finds the node
 * judged: without it, a node needing 2 ok reports that failed while the evaluator was away and
 * met them a flush later recovered at the evaluator's return (the latest heartbeat), not then.
 */
const stillRecovering = (tx: Queryable) => tx`d.node_id::text as node_id,
        f.node_id is not null and nh.state = 'healthy' and d.hidden_failure_at > nh.since
          and least(hb.ok_streak, hb.received - nh.received_at_entry) < (select n.successes_for_recovery from nodes n where n.id = d.node_id) as short`;

/**
 * When a node that is not healthy met its recovery threshold in this flush, the time of the latest
 * report (node_due.streak_met_at, sql/0034): the ok reports since its state was entered, counted as
 * the evaluator counts them (the streak, at most the heartbeats received since entry), reached
 * successes_for_recovery with this flush's ok reports (`ok_run`, after any non-ok one). Set only in
 * the wake-up, which every heartbeat for such a node makes, so a healthy fleet's flush runs none of
 * it; successes_for_recovery is probed only for a woken node not healthy with ok reports. An evaluator
 * that was away stamps the recovery here, not at the latest heartbeat when it comes back.
 * Also for a node read as healthy with a kept failure in this flush (failed while the evaluator was
 * away: it is down from that failure, and its ok reports after it are the streak, which the failure
 * restarted): its recovery at 5 s with ok reports every second read down until 40 s, when the
 * evaluator came back. Only in a flush holding such a failure, so every other flush sends the
 * statement it sent before; ingest carries the failure on into the node's later flushes while its
 * streak is short (stillRecovering), so a threshold of 2 or more met a flush later is seen there.
 */
const streakMet = (tx: Queryable, withFailures: boolean) => tx`case
        when (nh.state <> 'healthy'${withFailures ? tx` or f.node_id is not null` : tx``}) and hb.ok_run > 0
         and (select n.successes_for_recovery from nodes n where n.id = d.node_id)
             between least(hb.ok_streak, hb.received - nh.received_at_entry) - hb.ok_run + 1 and least(hb.ok_streak, hb.received - nh.received_at_entry)
        then hb.stored_at else d.streak_met_at end`;

const jsonText = (v: unknown) => (v == null ? null : JSON.stringify(v));

/**
 * The batch's replaced failures, only the nodes that have one (a handful in a flush of up to
 * 100,000 rows), as a second small unnest joined to the wake-up: the batch's own arrays stay as
 * they are, not three more as long with a null for every other node.
 */
const failureRows = (tx: Queryable, failed: CoalescedHeartbeat[]) => tx`, f as (
      select * from unnest(
        ${failed.map((b) => b.nodeId)}::uuid[], ${failed.map((b) => b.failure!.at.toISOString())}::timestamptz[],
        ${failed.map((b) => b.failure!.status)}::text[], ${failed.map((b) => jsonText(b.failure!.checks))}::text[]::jsonb[]
      ) as f(node_id, at, status, checks)
    )`;

/**
 * A stored heartbeat's failure is kept for the evaluator, unless the one kept already is still to
 * be judged (newer than the state): that one is older, so the outage starts there and says why,
 * where the later one would start it late with the wrong reason. Without a failure in this flush,
 * the kept one stays. Set in the wake-up, which every stored failure makes: a replaced one reset
 * the streak, and the last flush's failure carried by a node reporting only ok since (see
 * HeartbeatBuffer.flushedFailures) wakes it for that alone.
 */
const storeFailures = (tx: Queryable) => tx`,
        hidden_failure_at = case when f.node_id is null or d.hidden_failure_at > nh.since then d.hidden_failure_at else f.at end,
        hidden_failure_status = case when f.node_id is null or d.hidden_failure_at > nh.since then d.hidden_failure_status else f.status end,
        hidden_failure_checks = case when f.node_id is null or d.hidden_failure_at > nh.since then d.hidden_failure_checks else f.checks end`;

/**
 * Records that this ingest process has persisted every heartbeat it received before `at`, and
 * extends the fleet-wide coverage. A silence longer than `gapMs` since any ingest was last seen
 * means nobody was listening: coverage restarts at `at` and the dark interval is returned.
 */
export async function advanceCoverage(
  tx: Queryable,
  instanceId: string,
  at: Date,
  gapMs: number,
): Promise<{ gapFrom: Date | null }> {
  await tx`
    insert into ingest_presence (instance_id, seen_at) values (${instanceId}, ${at})
    on conflict (instance_id) do update set seen_at = greatest(ingest_presence.seen_at, excluded.seen_at)`;
  const [row] = await tx<{ seen_at: Date }[]>`select seen_at from ingest_coverage for update`;
  if (!row) {
    await tx`insert into ingest_coverage (since, seen_at) values (${at}, ${at}) on conflict (id) do nothing`;
    return { gapFrom: null };
  }
  if (at.getTime() - row.seen_at.getTime() > gapMs) {
    await tx`update ingest_coverage set since = ${at}, blind_from = seen_at, seen_at = ${at}`;
    // Processes that died without saying goodbye must not hold the watermark back for ever.
    await tx`delete from ingest_presence where seen_at < ${row.seen_at}`;
    return { gapFrom: row.seen_at };
  }
  await tx`update ingest_coverage set seen_at = greatest(seen_at, ${at})`;
  return { gapFrom: null };
}

/**
 * After a gap every node is judged afresh: ok streaks restart (only heartbeats heard since coverage
 * resumed, at `now` or later, count towards recovery, as decide.ts judges only those) and every
 * node is due so the dark time is recorded as unknown. Run after the flush's own heartbeats, which
 * were received in the dark but for one received at `now` itself.
 */
export async function resetAfterGap(tx: Queryable, now: Date): Promise<void> {
  await tx`update node_heartbeats set ok_streak = 0 where ok_streak <> 0 and last_heartbeat_at < ${now}`;
  await tx`update node_due set due_at = ${now}, wake = wake + 1`;
}

export async function leaveCoverage(sql: Queryable, instanceId: string): Promise<void> {
  await sql`delete from ingest_presence where instance_id = ${instanceId}`;
}

/**
 * Coverage as the evaluator sees it; the watermark is the slowest live ingest process's flush.
 * Sent at the call (execute), so statements called after it in the same pipeline run after it.
 */
export async function readCoverage(sql: Queryable, now: Date, gapMs: number): Promise<Coverage | undefined> {
  const [row] = await sql<{ since: Date; blind_from: Date | null; watermark: Date }[]>`
    select c.since, c.blind_from,
           coalesce((select min(seen_at) from ingest_presence
                     where seen_at > ${new Date(now.getTime() - gapMs)}), c.seen_at) as watermark
    from ingest_coverage c`.execute();
  if (!row) return undefined;
  return { since: row.since, blindFrom: row.blind_from, seenAt: row.watermark };
}
