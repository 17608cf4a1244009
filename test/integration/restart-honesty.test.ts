import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { brief, createPipeline, transitionsOf } from '../helpers/pipeline.ts';

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
});
