import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { after, before, beforeEach, describe, it } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import { ManualClock } from '../helpers/clock.ts';
import { insertOutbox, listDeadOutbox, replayDeadOutbox } from '../../src/outbox/store.ts';
import type { NewOutboxEvent, OutboxEvent } from '../../src/outbox/topics.ts';
import { Events } from '../../src/events.ts';
import { countEvents, createMetrics } from '../../src/metrics.ts';
import { backoffMs, OutboxDispatcher } from '../../src/outbox/dispatcher.ts';
import { HandlerRegistry } from '../../src/outbox/registry.ts';
import { startOutboxWorkers } from '../../workers/outbox.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { EngineProcess } from '../helpers/engine-process.ts';
import { testLog } from '../helpers/log.ts';
import { createEffectsTable, recordEffects } from '../helpers/outbox-effects.ts';
import { withPatience } from '../helpers/wait.ts';

/** `keys` × `perKey` events, interleaved across keys as a busy evaluator would write them. */
function interleaved(keys: number, perKey: number): NewOutboxEvent[] {
  const out: NewOutboxEvent[] = [];
  for (let seq = 0; seq < perKey; seq++) {
    for (let k = 0; k < keys; k++) out.push({ topic: 'test.effect', key: `node-${k}`, payload: { seq } });
  }
  return out;
}

