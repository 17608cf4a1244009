import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node } from '../../src/api/shapes.ts';
import { consoleCookie, consolePages, createHarness, unescapeHtml, type Harness } from '../helpers/app.ts';

// Adding a node from the console makes what POST /v1/nodes makes, through the same command and
// schema: a team's first node needs no API call. Its token is shown once, with the heartbeat (or
// the job's ping) to paste; a node's page gives its public badges to paste into a README.

const ORIGIN = 'http://localhost';
/** What addresses to copy start with while LIFELINE_PUBLIC_URL is unset (not this page's origin). */
const UNSET = '<LIFELINE_PUBLIC_URL>';
const UNSET_HINT = /<p class="hint" id="engine-unset">/;
/** The text of the snippet to copy with this id. */
const snippet = (html: string, id: string) => unescapeHtml(new RegExp(`<pre class="snippet" id="${id}"><code>([^<]*)</code></pre>`).exec(html)?.[1] ?? assert.fail(`no ${id} snippet`));

describe('console: add a node', () => {
  let h: Harness;
  let admin: string;
  let reader: string;
  let policyId: string;

  before(async () => {
    h = await createHarness();
    admin = await consoleCookie(h, ORIGIN);
    reader = await consoleCookie(h, ORIGIN, (await h.createKey('read', 'wall screen')).secret);
    const carol = (await (await h.admin('POST', '/v1/users', { name: 'Carol', email: 'carol@example.com' })).json()) as { id: string };
    const policy = await h.admin('POST', '/v1/escalation-policies', { name: 'Ops', levels: [{ after_seconds: 0, channel_ids: [], user_ids: [carol.id], schedule_ids: [] }] });
    assert.equal(policy.status, 201);
    policyId = ((await policy.json()) as { id: string }).id;
  });
  after(async () => {
    await h.close();
  });

  const { get, post, sent } = consolePages(() => h, ORIGIN, () => admin);
  /** The add form as a browser would send it, with these fields changed. */
  const filled = async (fields: Record<string, string>) => {
    const body = sent((await get('/new-node')).html, '/new-node');
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    return body;
  };
  const nodeCount = async () => Number((await h.sql`select count(*) from nodes`)[0]!.count);
  /** A node as the API shows it, without what differs between any two nodes. */
  const settingsOf = (n: Node & { token?: string }) => {
    const { id, name, badge_id, ping_key, ping_url, created_at, updated_at, health, token, ...settings } = n;
    void [id, name, badge_id, ping_key, ping_url, created_at, updated_at, token];
    return { ...settings, state: health.state };
  };

  it('offers the form from an empty fleet, to write keys only', async () => {
    const fleet = await get('/');
    assert.match(fleet.html, /No nodes yet\./);
    assert.match(fleet.html, /<a class="button primary" href="\/new-node">Add a node<\/a>/);
    const read = await get('/', reader);
    assert.match(read.html, /No nodes yet\./);
    assert.doesNotMatch(read.html, /new-node/);
    const form = await get('/new-node');
    assert.equal(form.status, 200);
    // The API's defaults, as a fresh form shows them.
    assert.match(form.html, /name="heartbeat_interval_seconds"[^>]*value="30"/);
    assert.match(form.html, /name="failures_for_down"[^>]*value="3"/);
    assert.match(form.html, /name="grace_seconds"[^>]*value="0"/);
    assert.match(form.html, /name="successes_for_recovery"[^>]*value="1"/);
    assert.match(form.html, /<input id="schedule_time_zone"[^>]*value="UTC"/);
    // A job's 5 minutes of grace, as the API gives a job made without one (SCHEDULE_DEFAULTS).
    assert.match(form.html, /<input id="schedule_grace_seconds"[^>]*value="300"/);
    assert.match(form.html, /<input id="schedule_max_run_seconds"[^>]*value=""/);
  });

  it('adds a job left as the form starts with the grace the API gives a job made without one', async () => {
    const res = await post('/new-node', await filled({ name: 'minutely-sync', kind: 'job', schedule_cron: '* * * * *' }));
    assert.equal(res.status, 201, (await res.clone().text()).replace(/[^]*<main/, '').slice(0, 800));
    const made = (await (await h.admin('GET', '/v1/nodes/minutely-sync')).json()) as Node;
    const twin = await h.createNode('minutely-sync-api', { schedule: { cron: '* * * * *' } });
    assert.deepEqual(settingsOf(made), settingsOf(twin));
    assert.equal(made.schedule?.grace_seconds, 300);
  });

  it('adds a heartbeat node as POST /v1/nodes does, shows its token once with the heartbeat to send, and the token works', async () => {
    const res = await post(
      '/new-node',
      await filled({ name: 'web-1', kind: 'heartbeat', heartbeat_interval_seconds: '10', failures_for_down: '2', grace_seconds: '5', successes_for_recovery: '2', labels: 'role=web\r\nzone=eu', escalation_policy_id: policyId }),
    );
    assert.equal(res.status, 201, (await res.clone().text()).replace(/[^]*<main/, '').slice(0, 800));
    const page = await res.text();
    const token = /<p class="secret" id="token">(lln_[^<]+)<\/p>/.exec(page)?.[1] ?? assert.fail('no token shown');
    assert.equal(
      snippet(page, 'heartbeat-snippet'),
      `curl -s -XPOST ${UNSET}/v1/heartbeats -H "authorization: Bearer ${token}" \\\n  -H 'content-type: application/json' -d '{"status":"ok"}'`,
    );
    assert.match(page, UNSET_HINT);
    assert.doesNotMatch(page, /ping-snippet/, 'a heartbeat node is given no ping to send');

    const made = (await (await h.admin('GET', '/v1/nodes/web-1')).json()) as Node;
    const twin = await h.createNode('web-1-api', {
      heartbeat_interval_seconds: 10,
      failures_for_down: 2,
      grace_seconds: 5,
      successes_for_recovery: 2,
      labels: { role: 'web', zone: 'eu' },
      escalation_policy_id: policyId,
    });
    assert.deepEqual(settingsOf(made), settingsOf(twin));
    assert.deepEqual(made.labels, { role: 'web', zone: 'eu' });
    assert.equal(made.heartbeat_interval_seconds, 10);

    const beat = await h.req('POST', '/v1/heartbeats', { token, json: { status: 'ok' } });
    assert.equal(beat.status, 202);
  });

  it('adds a scheduled job with its ping URL to paste, and the API defaults for what was left empty', async () => {
    const res = await post(
      '/new-node',
      await filled({ name: 'nightly-backup', kind: 'job', schedule_cron: '0 3 * * *', schedule_time_zone: 'Europe/Berlin', schedule_grace_seconds: '300', successes_for_recovery: '' }),
    );
    assert.equal(res.status, 201, (await res.clone().text()).replace(/[^]*<main/, '').slice(0, 800));
    const page = await res.text();
    const made = (await (await h.admin('GET', '/v1/nodes/nightly-backup')).json()) as Node;
    const twin = await h.createNode('nightly-backup-api', { schedule: { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 300 } });
    assert.deepEqual(settingsOf(made), settingsOf(twin));
    assert.deepEqual(made.schedule, { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 300, max_run_seconds: null });
    const ping = snippet(page, 'ping-snippet');
    // Not the origin this page was asked at: behind a TLS proxy that is http and the upstream's
    // host, where the proxy's 301 makes `curl -fsS` exit 0 with every ping lost.
    assert.equal(ping, `curl -fsS -m 10 --retry 5 ${UNSET}/ping/${made.ping_key}`);
    assert.match(page, UNSET_HINT);
    // Not `npx lifeline`: that name on npm is another package, which a crontab would fetch and run.
    assert.doesNotMatch(page, /npx lifeline/);
    // Its crontab lines as `lifeline nodes add` prints them: read on the job's clock, then set back.
    assert.deepEqual(snippet(page, 'crontab-snippet').split('\n'), [
      'CRON_TZ=Europe/Berlin',
      `0 3 * * * lifeline run --ping-url ${UNSET}/ping/${made.ping_key} -- your-job.sh`,
      "# CRON_TZ holds for every line below it: set it back to the host's zone for the lines after the job",
      'CRON_TZ=<host zone>',
    ]);
    const answered = await h.req('GET', ping.split(' ').at(-1)!.slice(UNSET.length));
    assert.equal(answered.status, 200);
  });

  it('shows a refused form again with what was typed and each problem beside its field, and adds nothing', async () => {
    const body = await filled({ name: 'web-2', kind: 'heartbeat', heartbeat_interval_seconds: '0', labels: 'role=web' });
    const res = await h.rejected(async () => post('/new-node', body));
    assert.equal(res.status, 400);
    const page = await res.text();
    assert.match(page, /Not added: some fields need another look\./);
    assert.match(page, /<input id="name" name="name"[^>]*value="web-2"/);
    assert.match(page, /<textarea id="labels" name="labels"[^>]*>\nrole=web<\/textarea>/);
    assert.match(page, /name="heartbeat_interval_seconds"[^>]*value="0"[^]*?<p class="error" id="heartbeat_interval_seconds-error">must be at least 1<\/p>/);

    // A job without its expression is refused by the API's check, not made a heartbeat node.
    const job = await h.rejected(async () => post('/new-node', await filled({ name: 'job-2', kind: 'job', schedule_cron: '' })));
    assert.equal(job.status, 400);
    assert.match(await job.text(), /<p class="error" id="schedule_cron-error">must be a cron expression of 1 to 256 characters<\/p>/);

    const bad = await h.rejected(async () => post('/new-node', await filled({ name: 'web-3', labels: 'role' })));
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /<p class="error" id="labels-error">line 1 is not key=value<\/p>/);

    // The refused form's token was given back: the corrected form is added.
    body.set('heartbeat_interval_seconds', '15');
    assert.equal((await post('/new-node', body)).status, 201);
    assert.equal(((await (await h.admin('GET', '/v1/nodes/web-2')).json()) as Node).heartbeat_interval_seconds, 15);
  });

  it('adds once per form: sent again, it goes to the node without its token and adds nothing', async () => {
    const body = await filled({ name: 'db-1' });
    const first = await post('/new-node', body);
    assert.equal(first.status, 201);
    const token = /<p class="secret" id="token">(lln_[^<]+)<\/p>/.exec(await first.text())?.[1] ?? assert.fail('no token shown');
    const made = (await (await h.admin('GET', '/v1/nodes/db-1')).json()) as Node;
    const count = await nodeCount();
    for (let again = 0; again < 2; again++) {
      const resent = await post('/new-node', body);
      assert.equal(resent.status, 303);
      assert.equal(resent.headers.get('location'), `/nodes/${made.id}?done=already`);
    }
    assert.equal(await nodeCount(), count);
    const page = await get(`/nodes/${made.id}?done=already`);
    assert.match(page.html, /That form was already sent, and nothing new was made: the token it showed is not shown again\. If it was lost, rotate the token\./);
    assert.doesNotMatch(page.html, new RegExp(token));
  });

  it('sends a form sent again after a rename to the node, not to a 404 under its old name', async () => {
    const body = await filled({ name: 'db-2' });
    assert.equal((await post('/new-node', body)).status, 201);
    const made = (await (await h.admin('PATCH', '/v1/nodes/db-2', { name: 'db-2-renamed' })).json()) as Node;
    const resent = await post('/new-node', body);
    assert.equal(resent.status, 303);
    const at = resent.headers.get('location') ?? '';
    assert.equal(at, `/nodes/${made.id}?done=already`);
    assert.match((await get(at)).html, /<h1[^>]*>[^]*db-2-renamed/);

    // So does a token rotation's form, whose page drew it before the rename.
    const asked = (await get(`/nodes/${made.id}/token`)).html;
    const rotate = sent(asked, `/nodes/${made.id}/token`);
    assert.equal((await post(`/nodes/${made.id}/token`, rotate)).status, 200);
    await h.admin('PATCH', `/v1/nodes/${made.id}`, { name: 'db-2-again' });
    const again = await post(`/nodes/${made.id}/token`, rotate);
    assert.equal(again.status, 303);
    assert.equal(again.headers.get('location'), `/nodes/${made.id}?done=already`);
    assert.equal((await get(again.headers.get('location')!)).status, 200);
  });

  it('refuses a read key the form and what it forges', async () => {
    assert.equal((await get('/new-node', reader)).status, 403);
    const fleet = await get('/', reader);
    assert.doesNotMatch(fleet.html, /new-node/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await get('/nodes/web-1', reader)).html)?.[1] ?? assert.fail('no csrf token');
    const body = await filled({ name: 'forged' });
    body.set('_csrf', csrf);
    const res = await h.rejected(async () => post('/new-node', body, reader));
    assert.equal(res.status, 403);
    assert.match(await res.text(), /this needs write scope/);
    assert.equal((await h.admin('GET', '/v1/nodes/forged')).status, 404);
  });

  it("gives a node's public badges to paste, whose addresses answer with an SVG, to read keys too", async () => {
    const node = (await (await h.admin('GET', '/v1/nodes/web-1')).json()) as Node;
    const page = await get('/nodes/web-1', reader);
    assert.equal(page.status, 200);
    const state = snippet(page.html, 'badge-state-url');
    assert.equal(state, `${UNSET}/badge/${node.badge_id}.svg`);
    assert.equal(snippet(page.html, 'badge-state-markdown'), `![web-1 status](${state})`);
    assert.equal(snippet(page.html, 'badge-state-html'), `<img src="${state}" alt="web-1 status">`);
    const uptime = snippet(page.html, 'badge-uptime-url');
    assert.equal(uptime, `${UNSET}/badge/${node.badge_id}.svg?metric=uptime&window=30d`);
    assert.equal(snippet(page.html, 'badge-uptime-html'), `<img src="${UNSET}/badge/${node.badge_id}.svg?metric=uptime&amp;window=30d" alt="web-1 uptime">`);
    assert.match(page.html, UNSET_HINT);
    // The preview is drawn from the same origin, by its path.
    assert.match(page.html, new RegExp(`<img src="/badge/${node.badge_id}.svg" alt="web-1 status"`));
    for (const url of [state, uptime]) {
      const res = await h.app.request(url.slice(UNSET.length));
      assert.equal(res.status, 200, url);
      assert.equal(res.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
      assert.match(await res.text(), /^<svg [^]*<\/svg>$/);
    }
  });
});

