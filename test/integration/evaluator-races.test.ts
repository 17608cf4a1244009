import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ManualClock } from '../helpers/clock.ts';
import type { Tx } from '../../src/db/client.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { holdOpen, waitsOnLock } from '../helpers/locks.ts';
import { brief, freshPipeline, transitionsOf, type createPipeline } from '../helpers/pipeline.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');
const sec = (s: number) => new Date(T0.getTime() + s * 1000);

describe('a heartbeat stored while the evaluator judges its node', () => {
  let db: TestDatabase;
  let clock: ManualClock;
  let p: ReturnType<typeof createPipeline>;
  let id: string;

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await p?.close();
    await db.drop();
  });
  // A node beating at 0 (interval 10 s × 2 failures: deadline 20 s), ingest flushing up to 25 s,
  // and a late ok heartbeat at 25 s still in the buffer. The evaluator is about to find the node
  // down at 20 s; the late heartbeat is a recovery at 25 s, whoever commits first.
  beforeEach(async () => {
    ({ clock, p } = await freshPipeline(db, p, T0));
    id = await p.addNode('late-1');
    p.beat(id);
    await p.tick();
    await p.runUntil(sec(25));
    p.beat(id);
  });

  /** Runs a pass that `blocker` holds mid-way, flushes the late heartbeat meanwhile, then lets it go. */
  async function flushDuringPass(blocker: (tx: Tx) => Promise<unknown>) {
    const held = await holdOpen(db, blocker);
    const pass = p.evaluator.runOnce();
    await waitsOnLock(db, 'lifeline-test-evaluator');
    assert.equal(await p.flush(), 1, 'the late heartbeat is stored while the pass is held');
    await held.release();
    assert.equal((await pass).transitions, 1, 'the pass wrote the down it saw');
  }

  async function assertJudgedAfterwards() {
    const [due] = await db.sql<{ due: boolean; due_at: string }[]>`
      select due_at <= ${clock.now()} as due, due_at::text from node_due where node_id = ${id}`;
    assert.ok(due!.due, `the node must stay due, not be pushed back to ${due!.due_at}`);
    await p.tick();
    assert.deepEqual(brief(await transitionsOf(db, id), T0), ['unknown->healthy@0', 'healthy->down@20', 'down->healthy@25']);
  }

  it('is judged when it commits after the pass read it but before the pass writes (version and wake unchanged)', async () => {
    // The pass has read the node; its state write waits on this row lock while the flush commits.
    await flushDuringPass((tx) => tx`select 1 from node_health where node_id = ${id} for update`);
    await assertJudgedAfterwards();
  });

  it('is judged when it commits after the pass wrote the new state but before it pushed the due time back', async () => {
    // The pass has written node_health (down, not committed: the flush still reads healthy and
    // does not wake the node); its log insert waits on this uncommitted row with the same key.
    await flushDuringPass(
      (tx) => tx`insert into node_state_log (node_id, state_version, from_state, to_state, at, reason)
                 values (${id}, 2, 'healthy', 'down', ${sec(20)}, 'held by the test')`,
    );
    await assertJudgedAfterwards();
  });

  it('is judged when its flush is still in flight while the pass pushes back', async () => {
    // The flush has written the heartbeat and read the node as healthy (no wake), but cannot
    // commit yet: it also wakes a new node whose due row this test holds. Comparing heartbeat
    // counts alone would pass (the flush has not committed) and park the node; the push-back
    // must wait for the flush instead.
    const other = await p.addNode('new-1');
    p.beat(other);
    const held = await holdOpen(db, (tx) => tx`select 1 from node_due where node_id = ${other} for update`);
    const flushing = p.flush();
    await waitsOnLock(db, 'lifeline-test');
    let passed = false;
    const pass = p.evaluator.runOnce().finally(() => (passed = true));
    await waitsOnLock(db, 'lifeline-test-evaluator', () => passed);
    await held.release();
    assert.equal(await flushing, 2);
    assert.equal((await pass).transitions, 1, 'the pass wrote the down it saw');
    await assertJudgedAfterwards();
  });
});
