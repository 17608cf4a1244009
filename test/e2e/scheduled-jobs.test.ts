import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { Node, Run, Transition } from '../../src/api/shapes.ts';
import { createSql } from '../../src/db/client.ts';
import { nextRunAfter } from '../../src/health/cron-deadline.ts';
import { request, type IncomingMessage } from 'node:http';
import { KEPT_OUTPUT_BYTES, PING_BODY_READ_BYTES } from '../../src/jobs/model.ts';
import { BASE_URL } from '../helpers/db.ts';
import { EngineProcess, engineEnv, ROOT } from '../helpers/engine-process.ts';
import { until } from '../helpers/wait.ts';

// Scheduled jobs against `npm start`'s engine on the real clock, with `lifeline run` as a crontab
// would call it.

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const dbName = `lifeline_e2e_jobs_${randomBytes(4).toString('hex')}`;
let engine: EngineProcess;
let base: string;

before(async () => {
  engine = EngineProcess.start(engineEnv(dbName, ADMIN, { LIFELINE_PUBLIC_URL: 'http://jobs.example' }));
  base = `http://127.0.0.1:${await engine.listeningPort()}`;
});

after(async () => {
  engine.kill('SIGTERM');
  await engine.exited;
  const admin = createSql(BASE_URL, { dedicated: true });
  await admin`drop database if exists ${admin(dbName)} with (force)`;
  await admin.end();
});

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

/** `lifeline run` as a user runs it, with its exit code, its output and how long it took as a whole. */
async function wrapper(pingUrl: string, command: string[]) {
  const started = Date.now();
  const child = spawn(process.execPath, ['bin/lifeline.mjs', 'run', '--ping-url', pingUrl, '--', ...command], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr, wallMs: Date.now() - started };
}

const createJob = (name: string, schedule: Record<string, unknown>) => api<Node & { token: string }>('POST', '/v1/nodes', { name, schedule });
const urlOf = (job: Node) => `${base}/ping/${job.ping_key}`;
const runsOf = async (job: Node) => (await api<{ items: Run[] }>('GET', `/v1/nodes/${job.id}/runs`)).items;
const transitionsOf = async (job: Node) => (await api<{ items: Transition[] }>('GET', `/v1/nodes/${job.id}/transitions`)).items;
/** The transition log once a transition to `to` is in it, newest first. */
const loggedTo = (job: Node, to: string, after = 0) =>
  until(`${job.name} → ${to}`, async () => {
    const items = await transitionsOf(job);
    return items.some((t) => t.to === to && t.state_version > after) ? items : undefined;
  });

