import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';
import { brief, createPipeline, freshPipeline, GAP_MS, transitionsOf } from '../helpers/pipeline.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');
const sec = (s: number) => new Date(T0.getTime() + s * 1000);

describe('honest restarts', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it('restarting a healthy fleet after ten minutes of downtime produces zero down transitions', async () => {
    const clock = new ManualClock(T0);
    const p = createPipeline(db, clock);
    await p.flush();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await p.addNode(`fleet-${i}`)); // interval 10 s, down after 20 s
    const silent = ids.pop()!; // one node really is dead after the restart
    for (const id of [...ids, silent]) p.beat(id);
    await p.tick();

    // The engine stops at 5 s: no ingest, no evaluator, for ten minutes.
    await p.runUntil(sec(5));
    clock.set(sec(605));
    p.restartIngest();
    await p.tick(); // first flush after the restart detects the gap; the pass records it

    // The fleet beats again within one interval of the restart.
    await p.runUntil(sec(608));
    for (const id of ids) p.beat(id);
    await p.tick();
    // Past the dead node's deadline as counted from the restart (605 + 20 s).
    await p.runUntil(sec(625));
    await p.tick();
    for (const id of ids) p.beat(id);
    await p.tick();

    const [{ downs }] = (await db.sql`
      select count(*)::int as downs from node_state_log where to_state = 'down' and node_id <> ${silent}`) as unknown as [{ downs: number }];
    assert.equal(downs, 0);
    assert.deepEqual(brief(await transitionsOf(db, ids[0]!), T0), ['unknown->healthy@0', 'healthy->unknown@5', 'unknown->healthy@608']);
    // The dead node is judged only on time it could have been heard: down at 605 + 20 s, not at 20 s.
    assert.deepEqual(brief(await transitionsOf(db, silent), T0), ['unknown->healthy@0', 'healthy->unknown@5', 'unknown->down@625']);
    await p.close();
  });

  it('catches up honestly after an evaluator-only outage while ingest kept watching', async () => {
    await db.sql`truncate nodes, node_state_log, outbox, ingest_coverage, ingest_presence cascade`;
    const clock = new ManualClock(T0);
    const p = createPipeline(db, clock);
    await p.flush();
    const id = await p.addNode('lonely');
    p.beat(id);
    await p.tick();
    // Ingest runs for five minutes but no evaluator does; the node never beats again.
    await p.runUntil(sec(300));
    await p.tick();
    // Ingest saw the deadline pass, so this is a real outage, stamped at its deadline.
    assert.deepEqual(brief(await transitionsOf(db, id), T0), ['unknown->healthy@0', 'healthy->down@20']);
    await p.close();
  });

  it('pushes every node of an all-due pass past now, over batches read ahead, whether or not its state changes', async () => {
    // Every node is due at one instant after a gap, or when a fleet is woken at once. Each must leave
    // the due set with a due time after now (its deadline, or none once down), even a node whose
    // decision changes nothing: a pass that wrote only the nodes whose state changed would leave
    // the rest due, judged again on every pass.
    await db.sql`truncate nodes, node_state_log, outbox, ingest_coverage, ingest_presence cascade`;
    const clock = new ManualClock(T0);
    const p = createPipeline(db, clock);
    await p.flush();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) ids.push(await p.addNode(`restart-${i}`)); // 10 s × 2: down 20 s after its last beat
    for (const id of ids) p.beat(id);
    await p.tick();
    const late = ids.pop()!; // silent from the restart on
    await p.runUntil(sec(5));
    clock.set(sec(605));
    p.restartIngest();
    await p.flush(); // the gap: every node due at 605
    // The leader's pass in batches of 5, each read ahead on the pool while the last is written.
    const batched = new Evaluator({ leadership: p.leadership, clock, log: testLog, intervalMs: 1000, coverageGapMs: GAP_MS, batchSize: 5, reader: db.sql });
    const stillDue = async () => ((await db.sql`select count(*)::int as n from node_due where due_at <= ${clock.now()}`) as unknown as [{ n: number }])[0].n;
    const allDue = async (transitions: number) => {
      const pass = await batched.runOnce();
      assert.deepEqual([pass.evaluated, pass.transitions], [ids.length + 1, transitions]);
      assert.equal(await stillDue(), 0);
      assert.equal((await batched.runOnce()).evaluated, 0);
    };
    await allDue(ids.length + 1); // every node healthy → unknown from the gap

    // The fleet beats again, every 10 s.
    for (const id of ids) p.beat(id);
    await p.tick();
    await p.runUntil(sec(615));
    for (const id of ids) p.beat(id);
    await p.tick();
    // Every node due at one instant with nothing to change: each is pushed to its own deadline.
    await db.sql`update node_due set due_at = ${clock.now()}, wake = wake + 1`;
    await allDue(0);
    const [{ due_at }] = (await db.sql`select due_at from node_due where node_id = ${ids[0]!}`) as unknown as [{ due_at: Date }];
    assert.equal(due_at.getTime(), sec(635).getTime()); // its last beat at 615 + 10 s × 2

    // The silent node goes down 20 s after the restart, once; the others stay healthy.
    await p.runUntil(sec(625));
    await p.tick();
    assert.deepEqual(brief(await transitionsOf(db, ids[0]!), T0), ['unknown->healthy@0', 'healthy->unknown@5', 'unknown->healthy@605']);
    assert.deepEqual(brief(await transitionsOf(db, late), T0), ['unknown->healthy@0', 'healthy->unknown@5', 'unknown->down@625']);
    await p.close();
  });
  it('stamps a recovery an evaluator away found when the ok streak met the threshold, not when it came back', async () => {
    const { clock, p } = await freshPipeline(db, undefined, T0);
    // 1 s × 2: down 2 s after its last beat; back after two ok heartbeats.
    const id = await p.addNode('back-while-away', { heartbeat_interval_seconds: 1, failures_for_down: 2, successes_for_recovery: 2 });
    // Back after three, beating twice between flushes: the flush holding the third holds a fourth.
    const pair = await p.addNode('two-a-flush', { heartbeat_interval_seconds: 1, failures_for_down: 2, successes_for_recovery: 3 });
    p.beat(id);
    p.beat(pair);
    await p.tick();
    await p.runUntil(sec(2));
    await p.tick();
    // No evaluator from here; ingest keeps flushing every second. Ok heartbeats from 9 s to 43 s.
    for (let t = 9; t <= 43; t++) {
      await p.runUntil(sec(t));
      p.beat(id);
      p.beat(pair);
      clock.set(sec(t + 0.5));
      p.beat(pair);
    }
    await p.tick();
    const log = await transitionsOf(db, id);
    // One beat is not a recovery from unknown: down 2 s after it.
    assert.deepEqual(brief(log, T0), ['unknown->down@2', 'down->healthy@10']);
    assert.equal(log[1]!.reason, '2 consecutive ok heartbeats');
    // The third came at 10 s; the flush that holds it records its latest report, 10.5 s.
    assert.deepEqual(brief(await transitionsOf(db, pair), T0), ['unknown->down@2', 'down->healthy@10.5']);
    await p.close();
  });

  it('stamps the recovery from an outage that began while the evaluator was away when its streak met the threshold', async () => {
    const { clock, p } = await freshPipeline(db, undefined, T0);
    // Healthy when the evaluator leaves, so ingest reads them as healthy throughout.
    const fast = { heartbeat_interval_seconds: 1, failures_for_down: 2, successes_for_recovery: 1 };
    const [inFlush, carried] = [await p.addNode('failed-and-back-in-one-flush', fast), await p.addNode('failed-then-back-next-flush', fast)];
    for (const id of [inFlush, carried]) p.beat(id);
    await p.tick();
    // No evaluator from here until 40 s; ingest flushes every second. Both fail at 5 s: one is ok
    // again at 5.5 s (the same flush), the other at 6 s (the next); ok every second after.
    for (let t = 1; t <= 40; t++) {
      await p.runUntil(sec(t));
      if (t === 5) {
        p.beat(inFlush, 'failing');
        p.beat(carried, 'failing');
        clock.set(sec(5.5));
        p.beat(inFlush);
        continue;
      }
      for (const id of [inFlush, carried]) p.beat(id);
    }
    await p.tick();
    assert.deepEqual(brief(await transitionsOf(db, inFlush), T0), ['unknown->healthy@0', 'healthy->down@5', 'down->healthy@5.5']);
    assert.deepEqual(brief(await transitionsOf(db, carried), T0), ['unknown->healthy@0', 'healthy->down@5', 'down->healthy@6']);
    await p.close();
  });

  it('keeps a node unknown after a gap until heartbeats heard since coverage resumed say otherwise', async () => {
    const { clock, p } = await freshPipeline(db, undefined, T0);
    const one = await p.addNode('one-beat', { successes_for_recovery: 1 });
    const two = await p.addNode('two-beats', { successes_for_recovery: 2 });
    const failed = await p.addNode('failed-in-the-dark', { successes_for_recovery: 1 });
    for (const t of [0, 1]) {
      clock.set(sec(t));
      for (const id of [one, two, failed]) p.beat(id);
      await p.tick();
    }
    await p.runUntil(sec(5));
    // Flushes fail from 5 s on (Postgres unreachable): a beat at 12 s waits in the buffer, and the
    // flush at 12.5 s stores it while opening coverage again after a gap from 5 s.
    clock.set(sec(12));
    p.beat(one);
    p.beat(two);
    p.beat(failed, 'failing');
    clock.set(sec(12.5));
    await p.tick();
    await p.evaluator.runOnce();
    for (const t of [13, 14]) {
      clock.set(sec(t));
      for (const id of [one, two, failed]) p.beat(id);
      await p.tick();
      await p.evaluator.runOnce();
    }
    // No ok beat heard in the dark makes a recovery, nor anything a state at 12 s the next pass would
    // undo at the same instant: the second node needs two beats heard after 12.5 s. The failure heard
    // in the dark is judged, from when coverage resumed.
    assert.deepEqual(brief(await transitionsOf(db, one), T0), ['unknown->healthy@0', 'healthy->unknown@5', 'unknown->healthy@13']);
    assert.deepEqual(brief(await transitionsOf(db, two), T0), ['unknown->healthy@1', 'healthy->unknown@5', 'unknown->healthy@14']);
    assert.deepEqual(brief(await transitionsOf(db, failed), T0), ['unknown->healthy@0', 'healthy->unknown@5', 'unknown->down@12.5', 'down->healthy@13']);
    await p.close();
  });
});
