import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import { loadDue } from '../../src/health/store.ts';
import { readCoverage } from '../../src/ingest/store.ts';
import { apply, plan } from '../../src/health/machine.ts';
import { insertMaintenance } from '../../src/maintenance/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { noticesHeard } from '../helpers/notices.ts';
import { brief, createPipeline, GAP_MS, transitionsOf } from '../helpers/pipeline.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');
const sec = (s: number) => T0.getTime() + s * 1000;

describe('heartbeats in, transitions out', () => {
  let db: TestDatabase;
  let clock: ManualClock;
  let p: ReturnType<typeof createPipeline>;

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    await p?.close();
    await db.sql`truncate nodes, node_state_log, outbox, outbox_dead, ingest_coverage, ingest_presence cascade`;
    clock = new ManualClock(T0);
    p = createPipeline(db, clock);
    await p.flush(); // ingest starts watching at T0
  });

  it('goes unknown → healthy → down → healthy at exactly the contract moments, each recorded once', async () => {
    const id = await p.addNode('web-1'); // interval 10 s, failures 2 → down 20 s after the last beat
    await p.runUntil(new Date(sec(1)));
    p.beat(id);
    await p.tick();
    await p.runUntil(new Date(sec(20.999)));
    await p.tick();
    assert.deepEqual(brief(await transitionsOf(db, id), T0), ['unknown->healthy@1']);
    await p.runUntil(new Date(sec(21)));
    await p.tick();
    await p.runUntil(new Date(sec(30)));
    p.beat(id);
    await p.tick();
    await p.tick();
    const log = await transitionsOf(db, id);
    assert.deepEqual(brief(log, T0), ['unknown->healthy@1', 'healthy->down@21', 'down->healthy@30']);
    assert.deepEqual(log.map((t) => t.state_version), [1, 2, 3]);
    const events = await db.sql<{ topic: string; key: string; payload: Record<string, unknown> }[]>`
      select topic, key, payload from outbox order by id`;
    assert.deepEqual(
      events.map((e) => [e.topic, e.key, e.payload.from, e.payload.to, e.payload.at, e.payload.state_version, e.payload.node_name]),
      [
        ['node.state_changed', id, 'unknown', 'healthy', new Date(sec(1)).toISOString(), 1, 'web-1'],
        ['node.state_changed', id, 'healthy', 'down', new Date(sec(21)).toISOString(), 2, 'web-1'],
        ['node.state_changed', id, 'down', 'healthy', new Date(sec(30)).toISOString(), 3, 'web-1'],
      ],
    );
    const [health] = await db.sql`select state, version from node_health where node_id = ${id}`;
    assert.deepEqual([health!.state, health!.version], ['healthy', 3]);
  });

  it('holds a passed deadline until ingest has flushed past it', async () => {
    const id = await p.addNode('web-2');
    p.beat(id);
    await p.tick();
    await p.runUntil(new Date(sec(19.9)));
    clock.set(new Date(sec(22)));
    // The evaluator runs before the next flush: the watermark is at 19.9 s, so silence at the 20 s
    // deadline is not yet proven (a heartbeat received at 19.95 s could still be in a buffer).
    await p.evaluator.runOnce();
    assert.deepEqual(brief(await transitionsOf(db, id), T0), ['unknown->healthy@0']);
    // It asked to look again shortly; by then ingest has flushed past the deadline.
    clock.set(new Date(sec(22.1)));
    await p.tick();
    assert.deepEqual(brief(await transitionsOf(db, id), T0), ['unknown->healthy@0', 'healthy->down@20']);
  });

  it('judges a node whose window ended before the evaluator came back from the real end of the window', async () => {
    const id = await p.addNode('web-3'); // down 20 s after the last beat
    p.beat(id);
    await p.tick();
    await db.sql.begin(async (tx) => {
      await insertMaintenance(tx, { node_ids: [id], labels: {}, starts_at: new Date(sec(1)), ends_at: new Date(sec(30)), reason: 'reboot' }, clock.now());
      await tx`update node_due set due_at = ${new Date(sec(1))}, wake = wake + 1 where node_id = ${id}`;
    });
    await p.runUntil(new Date(sec(1)));
    await p.tick();
    // Back after the window at 40 s, then silent; the evaluator is away until 200 s (ingest runs on).
    await p.runUntil(new Date(sec(40)));
    p.beat(id);
    await p.runUntil(new Date(sec(200)));
    await p.tick();
    // Silent when the window ended at 30: unknown from then, healthy at its beat, down 20 s later.
    assert.deepEqual(brief(await transitionsOf(db, id), T0), [
      'unknown->healthy@0',
      'healthy->maintenance@1',
      'maintenance->unknown@30',
      'unknown->healthy@40',
      'healthy->down@60',
    ]);
  });

  it('marks failing down at once, degraded on a warn check, and recovers after the required ok streak', async () => {
    const id = await p.addNode('db-1', { successes_for_recovery: 2 });
    p.beat(id);
    p.beat(id); // two ok in one flush: coalesced, streak 2
    await p.tick();
    await p.runUntil(new Date(sec(2)));
    p.beat(id, 'failing');
    await p.tick();
    await p.runUntil(new Date(sec(3)));
    p.beat(id);
    await p.tick();
    await p.runUntil(new Date(sec(4)));
    p.beat(id, 'ok', { disk: { status: 'warn', value: 91 } });
    await p.tick();
    await p.runUntil(new Date(sec(5)));
    p.beat(id);
    await p.tick();
    await p.runUntil(new Date(sec(6)));
    p.beat(id);
    await p.tick();
    const log = await transitionsOf(db, id);
    assert.deepEqual(brief(log, T0), ['unknown->healthy@0', 'healthy->down@2', 'down->degraded@4', 'degraded->healthy@6']);
    assert.match(log[2]!.reason!, /warning checks: disk/);
  });

  it('writes a node name and a reason with quotes, backslashes, commas and braces as they are', async () => {
    // Both travel to Postgres inside array literals of the set-wise writes.
    const name = 'edge "1", \\rack {a}';
    const id = await p.addNode(name);
    p.beat(id);
    await p.tick();
    await p.runUntil(new Date(sec(1)));
    p.beat(id, 'ok', { 'disk "/", {x}\\y': { status: 'warn' }, NULL: { status: 'fail' } });
    await p.tick();
    const reason = 'failing checks: NULL; warning checks: disk "/", {x}\\y';
    const log = await transitionsOf(db, id);
    assert.deepEqual(brief(log, T0), ['unknown->healthy@0', 'healthy->degraded@1']);
    assert.equal(log[1]!.reason, reason);
    const events = await db.sql<{ payload: { node_name: string; reason: string } }[]>`
      select payload from outbox where key = ${id} and payload->>'to' = 'degraded'`;
    assert.deepEqual(events.map((e) => [e.payload.node_name, e.payload.reason]), [[name, reason]]);
  });

  it('ignores a heartbeat whose seq is lower than one already stored', async () => {
    const id = await p.addNode('api-1');
    p.beat(id, 'ok', null, 7);
    await p.tick();
    await p.runUntil(new Date(sec(1)));
    p.beat(id, 'failing', null, 3);
    await p.tick();
    const [row] = await db.sql`select last_seq::int, last_status, received::int, last_heartbeat_at from node_heartbeats where node_id = ${id}`;
    assert.deepEqual([row!.last_seq, row!.last_status, row!.received, row!.last_heartbeat_at.getTime()], [7, 'ok', 1, sec(0)]);
    assert.deepEqual(brief(await transitionsOf(db, id), T0), ['unknown->healthy@0']);
  });

  it('takes only the seq of a lower one arriving an interval late: a late failing beat marks no node down', async () => {
    const id = await p.addNode('api-2'); // interval 10 s
    p.beat(id, 'ok', null, 100);
    await p.tick();
    const [due] = await db.sql`select wake::int from node_due where node_id = ${id}`;
    await p.runUntil(new Date(sec(10)));
    // A copy of an older beat, held up somewhere: "failing" would be down at once.
    p.beat(id, 'failing', null, 99);
    await p.tick();
    const row = async () => {
      const [r] = await db.sql`select last_seq::int, last_status, received::int, ok_streak::int, last_heartbeat_at from node_heartbeats where node_id = ${id}`;
      return [r!.last_seq, r!.last_status, r!.received, r!.ok_streak, r!.last_heartbeat_at.getTime()];
    };
    assert.deepEqual(await row(), [99, 'ok', 1, 1, sec(0)]);
    const [after] = await db.sql`select wake::int from node_due where node_id = ${id}`;
    assert.equal(after!.wake, due!.wake, 'not woken');
    assert.deepEqual(brief(await transitionsOf(db, id), T0), ['unknown->healthy@0']);
    // The sender's next beat is above the adopted seq, and stored: a restarted sender is heard.
    await p.runUntil(new Date(sec(11)));
    p.beat(id, 'ok', null, 100);
    await p.tick();
    assert.deepEqual(await row(), [100, 'ok', 2, 2, sec(11)]);
    assert.deepEqual(brief(await transitionsOf(db, id), T0), ['unknown->healthy@0']);
  });

  it('does not wake the evaluator for ok beats from a healthy node', async () => {
    const id = await p.addNode('quiet-1');
    p.beat(id);
    await p.tick();
    const [before] = await db.sql`select wake::int, due_at from node_due where node_id = ${id}`;
    await p.runUntil(new Date(sec(5)));
    p.beat(id);
    await p.flush();
    const [after] = await db.sql`select wake::int, due_at from node_due where node_id = ${id}`;
    assert.deepEqual(after, before);
    assert.equal(after!.due_at.getTime(), sec(20), 'due at the first beat’s deadline; re-judged then');
  });

  it('tells the evaluator only of a flush that woke a node: an empty one, or a healthy node\'s ok beat, wakes no pass', async () => {
    const id = await p.addNode('quiet-2');
    p.beat(id);
    await p.tick();
    const heard = await noticesHeard(db.sql, async () => {
      await p.flush();
      p.beat(id);
      await p.flush();
      p.beat(id, 'failing');
      await p.flush();
    });
    assert.deepEqual(heard, [''], 'one notice: the flush that woke the node');
  });

  it('skips a node whose version moved since it was read: no state, log or event is written', async () => {
    const id = await p.addNode('race-1');
    p.beat(id, 'failing');
    await p.flush();
    const now = clock.now();
    const coverage = (await readCoverage(db.sql, now, GAP_MS))!;
    const rows = await loadDue(db.sql, now, undefined, 100);
    const stale = plan(rows, coverage, new Map(), now);
    // Another writer gets there first.
    await db.sql`update node_health set version = version + 1, state = 'degraded' where node_id = ${id}`;
    const won = await db.sql.begin((tx) => apply(tx, stale, now));
    assert.equal(won.length, 0);
    const [health] = await db.sql`select state, version from node_health where node_id = ${id}`;
    assert.deepEqual([health!.state, health!.version], ['degraded', 1]);
    assert.equal((await transitionsOf(db, id)).length, 0);
    const [{ n }] = (await db.sql`select count(*)::int as n from outbox`) as unknown as [{ n: number }];
    assert.equal(n, 0);
  });

  it('re-judges a node at once when its settings change', async () => {
    const id = await p.addNode('cfg-1');
    p.beat(id);
    await p.tick();
    await p.runUntil(new Date(sec(12)));
    await db.sql`update nodes set heartbeat_interval_seconds = 5 where id = ${id}`;
    await db.sql`update node_due set due_at = ${clock.now()}, wake = wake + 1 where node_id = ${id}`;
    await p.tick();
    assert.deepEqual(brief(await transitionsOf(db, id), T0), ['unknown->healthy@0', 'healthy->down@10']);
  });
});
