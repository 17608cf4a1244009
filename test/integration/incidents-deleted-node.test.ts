import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import type { Incident } from '../../src/api/shapes.ts';
import { run } from '../../src/cli/main.ts';
import { openIncidents } from '../../src/incidents/store.ts';
import { ADMIN_TOKEN, consoleCookie, createHarness, expectError, expectJson } from '../helpers/app.ts';

const MIN = 60_000;

// A review of an outage looks up its nodes by name after some were deleted: their incidents keep
// node_id and node_name, so the name still finds them (the newest node that carried it), unless a
// node has that name now.
describe('incidents of a deleted node, by its name', () => {
  let h: Awaited<ReturnType<typeof createHarness>>;
  let server: ServerType;
  let url: string;

  before(async () => {
    h = await createHarness();
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.db.drop();
  });
  beforeEach(async () => {
    await h.sql`truncate incidents, outbox cascade`;
    await h.sql`delete from nodes`;
  });

  /** A node named `name` with one incident opened `min` minutes from now, then deleted: the incident's id. */
  const outageOf = async (name: string, min: number, deleted = true) => {
    const node = await h.createNode(name);
    const [row] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: name, category: 'node_down', severity: 'critical', title: `${name} is down`, reason: 'no heartbeat', policyId: null, openedAt: new Date(h.clock.now().getTime() + min * MIN) },
    ]);
    if (deleted) assert.equal((await h.admin('DELETE', `/v1/nodes/${node.id}`)).status, 204);
    return { incident: row!.id, node: node.id };
  };
  const list = async (ref: string) => (await expectJson<{ items: Incident[] }>(await h.admin('GET', `/v1/incidents?node_id=${ref}`), 200)).items.map((i) => i.id);
  const count = async (ref: string) => (await expectJson<{ count: number }>(await h.admin('GET', `/v1/incidents/summary?node_id=${ref}`), 200)).count;
  const cli = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await run(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { LIFELINE_URL: url, LIFELINE_TOKEN: ADMIN_TOKEN } });
    return { code, stdout, stderr };
  };

  it('lists and summarizes a deleted node’s incidents by its name, in the API and the CLI', async () => {
    const web1 = await outageOf('web-1', 0);
    await outageOf('web-2', 1);
    assert.deepEqual(await list('web-1'), [web1.incident]);
    assert.equal(await count('web-1'), 1);
    const listed = await cli(['incidents', 'list', '--node', 'web-1', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { items: Incident[] }).items.map((i) => i.id), [web1.incident]);
    const summed = await cli(['incidents', 'summary', '--node', 'web-1', '--json']);
    assert.equal(summed.code, 0, summed.stderr);
    assert.equal((JSON.parse(summed.stdout) as { count: number }).count, 1);
  });

  it("lists a deleted node's incidents on the console's Incidents page by its name", async () => {
    await outageOf('web-1', 0);
    const html = await (await h.app.request('/incidents?node=web-1', { headers: { cookie: await consoleCookie(h, 'http://localhost') } })).text();
    assert.match(html, /web-1 is down/);
    assert.doesNotMatch(html, /no such node/);
  });

  it('takes the newest node that carried a reused name, and a node that has it now before any deleted one', async () => {
    await outageOf('web-1', 0);
    const second = await outageOf('web-1', 10);
    assert.deepEqual(await list('web-1'), [second.incident]);
    assert.equal(await count('web-1'), 1);
    const current = await outageOf('web-1', 20, false);
    assert.deepEqual(await list('web-1'), [current.incident]);
    assert.equal(await count('web-1'), 1);
  });

  it('still refuses a name no node ever had, in the API and the CLI', async () => {
    await outageOf('web-1', 0);
    assert.equal((await expectError(await h.admin('GET', '/v1/incidents?node_id=web-9'), 404, 'not_found')).message, 'Node "web-9" was not found.');
    await expectError(await h.admin('GET', '/v1/incidents/summary?node_id=web-9'), 404, 'not_found');
    const listed = await cli(['incidents', 'list', '--node', 'web-9']);
    assert.equal(listed.code, 1);
    assert.match(listed.stderr, /Node "web-9" was not found\./);
  });
});
