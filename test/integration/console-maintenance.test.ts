import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openIncidents } from '../../src/incidents/store.ts';
import { consoleCookie, createHarness, type Harness } from '../helpers/app.ts';

// Maintenance as the incident pages say it: a node put into maintenance while an incident of it
// is open keeps the incident, and the pages say why nobody is paged and until when.

const ORIGIN = 'http://localhost';

describe('console: incidents of a node in maintenance', () => {
  let h: Harness;
  let cookie: string;
  const get = async (path: string) => (await h.app.request(path, { headers: { cookie } })).text();

  before(async () => {
    h = await createHarness();
    cookie = await consoleCookie(h, ORIGIN);
  });
  after(async () => {
    await h.close();
  });

  it('says on the incident and in the list that the node is in maintenance, and until when', async () => {
    const node = await h.createNode('web-01');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'web-01 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const before = await get(`/incidents/${incident!.id}`);
    assert.doesNotMatch(before, /in maintenance/);
    const until = new Date(h.clock.now().getTime() + 3_600_000);
    const created = await h.admin('POST', '/v1/maintenances', { node_ids: ['web-01'], starts_at: h.clock.now().toISOString(), ends_at: until.toISOString() });
    assert.equal(created.status, 201);
    const says = new RegExp(`node in maintenance until <time datetime="${until.toISOString()}">[^<]+</time>: no pages meanwhile`);
    assert.match(await get(`/incidents/${incident!.id}`), says);
    assert.match(await get('/incidents'), says);
  });
});
