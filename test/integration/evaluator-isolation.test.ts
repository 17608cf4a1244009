import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import postgres from 'postgres';
import { pino } from 'pino';
import type { ManualClock } from '../helpers/clock.ts';
import { createSql, type Sql } from '../../src/db/client.ts';
import type { DbErrorKind } from '../../src/db/errors.ts';
import { Events } from '../../src/events.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { holdOpen, waitsOnLock } from '../helpers/locks.ts';
import { brief, freshPipeline, GAP_MS, transitionsOf, type createPipeline } from '../helpers/pipeline.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');
const APP = 'lifeline-test-isolated-evaluator';
const NOT_LEADER = 'no longer evaluator leader';

describe('evaluator: one node that cannot be judged', () => {
  let db: TestDatabase;
  let clock: ManualClock;
  let p: ReturnType<typeof createPipeline>;
  let leadership: Leadership;
  let evaluator: Evaluator;
  let logs: Array<{ msg: string; node_id?: string }>;
  let nodeErrors: DbErrorKind[];
  let passErrors: number;
  /** Batches read by node id (the walk), not in due order, and the pool that counts them. */
  let walks = 0;
  let reader: Sql;
  let ids: string[];

  before(async () => {
    db = await createTestDatabase();
    // A real fault in the write path: updating the health of a listed node raises, as a row the
    // database refuses would.
    await db.sql`create table test_refused (node_id uuid primary key references nodes (id) on delete cascade)`;
    await db.sql`
      create function test_refuse() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from test_refused where node_id = new.node_id) then
          raise exception 'node % refused by the test', new.node_id using errcode = '22023';
        end if;
        return new;
      end $$`;
    await db.sql`create trigger test_refuse before update on node_health for each row execute function test_refuse()`;
    reader = postgres(db.url, {
      onnotice: () => {},
      debug: (_connection, query) => {
        if (query.includes('order by d.node_id')) walks += 1;
      },
    });
  });
  after(async () => {
    await leadership?.release().catch(() => {});
    await leadership?.close();
    await p?.close();
    await reader?.end({ timeout: 1 });
    await db.drop();
  });

  // Forty nodes whose agents report failing: all due at once, judged in batches of 16.
  beforeEach(async () => {
    await leadership?.release().catch(() => {});
    await leadership?.close();
    ({ clock, p } = await freshPipeline(db, p, T0));
    logs = [];
    nodeErrors = [];
    passErrors = 0;
    walks = 0;
    const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    leadership = new Leadership(() => createSql(db.url, { dedicated: true, applicationName: APP }), log);
    const events = new Events();
    events.on('evaluator.node_error', (kind) => nodeErrors.push(kind));
    events.on('loop.error', () => (passErrors += 1));
    evaluator = new Evaluator({
      leadership,
      clock,
      log,
      intervalMs: 1000,
      coverageGapMs: GAP_MS,
      batchSize: 16,
      events,
      // Batches read ahead on a pool, as the engine reads them.
      reader,
    });
    ids = [];
    for (let i = 0; i < 40; i++) ids.push(await p.addNode(`n-${String(i).padStart(2, '0')}`));
    for (const id of ids) p.beat(id, 'failing');
    await p.flush();
  });

  const dueRow = async (id: string) => {
    const [row] = await db.sql<{ failures: number; due_at: Date }[]>`select failures, due_at from node_due where node_id = ${id}`;
    return row!;
  };
  const downCount = async () => {
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from node_health where state = 'down'`;
    return row!.n;
  };
  const logged = (msg: string) => logs.filter((l) => l.msg === msg);

  it('judges every other node in the same pass, keeps leadership, and backs the bad one off until it can be judged', async () => {
    const bad = ids[17]!; // in the second batch
    await db.sql`insert into test_refused values (${bad})`;

    const first = await evaluator.runOnce();
    assert.deepEqual([first.leader, first.evaluated, first.transitions, first.failed], [true, 40, 39, 1]);
    assert.equal(leadership.isLeader, true);
    assert.equal(await downCount(), 39);
    assert.deepEqual(brief(await transitionsOf(db, ids[16]!), T0), ['unknown->down@0'], 'its batch neighbour is judged');
    assert.equal((await transitionsOf(db, bad)).length, 0);
    assert.deepEqual(await dueRow(bad), { failures: 1, due_at: new Date(T0.getTime() + 1000) });
    assert.deepEqual(nodeErrors, ['invalid_data']);
    assert.equal(logged('evaluator batch failed; judging its nodes in parts to find the one at fault').length, 1);
    assert.deepEqual(logged('could not judge a node; it is retried alone after a backoff').map((l) => l.node_id), [bad]);

    // Not due again before its backoff has passed.
    assert.equal((await evaluator.runOnce()).evaluated, 0);

    // At its retry it is judged alone: the nodes due with it (five recovering) are not held up
    // and their batch does not fail again.
    clock.set(new Date(T0.getTime() + 1000));
    for (const id of ids.slice(0, 5)) p.beat(id);
    await p.flush();
    const retry = await evaluator.runOnce();
    assert.deepEqual([retry.evaluated, retry.transitions, retry.failed], [6, 5, 1]);
    assert.deepEqual(await dueRow(bad), { failures: 2, due_at: new Date(T0.getTime() + 3000) }, 'the backoff doubles');
    assert.equal(logged('evaluator batch failed; judging its nodes in parts to find the one at fault').length, 1);

    // The fault is gone: at the next retry the node is judged, and its failures are forgotten.
    await db.sql`delete from test_refused`;
    clock.set(new Date(T0.getTime() + 3000));
    await p.flush();
    const healed = await evaluator.runOnce();
    assert.deepEqual([healed.transitions, healed.failed], [1, 0]);
    assert.deepEqual(brief(await transitionsOf(db, bad), T0), ['unknown->down@0']);
    assert.equal((await dueRow(bad)).failures, 0);
    assert.deepEqual(nodeErrors, ['invalid_data', 'invalid_data']);
    assert.equal(logged(NOT_LEADER).length, 0, 'leadership was never given up');
  });

  it('reads each node once when the next batch is read ahead of a due time finer than a millisecond', async () => {
    // Every node due within the same millisecond, off it: a cursor kept as a Date would sort
    // before all of them, and the batch read while the first is written would read it again. The
    // due times differ and do not follow node ids, so after the first batch the rest is walked by
    // node id, bounded by that cursor.
    await db.sql`update node_due set due_at = due_at - (1 + abs(hashtext(node_id::text)) % 900) * interval '1 microsecond'`;
    const r = await evaluator.runOnce();
    assert.deepEqual([r.evaluated, r.transitions, r.failed], [40, 40, 0]);
    assert.equal(await downCount(), 40);
    assert.equal(walks, 2, 'the 24 after the first batch walked by node id, 16 at a time');
  });

  it('reads each node once in due order when most of the fleet is not due', async () => {
    // Sixty nodes that never reported, due at no time: the 24 due after the first batch are too
    // few to walk the fleet by node id, so every batch is read in due order, each ahead of the
    // one before being written (the walk is taken in the test above).
    for (let i = 0; i < 60; i++) await p.addNode(`idle-${String(i).padStart(2, '0')}`);
    await db.sql`update node_due set due_at = due_at - (1 + abs(hashtext(node_id::text)) % 900) * interval '1 microsecond' where due_at <> 'infinity'`;
    const r = await evaluator.runOnce();
    assert.deepEqual([r.evaluated, r.transitions, r.failed], [40, 40, 0]);
    assert.equal(await downCount(), 40);
    assert.equal(walks, 0, 'never walked by node id');
  });

  it('judges every node when one holds an infinite instant set by hand', async () => {
    // None of the engine's writes makes one; read as a number it would fail the whole batch's
    // read, where no node can be set apart, and so every pass.
    await db.sql`update node_health set since = '-infinity' where node_id = ${ids[5]!}`;
    await db.sql`update node_heartbeats set last_heartbeat_at = 'infinity' where node_id = ${ids[6]!}`;
    await db.sql`update node_due set due_at = '-infinity' where node_id = ${ids[7]!}`;
    const r = await evaluator.runOnce();
    assert.equal(r.evaluated, 40);
    assert.equal(r.failed, 0);
  });

  it('finds several bad nodes in one batch and judges all the others', async () => {
    const bad = [ids[0]!, ids[9]!, ids[15]!, ids[33]!];
    for (const id of bad) await db.sql`insert into test_refused values (${id})`;
    const r = await evaluator.runOnce();
    assert.deepEqual([r.transitions, r.failed], [36, 4]);
    const failed = await db.sql<{ node_id: string }[]>`select node_id from node_due where failures > 0 order by node_id`;
    assert.deepEqual(failed.map((f) => f.node_id), [...bad].sort());
    assert.equal(await downCount(), 36);
    assert.equal(logged(NOT_LEADER).length, 0);
  });

  it('retries a pass cut short by a transient error without blaming a node or stepping down', async () => {
    // The pass waits on a row lock; its statement is then cancelled (57014), as a statement
    // timeout or an operator would: nobody's data is at fault.
    const held = await holdOpen(db, (tx) => tx`select 1 from node_health where node_id = ${ids[20]!} for update`);
    const pass = evaluator.runOnce();
    await waitsOnLock(db, APP);
    await db.sql`select pg_cancel_backend(pid) from pg_stat_activity where datname = current_database() and application_name = ${APP}`;
    const cut = await pass;
    await held.release();
    assert.equal(cut.leader, true);
    assert.ok(cut.sleepMs < 1000, `retried sooner than a whole interval (${cut.sleepMs} ms)`);
    assert.equal(passErrors, 1);
    assert.deepEqual(nodeErrors, []);
    const [{ n }] = (await db.sql`select count(*)::int as n from node_due where failures > 0`) as unknown as [{ n: number }];
    assert.equal(n, 0, 'no node was blamed');
    assert.equal(leadership.isLeader, true);

    const again = await evaluator.runOnce();
    assert.equal(await downCount(), 40);
    assert.ok(again.transitions > 0);
    assert.equal(logged(NOT_LEADER).length, 0);
  });
});
