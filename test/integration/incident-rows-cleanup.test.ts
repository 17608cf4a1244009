import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { addTimeline, openIncidents } from '../../src/incidents/store.ts';
import { insertDeliveries } from '../../src/notifications/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

// The timeline and the ledger keep no foreign key to their incident (a mass outage's pages spent a
// third of their statement time checking it); triggers on `incidents` take an incident's rows
// with it when it is deleted or truncated, as the keys' cascade did, whoever deletes and however
// their search_path is set.
describe('an incident deleted or truncated takes its timeline and ledger rows', () => {
  let db: TestDatabase;
  const at = new Date('2026-12-07T12:00:00Z');

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    await db.sql`truncate incidents`;
  });

  /** An open incident with one timeline entry and one pending delivery: its id. */
  const incidentWithRows = async (name: string): Promise<string> => {
    const [row] = await openIncidents(db.sql, [
      { nodeId: randomUUID(), nodeName: name, category: 'node_down', severity: 'critical', title: `${name} is down`, reason: 'no heartbeat', policyId: null, openedAt: at },
    ]);
    const id = row!.id;
    await addTimeline(db.sql, [{ incident_id: id, at, kind: 'note', detail: { text: name } }]);
    await insertDeliveries(db.sql, [{ incidentId: id, event: 'opened', eventKey: 'opened', channelId: randomUUID(), channelType: 'webhook', occurredAt: at }], at);
    return id;
  };
  const rowsOf = async (id: string) => {
    const [row] = await db.sql<{ timeline: number; deliveries: number }[]>`
      select (select count(*)::int from incident_timeline where incident_id = ${id}) as timeline,
             (select count(*)::int from deliveries where incident_id = ${id}) as deliveries`;
    return row;
  };

  it('keeps no foreign key from the timeline or the ledger to incidents', async () => {
    const keys = await db.sql<{ conname: string }[]>`
      select conname from pg_constraint where contype = 'f' and confrelid = 'incidents'::regclass`;
    assert.deepEqual([...keys], []);
  });

  it('a deleted incident takes its rows, the others keep theirs, under any search_path', async () => {
    const gone = await incidentWithRows('web-1');
    const kept = await incidentWithRows('web-2');
    assert.deepEqual(await rowsOf(gone), { timeline: 1, deliveries: 1 });
    await db.sql.begin(async (tx) => {
      await tx`set local search_path = pg_catalog`;
      await tx`delete from public.incidents where id = ${gone}`;
    });
    assert.deepEqual(await rowsOf(gone), { timeline: 0, deliveries: 0 });
    assert.deepEqual(await rowsOf(kept), { timeline: 1, deliveries: 1 });
  });

  it('a truncated incidents table empties the timeline and the ledger', async () => {
    const a = await incidentWithRows('web-1');
    const b = await incidentWithRows('web-2');
    await db.sql`truncate incidents`;
    assert.deepEqual(await rowsOf(a), { timeline: 0, deliveries: 0 });
    assert.deepEqual(await rowsOf(b), { timeline: 0, deliveries: 0 });
  });
});
