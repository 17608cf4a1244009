import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node, Run } from '../../src/api/shapes.ts';
import { createSql } from '../../src/db/client.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import { KEPT_OUTPUT_BYTES, PING_BODY_READ_BYTES } from '../../src/jobs/model.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectInvalid, expectJson, START, type Harness } from '../helpers/app.ts';
import { holdOpen } from '../helpers/locks.ts';
import { testLog } from '../helpers/log.ts';
import { transitionsOf } from '../helpers/pipeline.ts';
import { until } from '../helpers/wait.ts';

// Scheduled jobs through the HTTP surface on a manual clock: nodes with a cron schedule, their ping
// URLs through ingest, their runs, and the evaluator judging them at their deadlines.

const PUBLIC_URL = 'https://lifeline.example.com/base';
const T0 = new Date(START).getTime();
const at = (sec: number) => new Date(T0 + sec * 1000);

describe('scheduled jobs', () => {
  let h: Harness;
  let evaluator: Evaluator;
  let leadership: Leadership;

  before(async () => {
    h = await createHarness({ limits: { pingsPerMinute: 30 }, publicUrl: PUBLIC_URL });
    leadership = new Leadership(() => createSql(h.db.url, { dedicated: true, applicationName: 'lifeline-test-evaluator' }), testLog);
    evaluator = new Evaluator({ leadership, clock: h.clock, log: testLog, intervalMs: 1000, coverageGapMs: 60_000 });
    await h.flush();
  });
  after(async () => {
    await leadership.release().catch(() => {});
    await leadership.close();
    await h.close();
  });

  /** Time moves to `t`; ingest flushes (the watermark reaches t) and the evaluator passes. */
  const tickAt = async (t: Date) => {
    h.clock.set(t);
    await h.flush();
    await evaluator.runOnce();
  };
  const ping = (key: string, suffix = '', o: { method?: string; body?: string | Uint8Array<ArrayBuffer> } = {}) =>
    h.req(o.method ?? (o.body !== undefined ? 'POST' : 'GET'), `/ping/${key}${suffix}`, o.body !== undefined ? { body: o.body } : {});
  const okPing = async (key: string, suffix = '', o: { method?: string; body?: string | Uint8Array<ArrayBuffer> } = {}) => {
    const res = await ping(key, suffix, o);
    assert.equal(res.status, 200, await res.clone().text());
    if ((o.method ?? 'GET') !== 'HEAD') assert.equal(await res.text(), 'OK');
  };
  const runs = async (id: string) => (await expectJson<{ items: Run[] }>(await h.admin('GET', `/v1/nodes/${id}/runs`), 200)).items;
  const health = async (id: string) => (await expectJson<Node>(await h.admin('GET', `/v1/nodes/${id}`), 200)).health;

  it('refuses a schedule with an interval, an expression cron cannot read, a date that never comes or an unknown zone', async () => {
    const create = (body: unknown) => h.rejected(() => h.admin('POST', '/v1/nodes', body));
    await expectInvalid(await create({ name: 'j', heartbeat_interval_seconds: 30, schedule: { cron: '0 3 * * *' } }), ['heartbeat_interval_seconds']);
    await expectInvalid(await create({ name: 'j', schedule: { cron: 'every day' } }), ['schedule.cron']);
    await expectInvalid(await create({ name: 'j', schedule: { cron: '0 0 30 2 *' } }), ['schedule.cron']);
    await expectInvalid(await create({ name: 'j', schedule: { cron: '0 3 * * *', time_zone: 'Mars/Olympus' } }), ['schedule.time_zone']);
    await expectInvalid(await create({ name: 'j', schedule: { cron: '0 3 * * *', max_run_seconds: 0 } }), ['schedule.max_run_seconds']);
    await expectInvalid(await create({ name: 'j', schedule: { cron: '0 3 * * *\u0000' } }), ['schedule.cron']);
  });

  it('a six-field schedule with a short grace is down exactly at the scheduled time plus grace', async () => {
    h.clock.set(START);
    const job = await h.createNode('every-ten-seconds', { schedule: { cron: '*/10 * * * * *', time_zone: 'UTC', grace_seconds: 2 } });
    assert.deepEqual(job.schedule, { cron: '*/10 * * * * *', time_zone: 'UTC', grace_seconds: 2, max_run_seconds: null });
    assert.equal(job.ping_url, `${PUBLIC_URL}/ping/${job.ping_key}`);
    h.clock.set(at(1));
    await okPing(job.ping_key);
    await tickAt(at(1));
    assert.equal((await health(job.id)).state, 'healthy');
    // The success at :01 counts for nothing before :10; the run at :10 is due by :12.
    await tickAt(new Date(T0 + 11_999));
    assert.equal((await health(job.id)).state, 'healthy');
    await tickAt(at(12));
    const down = await health(job.id);
    assert.equal(down.state, 'down');
    assert.equal(down.since, at(12).toISOString(), 'stamped at the deadline');
    assert.match(down.reason ?? '', /no success ping for the run due at 2026-11-21 10:00:10 UTC \(grace 2s\)/);
    // A success recovers it at the ping; the next run is due from there.
    h.clock.set(at(13.5));
    await okPing(job.ping_key, '/0');
    await tickAt(at(13.5));
    assert.equal((await health(job.id)).state, 'healthy');
    await tickAt(at(21.999));
    assert.equal((await health(job.id)).state, 'healthy');
    await tickAt(at(40));
    const log = await transitionsOf(h.db, job.id);
    assert.deepEqual(log.map((t) => `${t.from_state}->${t.to_state}@${(t.at.getTime() - T0) / 1000}`), [
      'unknown->healthy@1',
      'healthy->down@12',
      'down->healthy@13.5',
      'healthy->down@22',
    ]);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('measures a run from its start to its end, with exit code and output', async () => {
    await tickAt(at(100));
    const job = await h.createNode('backup', { schedule: { cron: '0 * * * *', grace_seconds: 60 } });
    await okPing(job.ping_key, '/start');
    h.clock.set(new Date(T0 + 103_456));
    await okPing(job.ping_key, '/0', { body: 'copied 12 files\n' });
    // HEAD and POST are pings too.
    await okPing(job.ping_key, '', { method: 'HEAD' });
    await okPing(job.ping_key, '/log', { body: 'rotated the logs' });
    await okPing(job.ping_key, '/fail', { method: 'POST', body: '' });
    await tickAt(new Date(T0 + 103_456));
    const [fail, log, run, ...rest] = await runs(job.id);
    assert.deepEqual(rest, [], 'a plain success without a start is no run');
    assert.deepEqual(run, {
      started_at: at(100).toISOString(),
      finished_at: new Date(T0 + 103_456).toISOString(),
      duration_ms: 3456,
      exit_code: 0,
      status: 'success',
      output: 'copied 12 files\n',
      rid: null,
    });
    assert.deepEqual([log?.status, log?.output], ['log', 'rotated the logs']);
    assert.deepEqual([fail?.status, fail?.started_at, fail?.output], ['failure', null, null]);
    const state = await health(job.id);
    assert.equal(state.state, 'down', 'a failure ping makes the job down at once');
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('pairs overlapping runs by their ?rid=, across flushes, and refuses a rid that is no UUID', async () => {
    await tickAt(at(120));
    const job = await h.createNode('overlap', { schedule: { cron: '0 * * * *', grace_seconds: 60 } });
    const [a, b] = ['6f1e0c6a-2b8e-4c1d-9a4f-3e5b7c9d1a2b', 'C2D4E6F8-1A3B-4C5D-8E7F-9A0B1C2D3E4F'];
    await okPing(job.ping_key, `/start?rid=${a}`);
    await tickAt(at(121));
    await okPing(job.ping_key, `/start?rid=${b}`);
    await tickAt(at(125));
    await okPing(job.ping_key, `/0?rid=${a}`);
    await tickAt(at(127));
    await okPing(job.ping_key, `/2?rid=${b.toLowerCase()}`, { body: 'disk full\n' });
    await tickAt(at(127));
    const shown = (await runs(job.id)).map((r) => [r.rid, r.started_at, r.duration_ms, r.status, r.exit_code, r.output]);
    assert.deepEqual(shown, [
      [b.toLowerCase(), at(121).toISOString(), 6000, 'failure', 2, 'disk full\n'],
      [a, at(120).toISOString(), 5000, 'success', 0, null],
    ]);
    for (const rid of ['', 'not-a-uuid', `${a}x`]) {
      await expectInvalid(await h.rejected(() => ping(job.ping_key, `/start?rid=${encodeURIComponent(rid)}`)), ['rid']);
    }
    await h.flush();
    assert.equal((await runs(job.id)).length, 2, 'the refused pings recorded nothing');
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('a start retried with its run id is the same run, from its first start, in one flush or across two', async () => {
    await tickAt(at(140));
    const job = await h.createNode('retried-start', { schedule: { cron: '0 * * * *', grace_seconds: 60 } });
    const [a, b] = ['0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a', '1e2d3c4b-5a69-4788-9766-5544332211ff'];
    // `lifeline run` timed out on its start and sent it again: both arrived, in one flush...
    await okPing(job.ping_key, `/start?rid=${a}`);
    h.clock.set(at(141));
    await okPing(job.ping_key, `/start?rid=${a}`);
    await tickAt(at(141));
    // ...or in two, the first already stored.
    await okPing(job.ping_key, `/start?rid=${b}`);
    await tickAt(at(142));
    await okPing(job.ping_key, `/start?rid=${b}`);
    await tickAt(at(143));
    await okPing(job.ping_key, `/0?rid=${a}`);
    await okPing(job.ping_key, `/0?rid=${b}`);
    await tickAt(at(146));
    const shown = (await runs(job.id)).map((r) => [r.rid, r.started_at, r.duration_ms, r.status]);
    assert.deepEqual(shown, [
      [b, at(141).toISOString(), 2000, 'success'],
      [a, at(140).toISOString(), 3000, 'success'],
    ]);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it("a failed run's reason is its exit code and its output's last line, or a reported failure", async () => {
    await tickAt(at(150));
    const job = await h.createNode('nightly-copy', { schedule: { cron: '0 3 * * *', grace_seconds: 300 } });
    await okPing(job.ping_key, '/start');
    h.clock.set(at(151));
    await okPing(job.ping_key, '/3', { body: 'copying\ndisk full\n\n' });
    await tickAt(at(151));
    const down = await health(job.id);
    assert.deepEqual([down.state, down.reason], ['down', 'exited with status 3: disk full']);
    h.clock.set(at(152));
    await okPing(job.ping_key);
    await tickAt(at(152));
    h.clock.set(at(153));
    await okPing(job.ping_key, '/fail');
    await tickAt(at(153));
    const reasons = (await transitionsOf(h.db, job.id)).map((t) => `${t.to_state}: ${t.reason}`);
    assert.deepEqual(reasons.slice(-3), ['down: exited with status 3: disk full', 'healthy: 1 consecutive success ping', 'down: reported failure']);
    // A start or a log is no report: the last report stays the failure.
    h.clock.set(at(154));
    await okPing(job.ping_key, '/start');
    await okPing(job.ping_key, '/log', { body: 'retrying' });
    await tickAt(at(154));
    assert.equal((await health(job.id)).last_heartbeat_at, at(153).toISOString());
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it("a bare failure after a start with a body is no output of the start's, in one flush or two", async () => {
    await tickAt(at(175));
    const job = await h.createNode('export', { schedule: { cron: '0 3 * * *', grace_seconds: 300 } });
    await okPing(job.ping_key, '/start', { body: 'exporting 3 tables\n' });
    h.clock.set(at(176));
    await okPing(job.ping_key, '/fail');
    await tickAt(at(176));
    const [failed] = await runs(job.id);
    assert.deepEqual([failed?.status, failed?.started_at, failed?.output], ['failure', at(175).toISOString(), null]);
    assert.equal((await health(job.id)).reason, 'reported failure', "not the start's words");
    // Across flushes: the start's body is the run's output while it runs, and the end's replaces it.
    h.clock.set(at(177));
    await okPing(job.ping_key, '/start', { body: 'exporting again\n' });
    await tickAt(at(177));
    const running = (await runs(job.id))[0];
    assert.deepEqual([running?.status, running?.output], ['running', 'exporting again\n']);
    h.clock.set(at(178));
    await okPing(job.ping_key, '/2');
    await tickAt(at(178));
    const ended = (await runs(job.id))[0];
    assert.deepEqual([ended?.status, ended?.exit_code, ended?.output], ['failure', 2, null]);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it("an agent's failing report after a failed run is not that run's", async () => {
    await tickAt(at(170));
    const job = await h.createNode('archive', { schedule: { cron: '0 3 * * *', grace_seconds: 300 } });
    const ingest = await h.createKey('ingest', 'archive-agent');
    h.clock.set(at(171));
    await okPing(job.ping_key, '/3', { body: 'disk full\n' });
    await tickAt(at(171));
    h.clock.set(at(172));
    await okPing(job.ping_key);
    await tickAt(at(172));
    h.clock.set(at(173));
    const res = await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { heartbeats: [{ node: 'archive', status: 'failing' }] } });
    assert.equal(res.status, 202, await res.text());
    await tickAt(at(173));
    const reasons = (await transitionsOf(h.db, job.id)).map((t) => `${t.to_state}: ${t.reason}`);
    assert.deepEqual(reasons.slice(-2), ['healthy: 1 consecutive success ping', 'down: reported failure']);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it("a public status page shows a failed run's exit code, never its output", async () => {
    await tickAt(at(160));
    const job = await h.createNode('token-sync', { schedule: { cron: '0 3 * * *', grace_seconds: 300 } });
    await expectJson(await h.admin('POST', '/v1/status-pages', { slug: 'jobs', title: 'Jobs', show_nodes: true, components: [{ name: 'Sync', node_ids: [job.id] }] }), 201);
    h.clock.set(at(161));
    await okPing(job.ping_key, '/3', { body: 'token=sk_live_abc123 rejected\n' });
    await tickAt(at(161));
    assert.equal((await health(job.id)).reason, 'exited with status 3: token=sk_live_abc123 rejected');
    const json = await (await h.req('GET', '/status/jobs.json')).text();
    const html = await (await h.req('GET', '/status/jobs')).text();
    for (const text of [json, html]) {
      assert.ok(text.includes('exited with status 3'), 'the page says how the run failed');
      assert.ok(!text.includes('sk_live_abc123'), "the page shows the job's output");
    }
    await h.admin('DELETE', '/v1/status-pages/jobs');
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('a run with no end within max_run_seconds makes the job down at start + max', async () => {
    await tickAt(at(200));
    const job = await h.createNode('report', { schedule: { cron: '0 0 * * *', grace_seconds: 60, max_run_seconds: 5 } });
    await okPing(job.ping_key);
    await tickAt(at(201));
    assert.equal((await health(job.id)).state, 'healthy');
    h.clock.set(at(210));
    await okPing(job.ping_key, '/start');
    await tickAt(at(210));
    await tickAt(new Date(T0 + 214_999));
    assert.equal((await health(job.id)).state, 'healthy', 'still within its limit');
    await tickAt(at(215));
    const down = await health(job.id);
    assert.deepEqual([down.state, down.since, down.reason], ['down', at(215).toISOString(), 'ran longer than 5s']);
    // The run ends late: it is recorded with its whole duration and the job recovers.
    h.clock.set(at(230));
    await okPing(job.ping_key);
    await tickAt(at(230));
    assert.equal((await health(job.id)).state, 'healthy');
    const [run] = await runs(job.id);
    assert.deepEqual([run?.status, run?.duration_ms], ['success', 20_000]);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('takes a body past 100 KB or holding NUL, keeping its last 10 KB and saying it was cut; refuses bad exit codes', async () => {
    await tickAt(at(300));
    const job = await h.createNode('output', { schedule: { cron: '0 0 * * *' } });
    // 200 KB of digits (Healthchecks takes it), ending in a multi-byte character cut by the 10 KB
    // boundary on its left.
    const size = 200 * 1024;
    const body = new Uint8Array(size).map((_, i) => 48 + (i % 10));
    const tail = Buffer.from('€ done');
    body.set(tail, size - tail.length);
    body.set(Buffer.from('€'), size - KEPT_OUTPUT_BYTES - 1);
    await okPing(job.ping_key, '/1', { body });
    await h.flush();
    const [run] = await runs(job.id);
    assert.equal(run?.exit_code, 1);
    assert.equal(run?.status, 'failure');
    const kept = Buffer.from(run?.output ?? '');
    assert.ok(kept.length <= KEPT_OUTPUT_BYTES && kept.length >= KEPT_OUTPUT_BYTES - 128, `kept ${kept.length} bytes`);
    assert.ok(run?.output?.endsWith('€ done'));
    const rest = run!.output!.slice(run!.output!.indexOf('\n') + 1);
    assert.equal(run!.output!.slice(0, -rest.length - 1), `[… ${(size - Buffer.byteLength(rest)).toLocaleString('en-US')} bytes cut]`);
    assert.ok(!rest.startsWith('\uFFFD'), 'cut at a character boundary');

    // A binary byte in a job's output costs it neither its ping nor the rest of the output.
    await okPing(job.ping_key, '/0', { body: 'dump\u0000ed' });
    await h.flush();
    assert.deepEqual((await runs(job.id)).map((r) => [r.status, r.output]).slice(0, 1), [['success', 'dump\uFFFDed']]);

    for (const code of ['/256', '/1234567', `/${'9'.repeat(400)}`]) await expectInvalid(await h.rejected(() => ping(job.ping_key, code)), ['exit_code']);
    for (const suffix of ['/-1', '/1.5', '/abc', '/12a', '/1e3', '/start/now']) {
      const res = await h.rejected(() => ping(job.ping_key, suffix));
      assert.deepEqual([res.status, await res.text()], [404, 'not found'], suffix);
    }
    await h.flush();
    assert.equal((await runs(job.id)).length, 2, 'the refused pings recorded nothing');
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('answers an unknown or rotated key 404, remembers an unknown one, and limits each key', async () => {
    const job = await h.createNode('keys', { schedule: { cron: '0 0 * * *' } });
    const unknown = 'x'.repeat(43);
    const res = await h.rejected(() => ping(unknown));
    assert.deepEqual([res.status, await res.text()], [404, 'not found']);
    // An unknown key's body is not read: a stream of 1 KB chunks up to 8 MiB is barely pulled.
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulls += 1;
        if (pulls * 1024 > PING_BODY_READ_BYTES) c.close();
        else c.enqueue(new Uint8Array(1024).fill(65));
      },
    });
    const unread = await h.rejected(() => h.req('POST', `/ping/${'y'.repeat(43)}/1`, { body }));
    assert.deepEqual([unread.status, await unread.text()], [404, 'not found']);
    assert.ok(pulls <= 2, `${pulls} chunks of the body were read`);
    // The answer is kept: a node given that key now is still unknown to this process for a minute.
    await h.sql`update nodes set ping_key = ${unknown} where id = ${job.id}`;
    assert.equal((await h.rejected(() => ping(unknown))).status, 404, 'answered from the negative cache, without a query');
    await h.sql`update nodes set ping_key = ${job.ping_key} where id = ${job.id}`;

    const rotated = await expectJson<Node & { ping_key: string }>(await h.admin('POST', `/v1/nodes/${job.id}/ping-key`), 200);
    assert.notEqual(rotated.ping_key, job.ping_key);
    assert.equal((await h.rejected(() => ping(job.ping_key))).status, 404, 'the old key stops working at once');
    await okPing(rotated.ping_key);

    // 30 a minute per key (this harness's limit): the 31st is refused, another key is not.
    for (let i = 1; i < 30; i++) await okPing(rotated.ping_key, '/log');
    const limited = await ping(rotated.ping_key);
    await expectError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    const other = await h.createNode('other-keys', { schedule: { cron: '0 0 * * *' } });
    await okPing(other.ping_key);
  });

  it('never counts a malformed key or a path that names no ping: past the limit it is still a 404, and holds nothing', async () => {
    const job = await h.createNode('malformed-pings', { schedule: { cron: '0 0 * * *' } });
    // 31 of each against this harness's 30 a minute: counted, the last would be a 429.
    for (const [key, suffix] of [[`${'k'.repeat(15_000)}1`, ''], ['short', ''], ['x'.repeat(43) + '!', ''], [job.ping_key, '/nope'], [job.ping_key, '/start/now']]) {
      for (let i = 0; i <= 30; i++) {
        const res = await h.rejected(() => ping(key!, suffix));
        assert.deepEqual([res.status, await res.text()], [404, 'not found'], `${key!.slice(0, 20)}${suffix} #${i + 1}`);
      }
    }
    // The well-formed key's budget is whole: the paths naming no ping spent none of it.
    for (let i = 0; i < 30; i++) await okPing(job.ping_key, '/log');
    await expectError(await ping(job.ping_key), 429, 'rate_limited');
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it("takes a Healthchecks check's UUID as its ping key, so a crontab moves by its host alone; refuses a short, guessable or taken one", async () => {
    const uuid = '5d0a3a5e-6f3b-4d52-9c1e-2b7f0e9a4c11';
    // A crontab switched over before its job was made: the miss is remembered, and the make forgets it.
    assert.equal((await h.rejected(() => ping(uuid))).status, 404);
    const job = await h.createNode('moved-from-healthchecks', { schedule: { cron: '0 5 * * *' }, ping_key: uuid });
    assert.deepEqual([job.ping_key, job.ping_url], [uuid, `${PUBLIC_URL}/ping/${uuid}`]);
    await okPing(uuid, '/start');
    await okPing(uuid, '/0');
    // 22 URL-safe characters (132 bits when random), as a key of the engine's own form is longer.
    await h.createNode('chosen-22', { schedule: { cron: '0 5 * * *' }, ping_key: 'Zq3-x_9KpL2mVb7RtY0wHc' });
    const create = (name: string, ping_key: unknown) => h.rejected(() => h.admin('POST', '/v1/nodes', { name, schedule: { cron: '0 5 * * *' }, ping_key }));
    for (const bad of ['abc123', 'Zq3-x_9KpL2mVb7RtY0wH', 'a'.repeat(40), '00000000-0000-0000-0000-000000000000', 'ababababababababababababab', `${uuid}/x`, `${uuid} `, 'k'.repeat(65), 42]) {
      await expectInvalid(await create('refused-key', bad), ['ping_key']);
    }
    const taken = await expectError(await create('same-key', uuid), 409, 'conflict');
    assert.match(taken.message, /ping key/);
    assert.doesNotMatch(taken.message, new RegExp(uuid), 'the key is a credential: not echoed');
  });

  it('takes every ping path with a trailing slash, as Healthchecks does', async () => {
    const job = await h.createNode('trailing-slash', { schedule: { cron: '0 6 * * *' } });
    await okPing(job.ping_key, '/start/');
    await okPing(job.ping_key, '/3/', { body: 'exit three' });
    await okPing(job.ping_key, '/fail/', { method: 'HEAD' });
    await okPing(job.ping_key, '/log/', { body: 'a message' });
    await okPing(job.ping_key, '/');
    await tickAt(h.clock.now());
    const [log, fail, three] = await runs(job.id);
    assert.deepEqual([log?.status, fail?.status, three?.exit_code, three?.output], ['log', 'failure', 3, 'exit three']);
    assert.equal((await health(job.id)).state, 'healthy', 'the last ping, /ping/{key}/, was a success');
    for (const path of ['//', '/nope/', '/start//', '/0/x/']) {
      const res = await h.rejected(() => ping(job.ping_key, path));
      assert.deepEqual([res.status, await res.text()], [404, 'not found'], path);
    }
  });

  it('shows ping keys and URLs to write and admin keys only: a ping changes the node', async () => {
    const job = await h.createNode('read-cannot-ping', { schedule: { cron: '0 4 * * *' } });
    const read = await h.createKey('read', 'looks-only');
    const write = await h.createKey('write', 'may-ping');
    const one = (token: string) => h.req('GET', `/v1/nodes/${job.id}`, { token });
    const listed = async (token: string) =>
      ((await expectJson<{ items: Node[] }>(await h.req('GET', '/v1/nodes', { token }), 200)).items).find((n) => n.id === job.id)!;
    for (const seen of [await expectJson<Node>(await one(read.secret), 200), await listed(read.secret)]) {
      assert.equal(seen.name, 'read-cannot-ping');
      assert.ok(!('ping_key' in seen) && !('ping_url' in seen), JSON.stringify(seen));
    }
    for (const token of [write.secret, ADMIN_TOKEN]) {
      for (const seen of [await expectJson<Node>(await one(token), 200), await listed(token)]) {
        assert.deepEqual([seen.ping_key, seen.ping_url], [job.ping_key, `${PUBLIC_URL}/ping/${job.ping_key}`]);
      }
    }
  });

  it('a job keeps its schedule unless told to drop it: an interval alone is refused', async () => {
    const job = await h.createNode('patched', { schedule: { cron: '0 0 * * *' } });
    await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/nodes/${job.id}`, { heartbeat_interval_seconds: 60 })), ['heartbeat_interval_seconds']);
    const back = await expectJson<Node>(await h.admin('PATCH', `/v1/nodes/${job.id}`, { schedule: null, heartbeat_interval_seconds: 60 }), 200);
    assert.deepEqual([back.schedule, back.heartbeat_interval_seconds], [null, 60]);
    // Scheduled again without a grace: the default, as a new job's, not a grace of 0 that pages at every run.
    const again = await expectJson<Node>(await h.admin('PATCH', `/v1/nodes/${job.id}`, { schedule: { cron: '30 */10 * * * *', time_zone: 'Europe/Berlin' } }), 200);
    assert.deepEqual(again.schedule, { cron: '30 */10 * * * *', time_zone: 'Europe/Berlin', grace_seconds: 300, max_run_seconds: null });
  });

  it('an edit waiting behind a flush holds nothing the flush still needs', async () => {
    const job = await h.createNode('rename-me', { schedule: { cron: '0 0 * * *' } });
    // What a flush holds once it has written heartbeats: the woken node's node_due row.
    const flush = await holdOpen(h.db, (tx) => tx`update node_due set wake = wake + 1 where node_id = ${job.id}`);
    const renamed = h.admin('PATCH', `/v1/nodes/${job.id}`, { name: 'renamed' });
    await until('the rename to wait on a lock', async () => {
      const [row] = await h.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and application_name = 'lifeline-test' and wait_event_type = 'Lock'`;
      return row!.n === 1;
    });
    // What the flush does next: a ping's run, whose foreign key share-locks the node. A rename
    // holding the node FOR UPDATE here (its name is a unique key) was a deadlock with the flush;
    // the lock timeout only turns such a wait into a failure instead of a hung test.
    await h.sql.begin(async (tx) => {
      await tx`set local lock_timeout = '10s'`;
      await tx`insert into node_runs (node_id, status) values (${job.id}, 'log')`;
    });
    await flush.release();
    assert.equal((await expectJson<Node>(await renamed, 200)).name, 'renamed');
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('a PATCH of some schedule fields keeps the others as stored', async () => {
    const job = await h.createNode('partly-patched', { schedule: { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 120, max_run_seconds: 600 } });
    const patch = async (schedule: unknown) => (await expectJson<Node>(await h.admin('PATCH', `/v1/nodes/${job.id}`, { schedule }), 200)).schedule;
    assert.deepEqual(await patch({ cron: '0 4 * * *' }), { cron: '0 4 * * *', time_zone: 'Europe/Berlin', grace_seconds: 120, max_run_seconds: 600 });
    assert.deepEqual(await patch({ time_zone: 'America/New_York' }), { cron: '0 4 * * *', time_zone: 'America/New_York', grace_seconds: 120, max_run_seconds: 600 });
    assert.deepEqual(await patch({ max_run_seconds: null }), { cron: '0 4 * * *', time_zone: 'America/New_York', grace_seconds: 120, max_run_seconds: null });
    const stored = await expectJson<Node>(await h.admin('GET', `/v1/nodes/${job.id}`), 200);
    assert.deepEqual(stored.schedule, { cron: '0 4 * * *', time_zone: 'America/New_York', grace_seconds: 120, max_run_seconds: null });
    // Two PATCHes of different fields at once each keep the other's: both wait on the row (held
    // here) and the second merges over the first's result, not over what both found.
    const blocker = await holdOpen(h.db, (tx) => tx`select 1 from nodes where id = ${job.id} for update`);
    const both = Promise.all([patch({ time_zone: 'Asia/Tokyo' }), patch({ grace_seconds: 60 })]);
    await until('both PATCHes to wait on the node', async () => {
      const [row] = await h.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and application_name = 'lifeline-test' and wait_event_type = 'Lock'`;
      return row!.n === 2;
    });
    await blocker.release();
    await both;
    const merged = await expectJson<Node>(await h.admin('GET', `/v1/nodes/${job.id}`), 200);
    assert.deepEqual(merged.schedule, { cron: '0 4 * * *', time_zone: 'Asia/Tokyo', grace_seconds: 60, max_run_seconds: null });
    // A heartbeat node becoming a job has no stored schedule to keep: it needs an expression.
    const beat = await h.createNode('becomes-a-job');
    await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/nodes/${beat.id}`, { schedule: { time_zone: 'Europe/Berlin' } })), ['schedule.cron']);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
    await h.admin('DELETE', `/v1/nodes/${beat.id}`);
  });

  it("gives a job whose expression was edited a new job's margin, not a run due before the edit", async () => {
    // Five minutes on from a :x5:30 or :x0:30: the job pings, then its daily expression becomes */5.
    const t = Math.ceil(h.clock.now().getTime() / 300_000) * 300_000 + 330_000;
    await tickAt(new Date(t - 40_000));
    h.clock.set(new Date(t));
    const job = await h.createNode('edited-job', { schedule: { cron: '0 3 * * *', grace_seconds: 0 } });
    await okPing(job.ping_key);
    // Steps under the 60 s coverage gap, so the time since the ping stays watched (and the ping is
    // flushed at once: 90 s after the last flush it would be a ping heard in a gap, not judged).
    for (const s of [0, 50, 100, 150, 200, 250, 280]) await tickAt(new Date(t + s * 1000));
    assert.equal((await health(job.id)).state, 'healthy');
    await expectJson<Node>(await h.admin('PATCH', `/v1/nodes/${job.id}`, { schedule: { cron: '*/5 * * * *' } }), 200);
    // The run at t + 270 s is the first the new expression names after the ping; the edit came after it.
    await tickAt(new Date(t + 290_000));
    assert.equal((await health(job.id)).state, 'healthy', 'not down for a run due before the edit');
    // The run at t + 570 s comes 290 s after the edit, inside its five minutes' margin; t + 870 s is due.
    for (let s = 340; s < 870; s += 50) await tickAt(new Date(t + s * 1000));
    await tickAt(new Date(t + 869_000));
    assert.equal((await health(job.id)).state, 'healthy', 'the run inside the margin is not due');
    await tickAt(new Date(t + 870_000));
    const down = await health(job.id);
    assert.equal(down.state, 'down');
    assert.match(down.reason ?? '', new RegExp(`the run due at ${new Date(t + 870_000).toISOString().slice(0, 19).replace('T', ' ')} UTC`));
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it("says when a job's next success ping is due and its grace ends, as its console page does", async () => {
    const DAY = 86_400_000;
    // The next UTC midnight: 09:00 in Asia/Tokyo, three hours before the job's noon.
    const day = Math.ceil((h.clock.now().getTime() + 60_000) / DAY) * DAY;
    const iso = (ms: number) => new Date(ms).toISOString();
    await tickAt(new Date(day));
    const job = await h.createNode('tokyo-noon', { schedule: { cron: '0 12 * * *', time_zone: 'Asia/Tokyo' } });
    const beats = await h.createNode('beats-no-schedule', { heartbeat_interval_seconds: 60 });
    const due = async () => {
      const one = await health(job.id);
      const listed = (await expectJson<{ items: Node[] }>(await h.admin('GET', '/v1/nodes?limit=200'), 200)).items.find((n) => n.id === job.id)!;
      assert.deepEqual([listed.health.next_due_at, listed.health.grace_ends_at], [one.next_due_at, one.grace_ends_at], 'the list says the same');
      return [one.next_due_at, one.grace_ends_at];
    };
    assert.deepEqual(await due(), [iso(day + 3 * 3_600_000), iso(day + 3 * 3_600_000 + 300_000)]);
    const heartbeat = await health(beats.id);
    assert.deepEqual([heartbeat.next_due_at, heartbeat.grace_ends_at], [null, null]);
    // Its run at 12:00 in Tokyo pinged: the next is due a day on.
    h.clock.set(new Date(day + 3 * 3_600_000 + 60_000));
    await okPing(job.ping_key);
    await tickAt(h.clock.now());
    assert.deepEqual(await due(), [iso(day + DAY + 3 * 3_600_000), iso(day + DAY + 3 * 3_600_000 + 300_000)]);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
    await h.admin('DELETE', `/v1/nodes/${beats.id}`);
  });

  it("a daily job's one failure ping heard while flushes stalled is judged when they resume: down and paged, not unknown for a day", async () => {
    const DAY = 86_400_000;
    // The next 03:00 UTC at least a minute ahead: the job runs then, daily.
    const t = Math.ceil((h.clock.now().getTime() + 60_000 - 3 * 3_600_000) / DAY) * DAY + 3 * 3_600_000;
    const after = (sec: number) => new Date(t + sec * 1000);
    await tickAt(after(-30));
    const job = await h.createNode('nightly-backup', { schedule: { cron: '0 3 * * *' } });
    h.clock.set(after(10));
    await okPing(job.ping_key);
    await tickAt(after(10));
    await tickAt(after(40));
    assert.equal((await health(job.id)).state, 'healthy');
    // Flushes stall from 40 s to 130 s (a gap past the 60 s limit); a rerun's failure ping comes at 70 s.
    h.clock.set(after(70));
    await okPing(job.ping_key, '/fail');
    await tickAt(after(130));
    await tickAt(after(131));
    assert.equal((await runs(job.id))[0]?.status, 'failure');
    const down = await health(job.id);
    assert.deepEqual([down.state, down.since], ['down', after(130).toISOString()]);
    const log = await transitionsOf(h.db, job.id);
    // Down from when coverage resumed (a floor, as a window's end is), never sent back to unknown there.
    assert.deepEqual(log.map((x) => `${x.from_state}->${x.to_state}@${(x.at.getTime() - t) / 1000}`), ['unknown->healthy@10', 'healthy->unknown@40', 'unknown->down@130']);
    // The down change goes to the outbox, which opens the incident that pages.
    const downs = await h.db.sql<{ n: number }[]>`
      select count(*)::int as n from outbox where topic = 'node.state_changed' and key = ${job.id} and payload->>'to' = 'down'`;
    assert.equal(downs[0]?.n, 1);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('gives a job made without a grace 5 minutes of it: a minutely run of 15 s never pages, a missed run is down 5 minutes on', async () => {
    // A minute boundary 30 s ahead: the job is made, then runs at t, t + 60 s, … as cron starts them.
    const t = Math.ceil((h.clock.now().getTime() + 30_000) / 60_000) * 60_000;
    const after = (sec: number) => new Date(t + sec * 1000);
    await tickAt(after(-30));
    const job = await h.createNode('minutely-sync', { schedule: { cron: '* * * * *' } });
    assert.deepEqual(job.schedule, { cron: '* * * * *', time_zone: 'UTC', grace_seconds: 300, max_run_seconds: null });
    // Four runs as `lifeline run -- sleep 15` reports them: a start at the minute, the end 15 s on.
    // With no grace each was down at the next minute, while its run had just started.
    for (let sec = 0; sec < 240; sec += 5) {
      h.clock.set(after(sec));
      if (sec % 60 === 0) await okPing(job.ping_key, '/start');
      if (sec % 60 === 15) await okPing(job.ping_key, '/0');
      await tickAt(after(sec));
      assert.notEqual((await health(job.id)).state, 'down', `at t + ${sec} s`);
    }
    // Then the crontab stops: the run at t + 240 s is missed, and down 300 s after it.
    for (let sec = 270; sec < 540; sec += 30) await tickAt(after(sec));
    await tickAt(new Date(t + 539_999));
    assert.equal((await health(job.id)).state, 'healthy');
    await tickAt(after(540));
    const down = await health(job.id);
    assert.deepEqual([down.state, down.since], ['down', after(540).toISOString()]);
    // The last run's end ping, at t + 195 s: said as a time, then how long before the deadline.
    const ended = after(195).toISOString().replace('T', ' ').slice(0, 19);
    assert.match(down.reason ?? '', new RegExp(`\\(grace 300s\\); last run ended ${ended} UTC \\(5m45s before the deadline\\)$`));
    const log = await transitionsOf(h.db, job.id);
    assert.deepEqual(log.map((x) => `${x.from_state}->${x.to_state}@${(x.at.getTime() - t) / 1000}`), ['unknown->healthy@15', 'healthy->down@540']);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('an hourly job whose run succeeded stays healthy across an engine stop in which no run was due, not unknown to its next run', async () => {
    const HOUR = 3_600_000;
    // The next hour at least a minute ahead: the job runs then, hourly.
    const t = Math.ceil((h.clock.now().getTime() + 60_000) / HOUR) * HOUR;
    const after = (sec: number) => new Date(t + sec * 1000);
    await tickAt(after(-30));
    const job = await h.createNode('hourly-report', { schedule: { cron: '0 * * * *' } });
    h.clock.set(after(10));
    await okPing(job.ping_key);
    await tickAt(after(10));
    await tickAt(after(40));
    // Nothing flushes from 40 s to 2,400 s (a gap past the 60 s limit); the next run is due at 3,600 s.
    await tickAt(after(2400));
    await tickAt(after(2401));
    assert.deepEqual([(await health(job.id)).state, (await health(job.id)).since], ['healthy', after(10).toISOString()]);
    // Steps under the 60 s limit to its next run, whose success leaves nothing stamped back into the gap.
    for (let sec = 2450; sec < 3610; sec += 50) await tickAt(after(sec));
    h.clock.set(after(3610));
    await okPing(job.ping_key);
    await tickAt(after(3610));
    assert.equal((await health(job.id)).state, 'healthy');
    const log = await transitionsOf(h.db, job.id);
    assert.deepEqual(log.map((x) => `${x.from_state}->${x.to_state}@${(x.at.getTime() - t) / 1000}`), ['unknown->healthy@10']);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });
});
