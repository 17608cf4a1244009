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
import { freshPipeline, GAP_MS } from '../helpers/pipeline.ts';
import { withPatience } from '../helpers/wait.ts';

const T0 = new Date('2026-12-08T10:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
/** Longer than any test may wait (PATIENCE_MS): a pass the evaluator's timer brings would come too late to pass. */
const HOUR = 3_600_000;
const REPORT = { log: testLog, metrics: createMetrics() };

// An operator's write that changes what the evaluator decides (a maintenance window begun or
// ended, a node's timing edited) is judged at once, as a flush's heartbeats are, not when the
// evaluator's timer next fires: here an hour, so each wait below is a wake-up by NOTIFY or nothing.
describe('operator writes wake the evaluator', () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it('judges a node edit, a window begun and a window ended at once, with the next tick an hour away', async () => {
    const { clock, p } = await freshPipeline(db, undefined, T0);
    const id = await p.addNode('web-1', { heartbeat_interval_seconds: 3600, failures_for_down: 1 });
    await p.runUntil(at(1));
    p.beat(id);
    await p.tick();
    await p.runUntil(at(30));
    // The pipeline's own evaluator lets go of the lock for the running one.
    await p.close();

    const events = new Events();
    const transition = (from: string, to: string) =>
      new Promise<void>((resolve) => {
        const off = events.on('evaluator.transition', (f, t) => {
          if (f === from && t === to) resolve(off());
        });
      });
    const asleep = events.next('loop.idle');
    const worker = startEvaluator({ databaseUrl: db.url, sql: db.sql, clock, log: testLog, events, intervalMs: HOUR, coverageGapMs: GAP_MS });
    try {
      await withPatience('the evaluator asleep after its first pass', asleep);
      // A notice of the kind a flush sends is heard: the evaluator listens from here on.
      const heard = events.next('evaluator.tick');
      await db.sql`select pg_notify(${DUE_CHANNEL}, '')`;
      await withPatience('a pass on a notice', heard);

      // Down 10 s after its beat at 1 s, now that it beats every 10 s: it is 30 s.
      const down = transition('healthy', 'down');
      await updateNode(db.sql, id, { heartbeat_interval_seconds: 10 }, clock.now(), TEST_ACTING, REPORT);
      await withPatience('the edited node judged down', down);

      const covered = transition('down', 'maintenance');
      const window = await createWindow(db.sql, { node_ids: [id], labels: {}, starts_at: clock.now(), ends_at: null, reason: null }, clock.now(), TEST_ACTING);
      await withPatience('the node in the window begun now', covered);

      await p.runUntil(at(31));
      const left = new Promise<void>((resolve) => {
        const off = events.on('evaluator.transition', (f) => f === 'maintenance' && resolve(off()));
      });
      await endWindow(db.sql, window.id, clock.now(), TEST_ACTING);
      await withPatience('the node out of the window ended now', left);
      const [health] = await db.sql`select state from node_health where node_id = ${id}`;
      assert.notEqual(health!.state, 'maintenance');
    } finally {
      await worker.stop();
    }
  });

  it('sends no notice for a write that changes no decision: a rename, or a window that starts later', async () => {
    const { clock, p } = await freshPipeline(db, undefined, T0);
    try {
      const id = await p.addNode('web-2');
      const heard: string[] = [];
      let ended!: () => void;
      const end = new Promise<void>((resolve) => (ended = resolve));
      const listening = await db.sql.listen(DUE_CHANNEL, (payload) => {
        heard.push(payload);
        if (payload === 'end') ended();
      });
      try {
        await updateNode(db.sql, id, { name: 'web-2-renamed' }, clock.now(), TEST_ACTING, REPORT);
        await createWindow(db.sql, { node_ids: [id], labels: {}, starts_at: at(600), ends_at: null, reason: null }, clock.now(), TEST_ACTING);
        await updateNode(db.sql, id, { grace_seconds: 5 }, clock.now(), TEST_ACTING, REPORT);
        // Delivered in commit order: once this one is heard, every write's notice has been.
        await db.sql`select pg_notify(${DUE_CHANNEL}, 'end')`;
        await end;
      } finally {
        await listening.unlisten();
      }
      assert.deepEqual(heard, ['', 'end'], 'one notice: the grace edited');
    } finally {
      await p.close();
    }
  });
});
