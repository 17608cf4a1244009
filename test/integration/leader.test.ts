import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { Events } from '../../src/events.ts';
import { LOCKS } from '../../src/db/locks.ts';
import { Leadership, LostLeadership } from '../../src/health/leader.ts';
import { Loop } from '../../src/loop.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { EngineProcess } from '../helpers/engine-process.ts';
import { testLog } from '../helpers/log.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { withPatience } from '../helpers/wait.ts';

describe('leader election', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it('lets exactly one of two contenders lead, and hands over on release', async () => {
    const la = new Leadership(() => createSql(db.url, { dedicated: true }), testLog);
    const lb = new Leadership(() => createSql(db.url, { dedicated: true }), testLog);
    const [ra, rb] = await Promise.all([la.refresh(), lb.refresh()]);
    assert.equal(Number(ra) + Number(rb), 1);
    const [leader, follower] = ra ? [la, lb] : [lb, la];
    assert.equal(await follower.refresh(), false);
    assert.equal(await leader.refresh(), true, 'a leader keeps the lock across checks');
    await leader.release();
    assert.equal(await follower.refresh(), true);
    await follower.release();
    await Promise.all([la.close(), lb.close()]);
  });

  it('steps down and writes nothing once its session loses the lock', async () => {
    const l = new Leadership(() => createSql(db.url, { dedicated: true }), testLog);
    assert.equal(await l.refresh(), true);
    // The session is killed behind its back (failover, network cut): the lock goes with it.
    // pg_locks is server-wide: only this database's lock holder, never another test's.
    await db.sql`
      select pg_terminate_backend(pid) from pg_locks
      where locktype = 'advisory' and objid = ${LOCKS.evaluatorLeader} and granted
        and database = (select oid from pg_database where datname = current_database())`;
    await assert.rejects(
      l.transaction(async (tx) => tx`insert into outbox (topic, key, payload, created_at, available_at) values ('x', 'k', '{}', now(), now())`),
    );
    assert.equal(l.isLeader, false);
    const [{ n }] = (await db.sql`select count(*)::int as n from outbox`) as unknown as [{ n: number }];
    assert.equal(n, 0);
    // A later tick reconnects and takes the lock again (the first may still see the dead socket);
    // unlocking it behind its back is noticed too.
    let retaken = false;
    for (let i = 0; i < 3 && !retaken; i++) retaken = await l.refresh();
    assert.equal(retaken, true);
    await l.connection`select pg_advisory_unlock(${LOCKS.evaluatorLeader})`;
    await assert.rejects(l.transaction(async () => 1), LostLeadership);
    assert.equal(await l.refresh(), true);
    await l.release();
    await l.close();
  });

  it('keeps the lock through an error that is not about it', async () => {
    const changes: boolean[] = [];
    const events = new Events();
    events.on('evaluator.leadership', (leader) => changes.push(leader));
    const l = new Leadership(() => createSql(db.url, { dedicated: true }), testLog, events);
    try {
      assert.equal(await l.refresh(), true);
      // A statement of the leader's own work fails (here: division by zero, 22012).
      await assert.rejects(l.transaction(async (tx) => tx`select 1 / 0`), /division by zero/);
      assert.equal(l.isLeader, true);
      assert.equal(await l.transaction(async (tx) => (await tx`select 1 as one`)[0]!.one), 1, 'the next transaction runs as leader');
      assert.deepEqual(changes, [true], 'never stepped down');
    } finally {
      await l.release();
      await l.close(); // the session's end releases the lock whatever happened
    }
  });

  it('two evaluators racing over the same due nodes write each transition once', async () => {
    const clock = new ManualClock('2026-11-21T10:00:00.000Z');
    const p1 = createPipeline(db, clock);
    const p2 = createPipeline(db, clock);
    await p1.flush();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await p1.addNode(`race-${i}`));
    for (const id of ids) p1.beat(id, 'failing');
    await p1.flush();
    const results = await Promise.all([1, 2, 3].flatMap(() => [p1.evaluator.runOnce(), p2.evaluator.runOnce()]));
    assert.ok(results.some((r) => r.leader));
    assert.equal(Number(p1.leadership.isLeader) + Number(p2.leadership.isLeader), 1, 'exactly one leader');
    const rows = await db.sql<{ node_id: string; n: number }[]>`
      select node_id, count(*)::int as n from node_state_log group by node_id`;
    assert.equal(rows.length, 50);
    assert.ok(rows.every((r) => r.n === 1));
    const [{ events }] = (await db.sql`select count(*)::int as events from outbox`) as unknown as [{ events: number }];
    assert.equal(events, 50);
    await Promise.all([p1.close(), p2.close()]);
  });

  it('a follower takes over within two of its ticks of the leader being SIGKILLed', async () => {
    // The leader is an engine process, so it can die for real; the follower is the evaluator's own
    // loop in this process, so its ticks can be counted exactly. Ticks, not milliseconds: on a
    // busy machine a tick lasts longer, and what is promised is how many the follower waits.
    const TICK = 500;
    const leader = EngineProcess.start({
      DATABASE_URL: db.url,
      LIFELINE_ROLES: 'evaluator',
      LIFELINE_EVALUATOR_INTERVAL_MS: String(TICK),
      PORT: '0',
      HOST: '127.0.0.1',
    });
    const follower = createPipeline(db, new ManualClock('2026-11-21T10:00:00.000Z'));
    let ticks = 0;
    const ticked = new EventEmitter();
    const loop = new Loop({
      name: 'evaluator',
      kind: 'evaluator',
      log: testLog,
      intervalMs: TICK,
      runOnce: async () => {
        ticks++;
        await follower.evaluator.runOnce();
        ticked.emit('tick', follower.leadership.isLeader);
      },
    });
    try {
      await leader.waitFor((l) => l.msg === 'became evaluator leader');
      loop.start();
      const [leadingAtOnce] = (await once(ticked, 'tick')) as [boolean];
      assert.equal(leadingAtOnce, false, 'a follower while the engine leads');
      // Counted from the kill: a tick already under way began before it.
      const ticksBefore = ticks;
      leader.kill('SIGKILL');
      const tookOver = new Promise<number>((resolve) => ticked.on('tick', (leading: boolean) => leading && resolve(ticks - ticksBefore)));
      const after = await withPatience('the follower to lead', tookOver);
      assert.ok(after <= 2, `took over ${after} ticks after the kill`);
      assert.equal(leader.lines.filter((l) => l.msg === 'became evaluator leader').length, 1);
    } finally {
      leader.kill('SIGKILL');
      await leader.exited;
      await loop.stop();
      await follower.close();
    }
  });
});
