import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node } from '../../src/api/shapes.ts';
import { ADMIN_TOKEN, createHarness, START, type Harness } from '../helpers/app.ts';

// A scheduled job's page in the console: its schedule, its ping URL and a new one on request,
// and its runs with how long each took.

const ORIGIN = 'http://localhost';

describe("console: a scheduled job's page", () => {
  let h: Harness;
  let cookie: string;

  before(async () => {
    h = await createHarness({ publicUrl: 'https://lifeline.example.com' });
    const res = await h.app.request('/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
      body: new URLSearchParams({ key: ADMIN_TOKEN }).toString(),
    });
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  });
  after(async () => {
    await h.close();
  });

  const get = async (path: string) => (await h.app.request(path, { headers: { cookie } })).text();

  it('shows the schedule, the ping URL and each run with its duration, and draws a new ping URL', async () => {
    const job = await h.createNode('nightly-backup', { schedule: { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 300, max_run_seconds: 3600 } });
    const ping = async (suffix: string, body?: string) => {
      const res = await h.req(body === undefined ? 'GET' : 'POST', `/ping/${job.ping_key}${suffix}`, body === undefined ? {} : { body });
      assert.equal(res.status, 200);
    };
    await ping('/start');
    h.clock.set(new Date(new Date(START).getTime() + 3456));
    await ping('/0', 'copied 12 files');
    await ping('/start');
    h.clock.set(new Date(new Date(START).getTime() + 3456 + 420));
    await ping('/2', 'disk full');
    await h.flush();

    const page = await get('/nodes/nightly-backup');
    assert.match(page, /<span class="mono">0 3 \* \* \*<\/span> in Europe\/Berlin/);
    assert.match(page, /within 5 min, or running longer than 1 h/);
    assert.match(page, new RegExp(`id="ping-url">https://lifeline.example.com/ping/${job.ping_key}<`));
    const took = [...page.matchAll(/class="num run-time" data-label="Took">([^<]*)</g)].map((m) => m[1]);
    assert.deepEqual(took, ['420 ms', '3.46 s'], 'newest first, each with its duration');
    assert.match(page, /<summary>disk full<\/summary>/);

    const csrf = /action="\/nodes\/nightly-backup\/ping-key"[^]*?name="_csrf" value="([^"]+)"/.exec(page)?.[1];
    assert.ok(csrf, 'the page offers a new ping URL to a write key');
    const res = await h.app.request('/nodes/nightly-backup/ping-key', {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    assert.equal(res.status, 303, await res.text());
    const rotated = (await (await h.admin('GET', '/v1/nodes/nightly-backup')).json()) as Node;
    assert.notEqual(rotated.ping_key, job.ping_key);
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 404, 'the old URL stops working at once');
    assert.match(await get('/nodes/nightly-backup?done=ping-key'), new RegExp(`The old one no longer works[^]*${rotated.ping_key}`));
  });
});
