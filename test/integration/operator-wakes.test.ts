import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Events } from '../../src/events.ts';
import { DUE_CHANNEL } from '../../src/health/store.ts';
import { createWindow, endWindow } from '../../src/maintenance/service.ts';
import { updateNode } from '../../src/nodes/service.ts';
import { createMetrics } from '../../src/metrics.ts';
import { startEvaluator } from '../../workers/evaluator.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';
import { noticesHeard } from '../helpers/notices.ts';
import { freshPipeline, GAP_MS } from '../helpers/pipeline.ts';
import { withPatience } from '../helpers/wait.ts';

const T0 = new Date('2026-12-08T10:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
/** Longer than any test may wait (PATIENCE_MS): a pass the evaluator's timer brings would come too late to pass. */
const HOUR = 3_600_000;
const REPORT = { log: testLog, metrics: createMetrics() };

// An operator's write that changes what the evaluator decides (a maintenance window made or
// ended, a node's timing or labels edited) is judged at once, as a flush's heartbeats are, not when
// the evaluator's timer next fires: here an hour, so each wait below is a wake-up by NOTIFY, or by
// a due time the evaluator read in the pass a NOTIFY brought, or nothing.
describe('operator writes wake the evaluator', () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  /**
   * A node beating every hour that beat at 1 s, and an evaluator on the clock at 30 s whose timer
   * is an hour away; `asleep` once its first pass is done.
   */
  async function sleepingEvaluator(name: string) {
    const { clock, p } = await freshPipeline(db, undefined, T0);
    const id = await p.addNode(name, { heartbeat_interval_seconds: 3600, failures_for_down: 1 });
    await p.runUntil(at(1));
    p.beat(id);
    await p.tick();
    await p.runUntil(at(30));
    // The pipeline's own evaluator lets go of the lock for the running one.
    await p.close();

    const events = new Events();
    const moved = (to: (from: string, to: string) => boolean) =>
      new Promise<void>((resolve) => {
        const off = events.on('evaluator.transition', (f, t) => {
          if (to(f, t)) resolve(off());
        });
      });
    const asleep = events.next('loop.idle');
    const worker = startEvaluator({ databaseUrl: db.url, sql: db.sql, clock, log: testLog, events, intervalMs: HOUR, coverageGapMs: GAP_MS });
    return { clock, p, id, events, moved, asleep, worker };
  }

  it('judges a node edit, a window begun and ended, and a label edit that puts a node in a window at once, with the next tick an hour away', async () => {
    const { clock, p, id, events, moved, asleep, worker } = await sleepingEvaluator('web-1');
    try {
      await withPatience('the evaluator asleep after its first pass', asleep);
      // A notice of the kind a flush sends is heard: the evaluator listens from here on.
      const heard = events.next('evaluator.tick');
      await db.sql`select pg_notify(${DUE_CHANNEL}, '')`;
      await withPatience('a pass on a notice', heard);

      // Down 10 s after its beat at 1 s, now that it beats every 10 s: it is 30 s.
      const down = moved((f, t) => f === 'healthy' && t === 'down');
      await updateNode(db.sql, id, { heartbeat_interval_seconds: 10 }, clock.now(), TEST_ACTING, REPORT);
      await withPatience('the edited node judged down', down);

      const covered = moved((f, t) => f === 'down' && t === 'maintenance');
      const window = await createWindow(db.sql, { node_ids: [id], labels: {}, starts_at: clock.now(), ends_at: null, reason: null }, clock.now(), TEST_ACTING);
      await withPatience('the node in the window begun now', covered);

      await p.runUntil(at(31));
      const left = moved((f) => f === 'maintenance');
      await endWindow(db.sql, window.id, clock.now(), TEST_ACTING);
      await withPatience('the node out of the window ended now', left);
      const [health] = await db.sql`select state from node_health where node_id = ${id}`;
      assert.notEqual(health!.state, 'maintenance');

      // A window over a label the node is then given covers it at once.
      const byLabel = await createWindow(db.sql, { node_ids: [], labels: { team: 'ops' }, starts_at: clock.now(), ends_at: null, reason: null }, clock.now(), TEST_ACTING);
      const labelled = moved((_, t) => t === 'maintenance');
      await updateNode(db.sql, id, { labels: { team: 'ops' } }, clock.now(), TEST_ACTING, REPORT);
      await withPatience('the node in the window by its new label', labelled);
      const unlabelled = moved((f) => f === 'maintenance');
      await endWindow(db.sql, byLabel.id, clock.now(), TEST_ACTING);
      await withPatience('the node out of the window by label ended now', unlabelled);
    } finally {
      await worker.stop();
    }
  });

  it('puts a node in a window starting 2 s after it is made at its start, with the next tick an hour away', async () => {
    const { clock, events, id, moved, asleep, worker } = await sleepingEvaluator('web-3');
    try {
      await withPatience('the evaluator asleep after its first pass', asleep);
      // Told of the window, the evaluator reads its start as the earliest due time and sleeps until
      // it (a timer of 2 s), not for the hour it went to sleep for. Its clock moves on once it is asleep.
      const told = events.next('loop.idle');
      const covered = moved((_, t) => t === 'maintenance');
      await createWindow(db.sql, { node_ids: [id], labels: {}, starts_at: at(32), ends_at: null, reason: null }, clock.now(), TEST_ACTING);
      await withPatience('a pass on the notice of a window starting later', told);
      clock.set(at(32));
      await withPatience('the node in the window at its start', covered);
    } finally {
      await worker.stop();
    }
  });

  it('sends a notice for each write that may change a decision, and none for a rename', async () => {
    const { clock, p } = await freshPipeline(db, undefined, T0);
    try {
      const id = await p.addNode('web-2');
      const heard = await noticesHeard(db.sql, async (mark) => {
        await updateNode(db.sql, id, { name: 'web-2-renamed' }, clock.now(), TEST_ACTING, REPORT);
        await mark('renamed');
        await createWindow(db.sql, { node_ids: [id], labels: {}, starts_at: at(600), ends_at: null, reason: null }, clock.now(), TEST_ACTING);
        await mark('window later');
        await updateNode(db.sql, id, { grace_seconds: 5 }, clock.now(), TEST_ACTING, REPORT);
        await mark('grace');
        await updateNode(db.sql, id, { labels: { team: 'ops' } }, clock.now(), TEST_ACTING, REPORT);
        await mark('labels');
        await updateNode(db.sql, id, { schedule: { cron: '0 3 * * *', time_zone: 'UTC', grace_seconds: 300, max_run_seconds: null } }, clock.now(), TEST_ACTING, REPORT);
        await mark('schedule');
      });
      assert.deepEqual(heard, ['renamed', '', 'window later', '', 'grace', '', 'labels', '', 'schedule']);
    } finally {
      await p.close();
    }
  });
});