describe('scheduled jobs against a running engine', () => {
  it('a six-field schedule with a 1 s grace goes down exactly at the scheduled time plus grace', async () => {
    const schedule = { cron: '*/3 * * * * *', time_zone: 'UTC', grace_seconds: 1 };
    const job = await createJob('every-3s', schedule);
    assert.equal(job.ping_url, `http://jobs.example/ping/${job.ping_key}`);
    const ping = await fetch(urlOf(job));
    assert.deepEqual([ping.status, await ping.text()], [200, 'OK']);
    // (On a slow machine the job may have been late for a run before the ping: wait for the
    // fall after the ping.)
    const down = await until('healthy → down', async () => (await transitionsOf(job)).find((t) => t.from === 'healthy' && t.to === 'down'));
    const node = await api<Node>('GET', `/v1/nodes/${job.id}`);
    const last = new Date(node.health.last_heartbeat_at!);
    const due = nextRunAfter(schedule, last);
    assert.equal(down.at, new Date(due.getTime() + 1000).toISOString(), 'stamped at the first run after the ping, plus grace');
    // How long it had been silent then, in whole seconds.
    const silent = Math.floor((due.getTime() + 1000 - last.getTime()) / 1000);
    const ended = last.toISOString().replace('T', ' ').slice(0, 19);
    assert.match(down.reason ?? '', new RegExp(`^no success ping for the run due at .* \\(grace 1s\\); last run ended ${ended} UTC \\(${silent}s before the deadline\\)$`));
  });

  it('lifeline run pings start and end: a run with its duration, exit code and output, and the command keeps its code', async () => {
    const job = await createJob('nightly', { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 300 });
    const out = await wrapper(urlOf(job), ['sh', '-c', 'sleep 0.5; echo copied; echo warned >&2; exit 3']);
    assert.equal(out.code, 3, 'the command\'s exit code');
    assert.equal(out.stdout, 'copied\n', 'its stdout passed through');
    assert.equal(out.stderr, 'warned\n', 'its stderr passed through, and no warning');
    const [run] = await until('the run', async () => {
      const runs = await runsOf(job);
      return runs[0]?.status === 'failure' ? runs : undefined;
    });
    assert.equal(run!.exit_code, 3);
    assert.equal(run!.output, 'copied\nwarned\n');
    // The pings bracket the command: at least its 500 ms, at most the wrapper's whole life.
    assert.ok(run!.duration_ms! >= 500 && run!.duration_ms! <= out.wallMs, `${run!.duration_ms} ms in ${out.wallMs} ms`);
    assert.equal(new Date(run!.finished_at!).getTime() - new Date(run!.started_at!).getTime(), run!.duration_ms);
    const log = await loggedTo(job, 'down');
    assert.equal(log[0]!.reason, 'exited with status 3: warned');

    const ok = await wrapper(urlOf(job), ['sh', '-c', 'exit 0']);
    assert.equal(ok.code, 0);
    assert.equal((await loggedTo(job, 'healthy', log[0]!.state_version))[0]!.to, 'healthy');
  });

  it('keeps the last 10 KB of a long output, with NUL replaced', async () => {
    const job = await createJob('verbose', { cron: '0 3 * * *' });
    // 20,000 lines of "line N" and one NUL at the very end.
    const out = await wrapper(urlOf(job), ['node', '-e', "for (let i = 0; i < 20000; i++) console.log('line ' + i); process.stdout.write('end\\u0000')"]);
    assert.equal(out.code, 0);
    const [run] = await until('the run', async () => {
      const runs = await runsOf(job);
      return runs[0]?.status === 'success' ? runs : undefined;
    });
    const kept = Buffer.byteLength(run!.output!);
    assert.ok(kept <= KEPT_OUTPUT_BYTES && kept > KEPT_OUTPUT_BYTES - 128, `the last 10 KB: ${kept} bytes`);
    assert.ok(run!.output!.endsWith('line 19999\nend\uFFFD'));
    assert.match(run!.output!, /^\[… [\d,]+ bytes cut\]\n/, 'saying what was cut');
  });

  it('takes a 200 KB body holding NUL, as curl --data-binary sends a log', async () => {
    const job = await createJob('big-log', { cron: '0 3 * * *' });
    const body = Buffer.concat([Buffer.alloc(200 * 1024, 'x'), Buffer.from('\u0000 exit 3')]);
    const res = await fetch(`${urlOf(job)}/3`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.deepEqual([res.status, await res.text()], [200, 'OK']);
    const [run] = await until('the run', async () => {
      const runs = await runsOf(job);
      return runs[0]?.status === 'failure' ? runs : undefined;
    });
    assert.equal(run!.exit_code, 3);
    const rest = 'x'.repeat(KEPT_OUTPUT_BYTES - 128 - 10) + '\uFFFD exit 3';
    assert.equal(run!.output, `[… ${(body.length + 2 - Buffer.byteLength(rest)).toLocaleString('en-US')} bytes cut]\n${rest}`);
  });

  it('takes a 2.6 MB log on /, /1 and /log: each ping recorded with its last 10 KB, the cut said', async () => {
    const job = await createJob('backup-log', { cron: '0 3 * * *' });
    let text = '';
    for (let i = 0; text.length < 2_600_000; i++) text += `backup line ${i}: copied table t${i}\n`;
    const log = Buffer.from(text);
    for (const suffix of ['', '/1', '/log']) {
      const res = await fetch(`${urlOf(job)}${suffix}`, { method: 'POST', body: log });
      assert.deepEqual([res.status, await res.text(), res.headers.get('ping-body-limit')], [200, 'OK', String(KEPT_OUTPUT_BYTES)], suffix);
    }
    const runs = await until('the three pings', async () => {
      const items = await runsOf(job);
      return items.length === 3 ? items : undefined;
    });
    assert.deepEqual(runs.map((r) => [r.status, r.exit_code]), [['log', null], ['failure', 1], ['success', null]]);
    for (const r of runs) {
      const rest = r.output!.slice(r.output!.indexOf('\n') + 1);
      assert.ok(Buffer.byteLength(r.output!) <= KEPT_OUTPUT_BYTES && rest.length > KEPT_OUTPUT_BYTES - 200, `${Buffer.byteLength(r.output!)} bytes`);
      assert.ok(text.endsWith(rest), 'the end of the log');
      assert.equal(r.output!.slice(0, -rest.length - 1), `[… ${(log.length - Buffer.byteLength(rest)).toLocaleString('en-US')} bytes cut]`);
    }
  });

  it('records a ping whose body goes past what is read, says so, and closes the connection after the answer', async () => {
    const job = await createJob('flood', { cron: '0 3 * * *' });
    const body = Buffer.alloc(PING_BODY_READ_BYTES + 4 * 1024 * 1024, 'y');
    // The answer arrives while the rest of the body is being sent, and the server then closes.
    const res = await new Promise<IncomingMessage>((resolve) => {
      const req = request(`${urlOf(job)}/1`, { method: 'POST', headers: { 'content-length': String(body.length) } }, resolve);
      req.on('error', () => {});
      req.end(body);
    });
    let answer = '';
    for await (const chunk of res) answer += chunk;
    assert.deepEqual([res.statusCode, answer, res.headers.connection], [200, 'OK', 'close']);
    const [run] = await until('the run', async () => {
      const items = await runsOf(job);
      return items[0]?.status === 'failure' ? items : undefined;
    });
    const rest = run!.output!.slice(run!.output!.indexOf('\n') + 1);
    assert.equal(rest, 'y'.repeat(rest.length));
    assert.equal(
      run!.output!.slice(0, -rest.length - 1),
      `[… ${(PING_BODY_READ_BYTES - rest.length).toLocaleString('en-US')} bytes cut, and the body after this was not read: a ping reads up to 8 MiB in 4,096 chunks]`,
    );
  });

  it('a run longer than max_run_seconds makes the job down at start + max', async () => {
    const job = await createJob('stuck', { cron: '0 3 * * *', grace_seconds: 60, max_run_seconds: 1 });
    await fetch(urlOf(job)); // a success first: healthy
    await loggedTo(job, 'healthy');
    const running = wrapper(urlOf(job), ['sh', '-c', 'sleep 3']);
    const log = await loggedTo(job, 'down');
    const [run] = await runsOf(job);
    assert.equal(run!.status, 'running');
    assert.equal(log[0]!.reason, 'ran longer than 1s');
    assert.equal(log[0]!.at, new Date(new Date(run!.started_at!).getTime() + 1000).toISOString());
    assert.equal((await running).code, 0);
    assert.equal((await loggedTo(job, 'healthy', log[0]!.state_version))[0]!.reason, '1 consecutive success ping');
  });

  it('an unreachable Lifeline never changes the exit code: it warns on stderr', async () => {
    const out = await wrapper('http://127.0.0.1:9/ping/nowhere-at-all-key', ['sh', '-c', 'echo still ran; exit 7']);
    assert.equal(out.code, 7);
    assert.equal(out.stdout, 'still ran\n');
    assert.match(out.stderr, /could not ping \/ping\/…\/start .*the command's own exit code stands/);
    assert.match(out.stderr, /could not ping \/ping\/…\/7 /);
    const missing = await wrapper(`${base}/ping/${'k'.repeat(43)}`, ['sh', '-c', 'exit 0']);
    assert.equal(missing.code, 0, 'an unknown key (404) neither');
    assert.match(missing.stderr, /HTTP 404/);
    const notFound = await wrapper(`${base}/ping/${'k'.repeat(43)}`, ['no-such-command-here']);
    assert.equal(notFound.code, 127, 'a command that cannot be found is 127, as in a shell');
  });
});