async function count(db: TestDatabase, table: 'outbox' | 'outbox_dead' | 'test_effects'): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from ${db.sql(table)}`;
  return row!.n;
}

describe('outbox dispatch', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await createEffectsTable(db.sql);
  });
  after(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    await db.sql`truncate outbox, outbox_dead, test_effects`;
  });
  const write = (clock: ManualClock, events: NewOutboxEvent[]) => db.sql.begin((tx) => insertOutbox(tx, events, clock.now()));

  it('keeps per-node order with four workers over interleaved nodes', async () => {
    const events = interleaved(20, 25);
    await db.sql.begin((tx) => insertOutbox(tx, events, systemClock.now()));
    const seen = new Map<string, number[]>();
    const registry = new HandlerRegistry().on('test.effect', 'effects', async (batch, { tx }) => {
      await recordEffects(tx, batch, 'w');
      // A batch never holds two events of one key.
      assert.equal(new Set(batch.map((e) => e.key)).size, batch.length);
    });
    // Order is checked on commit order: record after the transaction, in completion order.
    const workers = Array.from({ length: 4 }, (_, i) => {
      const d = new OutboxDispatcher({ sql: db.sql, registry, clock: systemClock, log: testLog, maxAttempts: 3, batchSize: 7 });
      return async () => {
        while ((await count(db, 'outbox')) > 0) await d.runOnce();
        return i;
      };
    });
    await Promise.all(workers.map((w) => w()));
    const rows = await db.sql<{ key: string; seq: number }[]>`select key, seq from test_effects order by done_at, event_id`;
    for (const r of rows) seen.set(r.key, [...(seen.get(r.key) ?? []), r.seq]);
    assert.equal(rows.length, 500, 'every event handled exactly once');
    for (const [key, seqs] of seen) assert.deepEqual(seqs, [...Array(25).keys()], `order of ${key}`);
  });

  it('retries a failing handler with backoff, holding back later events of its node only', async () => {
    const clock = new ManualClock('2026-11-21T10:00:00.000Z');
    await write(clock, [
      { topic: 'test.effect', key: 'a', payload: { seq: 0 } },
      { topic: 'test.effect', key: 'b', payload: { seq: 0 } },
      { topic: 'test.effect', key: 'a', payload: { seq: 1 } },
    ]);
    const results: string[] = [];
    const events = new Events();
    events.on('outbox.event', (_t, r) => results.push(r));
    // a0 fails on its first two recorded attempts, then succeeds.
    const registry = new HandlerRegistry().on('test.effect', 'flaky', async (batch, { tx }) => {
      if (batch.some((e) => e.key === 'a' && e.payload.seq === 0 && e.attempts < 2)) throw new Error('receiver answered 500');
      await recordEffects(tx, batch, 'w');
    });
    const d = new OutboxDispatcher({
      sql: db.sql,
      registry,
      clock,
      log: testLog,
      maxAttempts: 5,
      backoffBaseMs: 1000,
      events,
    });
    await d.runOnce(); // batch fails; b handled alone, a deferred by 1 s
    assert.deepEqual((await db.sql`select key, seq from test_effects`).map((r) => `${r.key}${r.seq}`), ['b0']);
    const [a0] = await db.sql`select attempts, last_error, available_at from outbox where key = 'a' order by id limit 1`;
    assert.deepEqual([a0!.attempts, a0!.last_error], [1, 'flaky: receiver answered 500']);
    assert.equal(a0!.available_at.getTime() - clock.now().getTime(), 1000);
    assert.equal(await d.runOnce(), 0, 'a1 waits behind a0; a0 waits for its retry time');
    clock.advance(1000);
    await d.runOnce(); // second failure: 2 s backoff
    const [again] = await db.sql`select attempts, available_at from outbox where key = 'a' order by id limit 1`;
    assert.equal(again!.attempts, 2);
    assert.equal(again!.available_at.getTime() - clock.now().getTime(), 2000);
    clock.advance(2000);
    await d.runOnce();
    await d.runOnce();
    const effects = (await db.sql`select key, seq from test_effects order by done_at`).map((r) => `${r.key}${r.seq}`);
    assert.deepEqual(effects, ['b0', 'a0', 'a1']);
    assert.deepEqual(results, ['failed', 'handled', 'failed', 'handled', 'handled']);
    assert.equal(await count(db, 'outbox'), 0);
  });

  it('measures dispatch latency from when an event came due, so a timer armed an hour ahead is not an hour late', async () => {
    const clock = new ManualClock('2026-11-21T10:00:00.000Z');
    await write(clock, [
      { topic: 'test.effect', key: 'now', payload: { seq: 0 } },
      { topic: 'test.effect', key: 'timer', payload: { seq: 0 }, availableAt: new Date(clock.now().getTime() + 3600_000) },
    ]);
    const latencies: Array<number | undefined> = [];
    const events = new Events();
    events.on('outbox.event', (_t, _r, seconds) => latencies.push(seconds));
    const metrics = createMetrics();
    countEvents(metrics, events);
    const registry = new HandlerRegistry().on('test.effect', 'effects', (batch, { tx }) => recordEffects(tx, batch, 'w'));
    const d = new OutboxDispatcher({ sql: db.sql, registry, clock, log: testLog, maxAttempts: 3, events });
    clock.advance(2_000);
    assert.equal(await d.runOnce(), 1, 'the timer is not due');
    clock.advance(3600_000 - 2_000 + 500);
    assert.equal(await d.runOnce(), 1);
    assert.deepEqual(latencies, [2, 0.5], 'the event written due, then the timer');
    // Both within the histogram's buckets, none past its last (60 s).
    const buckets = (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('lifeline_outbox_dispatch_latency_seconds_bucket'));
    assert.ok(buckets.includes('lifeline_outbox_dispatch_latency_seconds_bucket{le="2.5"} 2'), buckets.join('\n'));
  });

  it('leaves an event of a topic it does not handle, and the rest of its key, to a process that does', async () => {
    const clock = new ManualClock('2026-11-21T10:00:00.000Z');
    await write(clock, [
      { topic: 'test.later', key: 'a', payload: { seq: 0 } },
      { topic: 'test.effect', key: 'a', payload: { seq: 1 } },
      { topic: 'test.effect', key: 'b', payload: { seq: 0 } },
    ]);
    const dispatcher = (registry: HandlerRegistry) => new OutboxDispatcher({ sql: db.sql, registry, clock, log: testLog, maxAttempts: 3 });
    // An older version: it knows test.effect only.
    const older = dispatcher(new HandlerRegistry().on('test.effect', 'older', (batch, { tx }) => recordEffects(tx, batch, 'older')));
    assert.equal(await older.runOnce(), 1, 'b0 only');
    assert.equal(await older.runOnce(), 0, 'a0 is not its to take, and a1 waits behind it');
    assert.deepEqual((await db.sql`select topic, key from outbox order by id`).map((r) => `${r.topic} ${r.key}`), ['test.later a', 'test.effect a']);
    const newer = dispatcher(
      new HandlerRegistry()
        .on('test.later', 'newer', (batch, { tx }) => recordEffects(tx, batch, 'newer'))
        .on('test.effect', 'newer', (batch, { tx }) => recordEffects(tx, batch, 'newer')),
    );
    while ((await newer.runOnce()) > 0);
    const effects = (await db.sql`select key, seq, worker from test_effects order by done_at, event_id`).map((r) => `${r.key}${r.seq} ${r.worker}`);
    assert.deepEqual(effects, ['b0 older', 'a0 newer', 'a1 newer'], 'handled once each, a in order');
    assert.equal(await count(db, 'outbox'), 0);
  });

  it('parks an event as dead after its last attempt, lets its node move on, and replays it', async () => {
    const clock = new ManualClock('2026-11-21T10:00:00.000Z');
    await db.sql.begin((tx) =>
      insertOutbox(
        tx,
        [
          { topic: 'test.effect', key: 'a', payload: { seq: 0, poison: true } },
          { topic: 'test.effect', key: 'a', payload: { seq: 1 } },
        ],
        clock.now(),
      ),
    );
    let poisonBreaks = true;
    const registry = new HandlerRegistry().on('test.effect', 'strict', async (batch, { tx }) => {
      if (poisonBreaks && batch.some((e) => e.payload.poison)) throw new Error('cannot render');
      await recordEffects(tx, batch, 'w');
    });
    const metrics = createMetrics();
    const events = new Events();
    countEvents(metrics, events);
    const d = new OutboxDispatcher({
      sql: db.sql,
      registry,
      clock,
      log: testLog,
      maxAttempts: 3,
      backoffBaseMs: 10,
      events,
    });
    for (let i = 0; i < 3; i++) {
      await d.runOnce();
      clock.advance(60_000);
    }
    const dead = await listDeadOutbox(db.sql, undefined, 10);
    assert.equal(dead.length, 1);
    assert.deepEqual([dead[0]!.attempts, dead[0]!.last_error, dead[0]!.payload.seq], [3, 'strict: cannot render', 0]);
    await d.runOnce();
    assert.deepEqual((await db.sql`select seq from test_effects`).map((r) => r.seq), [1], 'the next event of the node is not blocked for ever');
    assert.match(await metrics.registry.metrics(), /lifeline_outbox_events_total\{type="test.effect",result="dead"\} 1/);
    poisonBreaks = false;
    assert.deepEqual(await db.sql.begin((tx) => replayDeadOutbox(tx, dead[0]!.id, clock.now())), { topic: 'test.effect', key: dead[0]!.key });
    await d.runOnce();
    assert.deepEqual((await db.sql`select seq from test_effects order by done_at`).map((r) => r.seq), [1, 0]);
    assert.equal(await count(db, 'outbox_dead'), 0);
  });

  it('handles every event exactly once after a worker is SIGKILLed mid-batch', async () => {
    await db.sql.begin((tx) => insertOutbox(tx, interleaved(10, 10), systemClock.now()));
    const child = EngineProcess.start({ DATABASE_URL: db.url }, [process.execPath, '--import', 'tsx', 'test/helpers/outbox-child.ts']);
    await child.waitFor((l) => l.msg === 'batch effects written, not committed');
    child.kill('SIGKILL');
    await child.exited;
    // The killed session's transaction rolls back once Postgres notices the closed socket.
    const registry = new HandlerRegistry().on('test.effect', 'effects', (batch, { tx }) => recordEffects(tx, batch, 'survivor'));
    const d = new OutboxDispatcher({ sql: db.sql, registry, clock: systemClock, log: testLog, maxAttempts: 3 });
    while ((await count(db, 'outbox')) > 0) await d.runOnce();
    const rows = await db.sql<{ event_id: string; worker: string }[]>`select event_id::text, worker from test_effects`;
    assert.equal(rows.length, 100);
    assert.equal(new Set(rows.map((r) => r.event_id)).size, 100, 'no event handled twice');
    assert.ok(rows.every((r) => r.worker === 'survivor'), 'the killed batch left no effect');
  });

  it('wakes an idle worker by NOTIFY long before its poll interval', async () => {
    const handled: OutboxEvent[] = [];
    const signal = new EventEmitter();
    const registry = new HandlerRegistry().on('test.effect', 'effects', async (batch) => {
      handled.push(...batch);
      signal.emit('handled');
    });
    const events = new Events();
    const asleep = events.next('loop.idle');
    const workers = await startOutboxWorkers({
      sql: db.sql,
      registry,
      clock: systemClock,
      log: testLog,
      events,
      workers: 1,
      // A day: no run of this test lasts long enough for the poll to find the event.
      pollMs: 24 * 3600_000,
      maxAttempts: 3,
    });
    try {
      // The worker has found nothing and sleeps on its poll: only a NOTIFY can wake it now.
      await asleep;
      const seen = once(signal, 'handled');
      await db.sql.begin((tx) => insertOutbox(tx, [{ topic: 'test.effect', key: 'k', payload: { seq: 0 } }], systemClock.now()));
      await withPatience('the NOTIFY to wake the worker', seen);
      assert.equal(handled.length, 1);
    } finally {
      await workers.stop();
    }
  });

  it('doubles the backoff from 1 s up to its cap', () => {
    assert.deepEqual([1, 2, 3, 4, 12].map((a) => backoffMs(a, 1000, 600_000)), [1000, 2000, 4000, 8000, 600_000]);
  });
});
