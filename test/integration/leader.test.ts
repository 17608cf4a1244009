import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { EVALUATOR_LOCK, Leadership, LostLeadership } from '../../src/health/leader.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { EngineProcess } from '../helpers/engine-process.ts';
import { testLog } from '../helpers/log.ts';
import { createPipeline } from '../helpers/pipeline.ts';

describe('leader election', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it('lets exactly one of two contenders lead, and hands over on release', async () => {
    const a = createSql(db.url, { dedicated: true });
    const b = createSql(db.url, { dedicated: true });
    const la = new Leadership(a, testLog);
    const lb = new Leadership(b, testLog);
    const [ra, rb] = await Promise.all([la.refresh(), lb.refresh()]);
    assert.equal(Number(ra) + Number(rb), 1);
    const [leader, follower] = ra ? [la, lb] : [lb, la];
    assert.equal(await follower.refresh(), false);
    assert.equal(await leader.refresh(), true, 'a leader keeps the lock across checks');
    await leader.release();
    assert.equal(await follower.refresh(), true);
    await follower.release();
    await Promise.all([a.end(), b.end()]);
  });

  it('steps down and writes nothing once its session loses the lock', async () => {
    const s = createSql(db.url, { dedicated: true });
    const l = new Leadership(s, testLog);
    assert.equal(await l.refresh(), true);
    // The session is killed behind its back (failover, network cut): the lock goes with it.
    // pg_locks is server-wide: only this database's lock holder, never another test's.
    await db.sql`
      select pg_terminate_backend(pid) from pg_locks
      where locktype = 'advisory' and objid = ${EVALUATOR_LOCK} and granted
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
    await s`select pg_advisory_unlock(${EVALUATOR_LOCK})`;
    await assert.rejects(l.transaction(async () => 1), LostLeadership);
    assert.equal(await l.refresh(), true);
    await l.release();
    await s.end();
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

  it('a follower takes over within two ticks of the leader being SIGKILLed', async () => {
    const TICK = 500;
    const env = {
      DATABASE_URL: db.url,
      LIFELINE_ROLES: 'evaluator',
      LIFELINE_EVALUATOR_INTERVAL_MS: String(TICK),
      PORT: '0',
      HOST: '127.0.0.1',
    };
    const a = EngineProcess.start(env);
    const b = EngineProcess.start(env);
    try {
      const isLeaderLine = (l: { msg: string }) => l.msg === 'became evaluator leader';
      const first = await Promise.race([a.waitFor(isLeaderLine).then(() => a), b.waitFor(isLeaderLine).then(() => b)]);
      const other = first === a ? b : a;
      await other.listeningPort(); // the follower is up and trying
      const killedAt = Date.now();
      first.kill('SIGKILL');
      await other.waitFor(isLeaderLine);
      const tookMs = Date.now() - killedAt;
      assert.ok(tookMs <= 2 * TICK, `takeover took ${tookMs} ms, more than two ${TICK} ms ticks`);
      assert.equal(a.lines.filter(isLeaderLine).length + b.lines.filter(isLeaderLine).length, 2);
    } finally {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
      await Promise.all([a.exited, b.exited]);
    }
  });
});