describe('console: addresses to copy with LIFELINE_PUBLIC_URL set', () => {
  const PUBLIC = 'https://lifeline.example.com/base';
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await createHarness({ publicUrl: PUBLIC });
    admin = await consoleCookie(h, ORIGIN);
  });
  after(async () => {
    await h.close();
  });
  const { get, post, sent } = consolePages(() => h, ORIGIN, () => admin);

  it('starts the token page\'s snippets and the badges\' with it, and says nothing of setting it', async () => {
    const body = sent((await get('/new-node')).html, '/new-node');
    for (const [k, v] of Object.entries({ name: 'backup', kind: 'job', schedule_cron: '0 3 * * *' })) body.set(k, v);
    const res = await post('/new-node', body);
    assert.equal(res.status, 201);
    const page = await res.text();
    const node = (await (await h.admin('GET', '/v1/nodes/backup')).json()) as Node;
    assert.equal(snippet(page, 'ping-snippet'), `curl -fsS -m 10 --retry 5 ${PUBLIC}/ping/${node.ping_key}`);
    assert.match(snippet(page, 'heartbeat-snippet'), new RegExp(`^curl -s -XPOST ${PUBLIC}/v1/heartbeats `));
    assert.doesNotMatch(page, /LIFELINE_PUBLIC_URL/);

    const nodePage = (await get('/nodes/backup')).html;
    assert.equal(snippet(nodePage, 'badge-state-url'), `${PUBLIC}/badge/${node.badge_id}.svg`);
    assert.equal(snippet(nodePage, 'badge-uptime-markdown'), `![backup uptime](${PUBLIC}/badge/${node.badge_id}.svg?metric=uptime&window=30d)`);
    assert.equal(snippet(nodePage, 'badge-uptime-html'), `<img src="${PUBLIC}/badge/${node.badge_id}.svg?metric=uptime&amp;window=30d" alt="backup uptime">`);
    assert.doesNotMatch(nodePage, /LIFELINE_PUBLIC_URL/);
  });
});
