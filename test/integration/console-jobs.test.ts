import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node } from '../../src/api/shapes.ts';
import { SCHEDULE_DEFAULTS } from '../../src/nodes/model.ts';
import { consoleCookie, createHarness, formOf, START, type Harness } from '../helpers/app.ts';

// A scheduled job's page in the console: its schedule, its ping URL and a new one on request,
// and its runs with how long each took; and the edit form that sets, changes and clears it.

const ORIGIN = 'http://localhost';

describe("console: a scheduled job's page", () => {
  let h: Harness;
  let cookie: string;

  before(async () => {
    h = await createHarness({ publicUrl: 'https://lifeline.example.com' });
    cookie = await consoleCookie(h, ORIGIN);
  });
  after(async () => {
    await h.close();
  });

  const get = async (path: string) => (await h.app.request(path, { headers: { cookie } })).text();
  /** Posts the node's edit form as `page` shows it, with `fields` changed. */
  const save = async (name: string, fields: Record<string, string>, page: string) => {
    const form = formOf(page, `/nodes/${name}/edit`);
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    return h.app.request(`/nodes/${name}/edit`, {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  };

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
    assert.match(page, /<dt>Healthy again after<\/dt><dd>1 success ping<\/dd>/, 'a job counts pings, not heartbeats');

    assert.ok(page.includes(`href="/nodes/${job.id}/ping-key"`), 'the page offers a new ping URL to a write key, asking first');
    const question = await get(`/nodes/${job.id}/ping-key`);
    const res = await h.app.request(`/nodes/${job.id}/ping-key`, {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: formOf(question, `/nodes/${job.id}/ping-key`).toString(),
    });
    assert.equal(res.status, 303, await res.text());
    const rotated = (await (await h.admin('GET', '/v1/nodes/nightly-backup')).json()) as Node;
    assert.notEqual(rotated.ping_key, job.ping_key);
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 404, 'the old URL stops working at once');
    assert.match(await get('/nodes/nightly-backup?done=ping-key'), new RegExp(`The old one no longer works[^]*${rotated.ping_key}`));
  });

  it('shows the ping URL only to a session that may change the job', async () => {
    await h.createNode('read-only-view', { schedule: { cron: '0 5 * * *' } });
    const read = await h.createKey('read', 'console-reader');
    const readCookie = await consoleCookie(h, ORIGIN, read.secret);
    const page = await (await h.app.request('/nodes/read-only-view', { headers: { cookie: readCookie } })).text();
    assert.match(page, /<span class="mono">0 5 \* \* \*<\/span>/, 'the job page itself is shown');
    assert.doesNotMatch(page, /Ping URL|id="ping-url"|\/ping\//);
    assert.match(await get('/nodes/read-only-view'), /id="ping-url">https:\/\/lifeline.example.com\/ping\//);
  });

  it('sets a schedule from the edit form, shows it back, refuses a bad one as the API does, and clears it', async () => {
    const node = await h.createNode('edited-job', { heartbeat_interval_seconds: 45 });
    const api = async () => (await (await h.admin('GET', '/v1/nodes/edited-job')).json()) as Node;
    const editPage = () => get('/nodes/edited-job/edit');
    const saveJob = (fields: Record<string, string>, page: string) => save('edited-job', fields, page);

    const blank = await editPage();
    assert.match(blank, /id="schedule_cron" name="schedule_cron" type="text" maxlength="256" value=""/, 'a heartbeat node shows no schedule');
    const set = await saveJob({ schedule_cron: '0 3 * * *', schedule_time_zone: 'Europe/Berlin', schedule_grace_seconds: '600', schedule_max_run_seconds: '3600' }, blank);
    assert.equal(set.status, 303, await set.text());
    const job = await api();
    assert.deepEqual(job.schedule, { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 600, max_run_seconds: 3600 });
    assert.equal(job.heartbeat_interval_seconds, 45, 'the interval is kept for when the schedule goes');

    const shown = await editPage();
    for (const [field, value] of [['schedule_cron', '0 3 * * *'], ['schedule_time_zone', 'Europe/Berlin'], ['schedule_grace_seconds', '600'], ['schedule_max_run_seconds', '3600']]) {
      assert.match(shown, new RegExp(`name="${field}"[^>]*value="${value!.replaceAll('*', '\\*')}"`), `${field} is shown back`);
    }
    // Saved as shown, the form changes nothing.
    assert.equal((await saveJob({}, shown)).status, 303);
    assert.deepEqual((await api()).schedule, job.schedule);

    // A date that never comes: the API's own words beside the field, and not a row changed.
    const apiRefusal = await h.admin('PATCH', `/v1/nodes/${node.id}`, { schedule: { cron: '0 0 30 2 *' } });
    assert.equal(apiRefusal.status, 400);
    const { error } = (await apiRefusal.json()) as { error: { details: { field: string; message: string }[] } };
    assert.deepEqual(error.details, [{ field: 'schedule.cron', message: 'never matches a date (such as 30 February)' }]);
    const refused = await h.rejected(() => saveJob({ schedule_cron: '0 0 30 2 *' }, shown));
    assert.equal(refused.status, 400);
    const page = await refused.text();
    assert.match(page, /<p class="error" id="schedule_cron-error">never matches a date \(such as 30 February\)<\/p>/);
    assert.match(page, /name="schedule_cron"[^>]*value="0 0 30 2 \*"/, 'the form keeps what was typed');
    assert.deepEqual(await api(), job);

    const cleared = await saveJob({ schedule_cron: '' }, shown);
    assert.equal(cleared.status, 303, await cleared.text());
    const heartbeat = await api();
    assert.equal(heartbeat.schedule, null);
    assert.equal(heartbeat.heartbeat_interval_seconds, 45);
  });

  it('saves an emptied grace or longest run as its default, not as the stored value', async () => {
    await h.createNode('emptied-job', { schedule: { cron: '0 3 * * *', grace_seconds: 600, max_run_seconds: 3600 } });
    const saved = await save('emptied-job', { schedule_grace_seconds: '', schedule_max_run_seconds: '' }, await get('/nodes/emptied-job/edit'));
    assert.equal(saved.status, 303, await saved.text());
    const job = (await (await h.admin('GET', '/v1/nodes/emptied-job')).json()) as Node;
    assert.deepEqual(job.schedule, { cron: '0 3 * * *', time_zone: 'UTC', grace_seconds: SCHEDULE_DEFAULTS.grace_seconds, max_run_seconds: null });
  });

  it("refuses a time zone, grace or run limit without a cron expression on a node with no schedule, in the form's words", async () => {
    await h.createNode('beating', { heartbeat_interval_seconds: 45 });
    const blank = await get('/nodes/beating/edit');
    for (const [field, value] of [['schedule_time_zone', 'Europe/Berlin'], ['schedule_grace_seconds', '600'], ['schedule_max_run_seconds', '3600']] as const) {
      const refused = await h.rejected(() => save('beating', { [field]: value }, blank));
      assert.equal(refused.status, 400, field);
      const page = await refused.text();
      assert.match(page, /<p class="error" id="schedule_cron-error">Set a cron expression first: time zone, grace and longest run apply to a schedule<\/p>/);
      assert.match(page, new RegExp(`name="${field}"[^>]*value="${value}"`), 'the form keeps what was typed');
    }
    // The defaults the form shows a heartbeat node with are no schedule of their own.
    const saved = await save('beating', { grace_seconds: '5' }, blank);
    assert.equal(saved.status, 303, await saved.text());
    const node = (await (await h.admin('GET', '/v1/nodes/beating')).json()) as Node;
    assert.equal(node.schedule, null);
    assert.equal(node.grace_seconds, 5);
  });

  it("counts no missed heartbeats for a job, whose heartbeat interval judges nothing, as the API does", async () => {
    const job = await h.createNode('hourly-report', { schedule: { cron: '0 * * * *' } });
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 200);
    await h.flush();
    // Ten minutes on, the job is not due for another fifty; its unused 30 s interval would count 20 misses.
    h.clock.set(new Date(h.clock.now().getTime() + 10 * 60_000));
    const api = (await (await h.admin('GET', '/v1/nodes/hourly-report')).json()) as Node;
    assert.equal(api.health.missed_heartbeats, 0);
    const page = await get('/nodes/hourly-report');
    const seen = /<dt>Last ping<\/dt>\s*<dd>([^]*?)<\/dd>/.exec(page)?.[1];
    assert.ok(seen, 'the page shows the last ping');
    assert.match(seen, /10 min ago/);
    assert.doesNotMatch(seen, /missed/);
  });
  it('keeps plain success pings out of its runs and says so with the last ping, says "ping" for a job and shows its next run', async () => {
    const job = await h.createNode('minutely', { schedule: { cron: '*/5 * * * *', grace_seconds: 30 } });
    const empty = await get('/nodes/minutely');
    assert.match(empty, /No runs yet: plain success pings are not kept as runs; \/start and \/fail pings, and pings with an exit code or a body, are\. The job has not pinged\./);
    assert.match(empty, /No transitions yet: the job has not pinged\./);
    const t0 = h.clock.now().getTime();
    for (const minutes of [1, 2]) {
      h.clock.set(new Date(t0 + minutes * 60_000));
      assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 200);
      await h.flush();
    }
    h.clock.set(new Date(t0 + 4 * 60_000));
    const page = await get('/nodes/minutely');
    assert.doesNotMatch(page, /<td data-label="Finished">/, 'a plain success ping is no run');
    const lastPing = new Date(t0 + 2 * 60_000).toISOString();
    // The date only when the ping fell on another UTC day than the harness clock's now.
    const onDay = lastPing.slice(0, 10) === h.clock.now().toISOString().slice(0, 10) ? '' : `${lastPing.slice(0, 10)} `;
    assert.match(page, new RegExp(`No runs yet: plain success pings are not kept as runs;[^<]*Last ping <time datetime="${lastPing}"[^>]*>2 min ago · ${onDay}${lastPing.slice(11, 16)} UTC</time>\\.`));
    assert.match(page, /<dt>Last ping<\/dt>/);
    assert.doesNotMatch(page, /Last heartbeat/);
    const next = new Date(Math.ceil((t0 + 240_001) / 300_000) * 300_000);
    assert.match(page, new RegExp(`<dt>Next run</dt><dd><time datetime="${next.toISOString()}"[^>]*>in [^<]+ · [^<]*${next.toISOString().slice(11, 16)} UTC</time><span class="sub">its success ping is due within 30 s of it</span>`));
  });
  it("shows a zoned job's next run on its own clock beside UTC, as its reasons do", async () => {
    // In November Berlin's 03:30 is 02:30 UTC, on the same date.
    await h.createNode('berlin-nightly', { schedule: { cron: '30 3 * * *', time_zone: 'Europe/Berlin' } });
    const page = await get('/nodes/berlin-nightly');
    const shown = /<dt>Next run<\/dt><dd>([^]*?)<\/dd>/.exec(page)?.[1] ?? assert.fail('no next run');
    assert.match(shown, /<time datetime="[\d-]+T02:30:00.000Z"[^>]*>in [^<]+ · [^<]*02:30 UTC<\/time> \(03:30 in Europe\/Berlin\)/);
    // A local date other than the UTC one is said: New York's 22:00 is 03:00 UTC the day after.
    await h.createNode('new-york-late', { schedule: { cron: '0 22 * * *', time_zone: 'America/New_York' } });
    const late = /<dt>Next run<\/dt><dd>([^]*?)<\/dd>/.exec(await get('/nodes/new-york-late'))?.[1] ?? assert.fail('no next run');
    assert.match(late, /<time datetime="[\d-]+T03:00:00.000Z"[^>]*>in [^<]+ · [^<]*03:00 UTC<\/time> \(\d{4}-\d\d-\d\d 22:00 in America\/New_York\)/);
  });
  it("shows a six-field job's next run to the second it is due", async () => {
    await h.createNode('on-the-second', { schedule: { cron: '15 */5 * * * *', grace_seconds: 30 } });
    const page = await get('/nodes/on-the-second');
    const [, at, shown] = /<dt>Next run<\/dt><dd><time datetime="([^"]+)"[^>]*>in [^<]+ · ([^<]*) UTC<\/time>/.exec(page) ?? assert.fail('no next run');
    assert.equal(at!.slice(17, 19), '15');
    const onDay = at!.slice(0, 10) === h.clock.now().toISOString().slice(0, 10) ? '' : `${at!.slice(0, 10)} `;
    assert.equal(shown, `${onDay}${at!.slice(11, 19)}`);
  });
  it('says a past run whose success ping is still within its grace is awaited until its grace ends, never a next run in the past', async () => {
    const job = await h.createNode('in-grace', { schedule: { cron: '*/5 * * * *', grace_seconds: 120 } });
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 200);
    await h.flush();
    const run = Math.ceil((h.clock.now().getTime() + 1) / 300_000) * 300_000;
    h.clock.set(new Date(run + 60_000));
    const at = (t: number) => new Date(t).toISOString();
    const onDay = (t: number) => (at(t).slice(0, 10) === h.clock.now().toISOString().slice(0, 10) ? '' : `${at(t).slice(0, 10)} `);
    // Each time with its full UTC reading on hover, as every other time on the page.
    const time = (t: number) => `<time datetime="${at(t)}" title="${at(t).slice(0, 10)} ${at(t).slice(11, 19)} UTC">${onDay(t)}${at(t).slice(11, 16)} UTC</time>`;
    const shown = /<dt>Next run<\/dt><dd>([^]*?)<\/dd>/.exec(await get('/nodes/in-grace'))?.[1] ?? assert.fail('no next run');
    assert.equal(shown, `Awaiting the ${time(run)} run&#39;s ping until ${time(run + 120_000)}, in 1 min`);
    assert.doesNotMatch(shown, /ago/, 'nothing on the line is in the past but the run it names');
    // Its grace over (the engine has not yet judged it): the schedule's next time, in the future.
    h.clock.set(new Date(run + 120_000));
    assert.match(await get('/nodes/in-grace'), new RegExp(`<dt>Next run</dt><dd><time datetime="${at(run + 300_000)}"[^>]*>in 3 min · [^<]*${at(run + 300_000).slice(11, 16)} UTC</time>`));
  });
  it("names an awaited run of a zoned job on the job's clock too", async () => {
    // In November New York's clock is UTC − 5 h.
    const job = await h.createNode('new-york-awaited', { schedule: { cron: '*/5 * * * *', time_zone: 'America/New_York', grace_seconds: 240 } });
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 200);
    await h.flush();
    const run = Math.ceil((h.clock.now().getTime() + 1) / 300_000) * 300_000;
    h.clock.set(new Date(run + 60_000));
    const utc = new Date(run).toISOString();
    const local = new Date(run - 5 * 3_600_000).toISOString();
    const shown = /<dt>Next run<\/dt><dd>([^]*?)<\/dd>/.exec(await get('/nodes/new-york-awaited'))?.[1] ?? assert.fail('no next run');
    assert.match(shown, new RegExp(`^Awaiting the <time datetime="${utc}" title="[^"]+">[^<]*${utc.slice(11, 16)} UTC</time> \\((${local.slice(0, 10)} )?${local.slice(11, 16)} in America/New_York\\) run&#39;s ping until <time datetime="[^"]+" title="[^"]+">[^<]* UTC</time>, in 3 min$`));
  });
  it("shows a new job's first expected run, a margin after it was made, not the run seconds away", async () => {
    const fiveMinutes = 300_000;
    const made = Math.ceil(h.clock.now().getTime() / fiveMinutes) * fiveMinutes + 4.5 * 60_000;
    h.clock.set(new Date(made));
    await h.createNode('fresh-job', { schedule: { cron: '*/5 * * * *' } });
    const expected = new Date(made + 5.5 * 60_000).toISOString();
    assert.match(await get('/nodes/fresh-job'), new RegExp(`<dt>Next run</dt><dd><time datetime="${expected}"[^>]*>[^]*?its first expected run`));
  });
  it('shows a 29 February job its first run, whose third lies past the cron package\'s 8-year search', async () => {
    await h.createNode('leap-day', { schedule: { cron: '0 0 29 2 *' } });
    const res = await h.app.request('/nodes/leap-day', { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<dt>Next run<\/dt><dd><time datetime="2028-02-29T00:00:00.000Z"[^>]*>in [^<]+ · 2028-02-29 00:00 UTC<\/time>/);
  });
  it('shows a job in maintenance its schedule\'s next time, not judged until the window ends', async () => {
    const fiveMinutes = 300_000;
    const made = Math.ceil(h.clock.now().getTime() / fiveMinutes) * fiveMinutes + 4.5 * 60_000;
    h.clock.set(new Date(made));
    const job = await h.createNode('held-job', { schedule: { cron: '*/5 * * * *' } });
    await h.sql`update node_health set state = 'maintenance' where node_id = ${job.id}`;
    const next = new Date(made + 30_000).toISOString();
    const page = await get('/nodes/held-job');
    assert.match(page, new RegExp(`<dt>Next run</dt><dd><time datetime="${next}"[^>]*>in [^<]+ UTC</time><span class="sub">not judged until the maintenance window ends</span>`));
    assert.doesNotMatch(page, /its first expected run/);
  });
});
