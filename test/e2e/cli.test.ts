import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSql } from '../../src/db/client.ts';
import { BASE_URL, urlFor } from '../helpers/db.ts';
import { EngineProcess, engineEnv, ROOT } from '../helpers/engine-process.ts';
import { until } from '../helpers/wait.ts';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const dbName = `lifeline_e2e_cli_${randomBytes(4).toString('hex')}`;
const migrateDb = `lifeline_e2e_cli_migrate_${randomBytes(4).toString('hex')}`;

let engine: EngineProcess;
let base: string;
const tempDirs: string[] = [];

/** A directory of its own under the system's temporary one, removed once the tests end (it holds tokens). */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

before(async () => {
  engine = EngineProcess.start(engineEnv(dbName, ADMIN));
  base = `http://127.0.0.1:${await engine.listeningPort()}`;
});

after(async () => {
  engine.kill('SIGTERM');
  await engine.exited;
  const admin = createSql(BASE_URL, { dedicated: true });
  for (const name of [dbName, migrateDb]) await admin`drop database if exists ${admin(name)} with (force)`;
  await admin.end();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * `node bin/lifeline.mjs …` as a user runs it, against the engine with the admin token unless told
 * otherwise; its stdin is `input`, ended at once (empty unless given).
 */
function spawnCli(args: string[], env: Record<string, string> = {}, input = '') {
  const child = spawn(process.execPath, ['bin/lifeline.mjs', ...args], {
    cwd: ROOT,
    env: { ...process.env, LIFELINE_URL: base, LIFELINE_TOKEN: ADMIN, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(input);
  return child;
}

async function cli(args: string[], env: Record<string, string> = {}, input?: string) {
  const child = spawnCli(args, env, input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
}

async function api<T = any>(method: string, path: string, body?: unknown, token = ADMIN): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status}`);
  return (await res.json()) as T;
}

describe('the lifeline CLI against a running engine', () => {
  it('keys create prints the secret exactly once, and the key works', async () => {
    const created = await cli(['keys', 'create', '--name', 'ci', '--scope', 'write']);
    assert.equal(created.code, 0, created.stderr);
    const secrets = created.stdout.match(/llk_[A-Za-z0-9_-]+/g) ?? [];
    assert.equal(secrets.length, 1, created.stdout);
    assert.match(created.stdout, /shown only this once/);

    const listed = await cli(['keys', 'list'], { LIFELINE_TOKEN: ADMIN });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+NAME\s+SCOPE/);
    assert.match(listed.stdout, /\bci\s+write\b/);
    assert.doesNotMatch(listed.stdout, /llk_/);

    assert.equal((await cli(['nodes', 'list'], { LIFELINE_TOKEN: secrets[0]! })).code, 0, 'the new key reads nodes');
  });

  it('nodes add prints the token; nodes list shows the node, filters, pages, and --json is the API answer', async () => {
    const added = await cli(['nodes', 'add', 'web-1', '--interval', '15', '--failures', '4', '--label', 'role=web']);
    assert.equal(added.code, 0, added.stderr);
    const token = added.stdout.match(/lln_[A-Za-z0-9_-]+/g) ?? [];
    assert.equal(token.length, 1, added.stdout);
    assert.equal((await cli(['nodes', 'add', 'db-1', '--label', 'role=db'])).code, 0);

    const node = await api('GET', '/v1/nodes/web-1');
    assert.equal(node.heartbeat_interval_seconds, 15);
    assert.equal(node.failures_for_down, 4);
    assert.deepEqual(node.labels, { role: 'web' });

    const table = await cli(['nodes', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+STATE\s+SINCE\s+LAST REPORT/);
    assert.match(table.stdout, /^web-1\s+unknown\s.*role=web/m);
    assert.match(table.stdout, /^db-1\s+unknown\s/m);

    const filtered = await cli(['nodes', 'list', '--label', 'role:web']);
    assert.match(filtered.stdout, /^web-1\s/m);
    assert.doesNotMatch(filtered.stdout, /^db-1\s/m);

    // missed_heartbeats is computed at each request; everything else must be exactly the API's.
    const stable = (page: { items: Array<{ health: Record<string, unknown> }> }) => ({
      ...page,
      items: page.items.map((n) => ({ ...n, health: { ...n.health, missed_heartbeats: undefined } })),
    });
    const json = await cli(['nodes', 'list', '--json']);
    assert.deepEqual(stable(JSON.parse(json.stdout)), stable(await api('GET', '/v1/nodes')));

    const first = JSON.parse((await cli(['nodes', 'list', '--limit', '1', '--json'])).stdout);
    assert.equal(first.items.length, 1);
    assert.equal(typeof first.next_cursor, 'string');
  });

  it('nodes apply creates, updates and leaves nodes as a file says, prints each new token once, and goes on past a refusal', async () => {
    const dir = tempDir('lifeline-apply-');
    const file = join(dir, 'fleet.json');
    const fleet = [
      { name: 'apply-web', labels: { role: 'web' }, heartbeat_interval_seconds: 10 },
      { name: 'apply-backup', schedule: { cron: '0 3 * * *' }, ping_key: '0f3c1a9e-5b7d-4e21-9c8a-6d2b4f1e7a30' },
    ];
    writeFileSync(file, JSON.stringify(fleet));
    const first = await cli(['nodes', 'apply', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^created +apply-web +token lln_[A-Za-z0-9_-]+ \(shown only this once; store it now\)$/m);
    assert.match(first.stdout, /^created +apply-backup +token lln_/m);
    assert.equal((first.stdout.match(/lln_[A-Za-z0-9_-]+/g) ?? []).length, 2, first.stdout);
    const stamp = (await api('GET', '/v1/nodes/apply-web')).updated_at;

    // Run again as it is: nothing written, no token. Then from stdin, one changed, one refused, one new.
    const again = await cli(['nodes', 'apply', file]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^unchanged +apply-web$/m);
    assert.match(again.stdout, /^unchanged +apply-backup$/m);
    assert.doesNotMatch(again.stdout, /lln_/);
    assert.equal((await api('GET', '/v1/nodes/apply-web')).updated_at, stamp);

    const changed = [{ ...fleet[0], heartbeat_interval_seconds: 20 }, { name: 'apply-thief', ping_key: fleet[1]!.ping_key }, { name: 'apply-db' }];
    const third = await cli(['nodes', 'apply', '-'], {}, JSON.stringify(changed));
    assert.equal(third.code, 1, 'a node refused: not 0');
    assert.match(third.stdout, /^updated +apply-web$/m);
    assert.match(third.stderr, /^failed +apply-thief: .*\(conflict, HTTP 409\)$/m);
    assert.match(third.stdout, /^created +apply-db +token lln_/m, 'the nodes after a refusal are applied');
    assert.match(third.stdout, /3 nodes: 1 created, 1 updated, 0 unchanged, 1 failed/);
    assert.equal((await api('GET', '/v1/nodes/apply-web')).heartbeat_interval_seconds, 20);

    // A file that is not a list of named nodes applies nothing.
    const bad = await cli(['nodes', 'apply', '-'], {}, JSON.stringify([{ name: 'apply-never' }, { labels: {} }]));
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /node 2 must be an object with a "name" string/);
    assert.equal((await fetch(`${base}/v1/nodes/apply-never`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 404);
  });

  it('nodes add ends with an agent command that runs as printed once its placeholder is a file', async () => {
    const added = await cli(['nodes', 'add', 'hinted', '--interval', '10']);
    assert.equal(added.code, 0, added.stderr);
    const token = added.stdout.match(/lln_[A-Za-z0-9_-]+/)![0];
    const hint = added.stdout.match(/^Start an agent with it: +lifeline (agent .*)$/m);
    assert.ok(hint, added.stdout);
    const tokenFile = join(tempDir('lifeline-hint-'), 'token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const args = hint[1]!.replace('<a file holding the token>', tokenFile).split(' ');
    // Only the file may carry the secret: the agent must not find it in the environment instead.
    const child = spawnCli(args, { LIFELINE_TOKEN: '' });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    try {
      const exited = once(child, 'exit').then(([code]) => `exited ${code}: ${err}`);
      const beat = until('the hinted agent\'s first heartbeat', async () => / #1 sent: /.test(out)).then(() => 'sent');
      assert.equal(await Promise.race([beat, exited]), 'sent');
      await until('the heartbeat recorded as the node\'s own', async () => (await api('GET', '/v1/nodes/hinted')).health.last_heartbeat_at !== null);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('nodes add --schedule makes a scheduled job; a bad expression is refused in the API\'s words and adds nothing', async () => {
    const added = await cli(['nodes', 'add', 'nightly-backup', '--schedule', '0 3 * * *', '--time-zone', 'Europe/Berlin', '--grace', '300', '--max-run', '3600']);
    assert.equal(added.code, 0, added.stderr);
    const job = await api('GET', '/v1/nodes/nightly-backup');
    assert.deepEqual(job.schedule, { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 300, max_run_seconds: 3600 });
    assert.match(added.stdout, /^Created scheduled job nightly-backup .*due at "0 3 \* \* \*" in Europe\/Berlin, down 300s after/);
    assert.ok(added.stdout.includes(`/ping/${job.ping_key}`), added.stdout);
    assert.match((await cli(['nodes', 'list'])).stdout, /^nightly-backup\s+unknown\s.*\s0 3 \* \* \*\s/m);
    assert.equal((await cli(['runs', 'nightly-backup'])).stdout, 'No runs.\n');
    for (const [suffix, body] of [['/start', undefined], ['/3', 'copying\ndisk full\n']] as const) {
      const res = await fetch(`${base}/ping/${job.ping_key}${suffix}`, { method: body === undefined ? 'GET' : 'POST', body });
      assert.equal(res.status, 200, await res.text());
    }
    await until('the failed run written by a flush', async () => (await api('GET', `/v1/nodes/${job.id}/runs`)).items[0]?.status === 'failure');
    const runs = await cli(['runs', 'nightly-backup']);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /^STARTED .*\n\d{4}-\d\d-\d\d \S+Z +\d{4}-\d\d-\d\d \S+Z +\d+s +failure +3 +copying disk full\n$/);

    const exists = async (name: string) => (await fetch(`${base}/v1/nodes/${name}`, { headers: { authorization: `Bearer ${ADMIN}` } })).status;
    const never = await cli(['nodes', 'add', 'never-due', '--schedule', '0 0 30 2 *']);
    assert.equal(never.code, 1);
    assert.equal(never.stderr, 'error: The request has invalid fields; see details. (validation_failed, HTTP 400)\n  schedule.cron: never matches a date (such as 30 February)\n');
    const both = await cli(['nodes', 'add', 'never-due', '--schedule', '@daily', '--interval', '60']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /^ {2}heartbeat_interval_seconds: cannot be set with a schedule/m);
    assert.equal(await exists('never-due'), 404, 'nothing was added');

    const stray = await cli(['nodes', 'add', 'never-due', '--max-run', '60']);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /--time-zone and --max-run go with --schedule/);
  });

  it('nodes edit changes only what it is given, moves a node between heartbeats and a schedule; nodes delete removes it', async () => {
    assert.equal((await cli(['nodes', 'add', 'edit-me', '--interval', '20', '--label', 'role=web', '--label', 'dc=1'])).code, 0);
    const before = await api('GET', '/v1/nodes/edit-me');

    const changed = await cli(['nodes', 'edit', 'edit-me', '--failures', '5', '--label', 'role=db']);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /^Changed node edit-me \(id [0-9a-f-]+\): a heartbeat every 20s, down after 5 missed \+ 0s grace, labels role=db\.$/m);
    const after = await api('GET', '/v1/nodes/edit-me');
    assert.deepEqual(
      { ...after, failures_for_down: before.failures_for_down, labels: before.labels, updated_at: before.updated_at, health: undefined },
      { ...before, health: undefined },
      'nothing but the failures and the labels changed',
    );
    assert.equal(after.failures_for_down, 5);
    assert.deepEqual(after.labels, { role: 'db' });

    assert.equal((await cli(['nodes', 'edit', 'edit-me', '--schedule', '*/5 * * * *', '--time-zone', 'Europe/Berlin'])).code, 0);
    // The zone alone: the rest of the schedule stays as it stands.
    const zone = await cli(['nodes', 'edit', before.id, '--time-zone', 'Asia/Tokyo', '--grace', '30', '--clear-labels']);
    assert.equal(zone.code, 0, zone.stderr);
    const job = await api('GET', `/v1/nodes/${before.id}`);
    assert.deepEqual(job.schedule, { cron: '*/5 * * * *', time_zone: 'Asia/Tokyo', grace_seconds: 30, max_run_seconds: null });
    assert.deepEqual(job.labels, {});
    assert.match(zone.stdout, /^Changed scheduled job edit-me .*due at "\*\/5 \* \* \* \*" in Asia\/Tokyo, down 30s after/m);
    assert.ok(zone.stdout.includes(`/ping/${job.ping_key}`), zone.stdout);

    const back = await cli(['nodes', 'edit', 'edit-me', '--heartbeats', '--interval', '45', '--name', 'edited', '--json']);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(
      [JSON.parse(back.stdout).schedule, JSON.parse(back.stdout).heartbeat_interval_seconds, JSON.parse(back.stdout).name],
      [null, 45, 'edited'],
    );

    const refused = await cli(['nodes', 'edit', 'edited', '--interval', '0']);
    assert.equal(refused.code, 2);
    assert.equal((await cli(['nodes', 'edit', 'edited'])).code, 2, 'nothing to change is a usage error');
    assert.equal((await cli(['nodes', 'edit', 'edited', '--max-run', '60'])).code, 2, 'a limit without a schedule');
    assert.equal((await api('GET', '/v1/nodes/edited')).heartbeat_interval_seconds, 45, 'a refused edit changed nothing');

    const deleted = await cli(['nodes', 'delete', 'edited']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'Deleted node edited.\n');
    const gone = await cli(['nodes', 'delete', 'edited']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /not_found, HTTP 404/);
  });

  it('incidents list, ack and resolve an incident opened by a node going down', async () => {
    const added = await cli(['nodes', 'add', 'flaky', '--interval', '1', '--failures', '1', '--json']);
    const node = JSON.parse(added.stdout);
    await api('POST', '/v1/heartbeats', { status: 'ok' }, node.token);
    const incident = await until('a node_down incident', async () => {
      const open = await api('GET', `/v1/incidents?status=open&node_id=${node.id}`);
      return open.items.find((i: { category: string }) => i.category === 'node_down');
    });

    const listed = await cli(['incidents', 'list', '--status', 'open']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${incident.id}\\s+open\\s+critical\\s+flaky\\s`, 'm'));

    const acked = await cli(['incidents', 'ack', incident.id, '--by', 'alice']);
    assert.equal(acked.code, 0, acked.stderr);
    assert.match(acked.stdout, /is acknowledged, by alice/);
    assert.equal((await api('GET', `/v1/incidents/${incident.id}`)).acknowledged_by, 'alice');

    const resolved = await cli(['incidents', 'resolve', incident.id, '--by', 'alice', '--note', 'rebooted', '--json']);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal(JSON.parse(resolved.stdout).status, 'resolved');
    const stored = await api('GET', `/v1/incidents/${incident.id}`);
    assert.equal(stored.resolved_by, 'alice');
    assert.ok(stored.timeline.some((t: { kind: string; detail: { note?: string } }) => t.kind === 'resolved' && t.detail.note === 'rebooted'));

    const again = await cli(['incidents', 'resolve', incident.id]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `error: The incident was already resolved by alice at ${stored.resolved_at}. (conflict, HTTP 409)\n`);
    const ackAgain = await cli(['incidents', 'ack', incident.id]);
    assert.equal(ackAgain.stderr, `error: The incident was already resolved by alice at ${stored.resolved_at}. (conflict, HTTP 409)\n`);

    // A note goes on a resolved incident too (a finding for the review), in its timeline after the resolve.
    const noted = await cli(['incidents', 'note', incident.id, 'root cause: disk full', '--by', 'alice']);
    assert.equal(noted.code, 0, noted.stderr);
    assert.match(noted.stdout, new RegExp(`^Note added to incident ${incident.id}, by alice\\.\n$`));
    const timeline = (await api('GET', `/v1/incidents/${incident.id}`)).timeline as Array<{ kind: string; detail: { note?: string } }>;
    assert.deepEqual(timeline.at(-1), { ...timeline.at(-1)!, kind: 'note', detail: { by: 'alice', note: 'root cause: disk full' } });
    const blank = await cli(['incidents', 'note', incident.id, '  ']);
    assert.equal(blank.code, 1);
    assert.match(blank.stderr, /note: must not be empty/);

    const uptime = await cli(['uptime', 'flaky', '--window', '24h']);
    assert.equal(uptime.code, 0, uptime.stderr);
    assert.match(uptime.stdout, /^flaky over 24h \(.*\): \d+\.\d{3}% up/);
    assert.match(uptime.stdout, /^down\s+\d+s$/m);
    const figures = JSON.parse((await cli(['uptime', 'flaky', '--window', '24h', '--json'])).stdout);
    assert.equal(figures.node_id, node.id);
    assert.ok(figures.seconds.down > 0, JSON.stringify(figures));
    assert.ok(figures.uptime_ratio > 0 && figures.uptime_ratio < 1, JSON.stringify(figures));
  });

  it('maintenance start prints only the window id, for `id=$(…)`; end ends it; list shows it, and --json is the API answer', async () => {
    const mw1 = await api('POST', '/v1/nodes', { name: 'mw-1' });
    await api('POST', '/v1/nodes', { name: 'mw-2', labels: { role: 'mw' } });
    const started = await cli(['maintenance', 'start', 'mw-1', '--label', 'role=mw', '--for', '30m', '--reason', 'deploy 4.2']);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.match(started.stdout, /^[0-9a-f-]{36}\n$/);
    assert.match(started.stderr, new RegExp(`1 node, role=mw until .*; end it with: lifeline maintenance end ${id}`));
    const window = await api('GET', `/v1/maintenances/${id}`);
    assert.deepEqual([window.node_ids, window.labels, window.reason, window.active], [[mw1.id], { role: 'mw' }, 'deploy 4.2', true]);
    assert.equal(Date.parse(window.ends_at) - Date.parse(window.starts_at), 30 * 60_000);

    const until = '2099-01-01T00:00:00.000Z';
    const later = await cli(['maintenance', 'start', '--label', 'role=mw', '--until', until]);
    assert.equal(later.code, 0, later.stderr);
    assert.equal((await api('GET', `/v1/maintenances/${later.stdout.trim()}`)).ends_at, until);

    const listed = await cli(['maintenance', 'list', '--active']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+ACTIVE\s+STARTS\s+ENDS\s+COVERS\s+REASON/);
    assert.match(listed.stdout, new RegExp(`${id}\\s+yes\\s.*1 node, role=mw\\s+deploy 4\\.2`));
    const json = JSON.parse((await cli(['maintenance', 'list', '--json'])).stdout);
    assert.ok(json.items.some((m: { id: string }) => m.id === id), 'the API answer as it is');

    const ended = await cli(['maintenance', 'end', id]);
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stdout, new RegExp(`^Maintenance window ${id} \\(1 node, role=mw\\) is over: ended `));
    assert.equal((await api('GET', `/v1/maintenances/${id}`)).active, false);

    // A command line that cannot make a window is exit 2 before any request; one the engine refuses is 1.
    for (const args of [[], ['mw-1', '--for', '30m', '--until', until], ['mw-1', '--for', 'soon'], ['mw-1', '--until', 'tomorrow']]) {
      const bad = await cli(['maintenance', 'start', ...args]);
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
      assert.equal(bad.stdout, '');
    }
    assert.equal((await cli(['maintenance', 'start', 'no-such-node', '--for', '5m'])).code, 1);
    assert.equal((await cli(['maintenance', 'end', '00000000-0000-4000-8000-000000000000'])).code, 1);
  });

  it('maintenance start run again with the same --idempotency-key opens one window: the re-run prints its id while it is open, or fails once it is over', async () => {
    const node = await api('POST', '/v1/nodes', { name: 'mw-retried' });
    const windows = async () => (await api('GET', '/v1/maintenances?limit=500')).items.filter((m: { node_ids: string[] }) => m.node_ids.includes(node.id)).length;
    // A crontab's or a CI step's re-run after an answer that never came: the same command line.
    const args = ['maintenance', 'start', 'mw-retried', '--until', '2099-01-01T00:00:00.000Z', '--idempotency-key', 'deploy-77'];
    const first = await cli(args);
    assert.equal(first.code, 0, first.stderr);
    const again = await cli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(first.stdout, /^[0-9a-f-]{36}\n$/);
    assert.equal(again.stdout, first.stdout, 'the window the first run opened');
    assert.equal(await windows(), 1);

    // --for is sent as a duration the engine counts from its own now: the re-run is the same request.
    const spanned = ['maintenance', 'start', 'mw-retried', '--for', '30m', '--idempotency-key', 'deploy-78'];
    const opened = await cli(spanned);
    assert.equal(opened.code, 0, opened.stderr);
    const rerun = await cli(spanned);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(rerun.stdout, opened.stdout, 'the window the first run opened');
    assert.match(rerun.stderr, /until /);
    assert.equal(await windows(), 2);

    // Ended since, the window no longer covers the deploy: the re-run says so and fails.
    assert.equal((await cli(['maintenance', 'end', opened.stdout.trim()])).code, 0);
    const over = await cli(spanned);
    assert.equal(over.code, 1, over.stderr);
    assert.equal(over.stdout, '');
    assert.match(over.stderr, new RegExp(`--idempotency-key "deploy-78" already opened window ${opened.stdout.trim()}, which is over .*use a new key`));
    assert.equal(await windows(), 2);

    // The key of another request (other nodes): refused as such, naming what may differ.
    await api('POST', '/v1/nodes', { name: 'mw-other' });
    const reused = await cli(['maintenance', 'start', 'mw-other', '--for', '30m', '--idempotency-key', 'deploy-78']);
    assert.equal(reused.code, 1, reused.stderr);
    assert.match(reused.stderr, /--idempotency-key "deploy-78" was already used for a different request \(its nodes, labels, times or reason differ\)/);
    assert.equal(await windows(), 2);
  });

  it('oncall says who is on call now and next for every schedule, or one by name', async () => {
    const ana = await api('POST', '/v1/users', { name: 'Ana', email: 'ana@cli.test' });
    const ben = await api('POST', '/v1/users', { name: 'Ben', email: 'ben@cli.test' });
    const hour = 3_600_000;
    // Ana's day began an hour ago and Ben's begins in 23 hours; the weekend rota has Ben alone.
    const dayStart = new Date(Date.now() - hour).toISOString();
    await api('POST', '/v1/schedules', { name: 'primary', time_zone: 'UTC', layers: [{ name: 'daily', user_ids: [ana.id, ben.id], starts_at: dayStart, rotation: 'P1D' }] });
    await api('POST', '/v1/schedules', { name: 'solo', time_zone: 'UTC', layers: [{ name: 'weekly', user_ids: [ben.id], starts_at: dayStart, rotation: 'P1W' }] });

    const all = await cli(['oncall']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^SCHEDULE\s+ON CALL\s+UNTIL\s+NEXT\s+FROM$/m);
    const handOver = new Date(Date.parse(dayStart) + 24 * hour).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    const line = all.stdout.split('\n').find((l) => l.startsWith('primary'));
    assert.match(line ?? '', new RegExp(`^primary\\s+Ana\\s+${handOver} \\(in \\d+h[^)]*\\)\\s+Ben\\s+${handOver} \\(in \\d+h[^)]*\\)$`));
    assert.match(all.stdout, /^solo\s+Ben\s+beyond 31 days\s+-\s+-$/m);

    const one = await cli(['oncall', 'primary', '--json']);
    assert.equal(one.code, 0, one.stderr);
    const answer = JSON.parse(one.stdout);
    assert.deepEqual(answer.items.map((i: { schedule: string; now: { user_id: string }; next: { user_id: string } }) => [i.schedule, i.now.user_id, i.next.user_id]), [['primary', ana.id, ben.id]]);
    assert.equal(answer.items[0].now.ends_at, new Date(Date.parse(dayStart) + 24 * hour).toISOString());

    const missing = await cli(['oncall', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not_found, HTTP 404/);
  });

  it('prints an API error as one readable line with its details, exit 1', async () => {
    const r = await cli(['nodes', 'add', 'not a name!']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'error: The request has invalid fields; see details. (validation_failed, HTTP 400)\n  name: must be 1-128 characters of A-Z a-z 0-9 . _ : -\n',
    );
    const denied = await cli(['nodes', 'list'], { LIFELINE_TOKEN: 'not-a-key' });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^error: .* \(unauthorized, HTTP 401\)$/m);
  });

  it('exits 0 without a word when its reader stops reading (`| head`), not 1 with an EPIPE stack', async () => {
    await api('POST', '/v1/nodes', { name: 'piped-1' });
    for (const args of [['--help'], ['nodes', 'list']]) {
      const child = spawnCli(args);
      // The read end closed before the CLI (a Node start away) writes anything: every write meets EPIPE.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(stderr, '', args.join(' '));
      assert.equal(code, 0, args.join(' '));
    }
  });

  it('answers an unknown command or flag with usage on stderr, exit 2', async () => {
    const unknown = await cli(['reboot', 'everything']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "reboot everything"[\s\S]*Usage: lifeline <command>/);
    const flag = await cli(['incidents', 'list', '--colour']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--colour'[\s\S]*Usage: lifeline incidents list/);
  });

  it('admin create-key makes a working admin key in the database itself, no API key needed', async () => {
    const made = await cli(['admin', 'create-key', '--name', 'alice', '--json'], { DATABASE_URL: urlFor(dbName), LIFELINE_TOKEN: '' });
    assert.equal(made.code, 0, made.stderr);
    const key = JSON.parse(made.stdout) as { name: string; scope: string; secret: string };
    assert.deepEqual([key.name, key.scope], ['alice', 'admin']);
    const keys = await api<{ items: Array<{ name: string; scope: string }> }>('GET', '/v1/api-keys', undefined, key.secret);
    assert.ok(keys.items.some((k) => k.name === 'alice' && k.scope === 'admin'));
  });

  it('admin create-key refuses a name the API refuses (bidirectional controls), exit 2, making no key', async () => {
    // "abc\u202Egnp.exe" reads "abcexe.png" wherever the name is shown.
    const spoof = 'abc\u202Egnp.exe';
    const refused = await cli(['admin', 'create-key', '--name', spoof], { DATABASE_URL: urlFor(dbName), LIFELINE_TOKEN: '' });
    assert.equal(refused.code, 2, refused.stdout);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^lifeline: --name must not contain bidirectional control characters \(U\+202A-U\+202E, U\+2066-U\+2069\)\n/);
    const keys = await api<{ items: Array<{ name: string }> }>('GET', '/v1/api-keys?limit=200');
    assert.ok(!keys.items.some((k) => k.name === spoof), 'no key was made');
  });

  it('migrate creates and migrates a fresh database, then finds it up to date', async () => {
    const env = { DATABASE_URL: urlFor(migrateDb) };
    const first = await cli(['migrate'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^Migrated .*/${migrateDb}:\\n  applied 0001_init\\.sql\\n`));
    const second = await cli(['migrate', '--json'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), { applied: [] });
  });

  it('agent beats with a node token, or with an ingest key (from a file) registering its node at its interval, until SIGTERM', async () => {
    // The agent gives up on a heartbeat after its interval (at most 10 s): a 1 s interval would make
    // the first beat fail whenever the machine running the tests is slow to answer.
    const node = await api('POST', '/v1/nodes', { name: 'agent-1', heartbeat_interval_seconds: 10 });
    const ingest = await api('POST', '/v1/api-keys', { name: 'agents', scope: 'ingest' });
    // A file only its owner reads, as a service manager's credential would be: never on the command line.
    const tokenFile = join(tempDir('lifeline-agent-'), 'token');
    writeFileSync(tokenFile, `${ingest.secret}\n`, { mode: 0o600 });
    const agents = [
      { name: 'agent-1', child: spawnCli(['agent', '--interval', '10'], { LIFELINE_TOKEN: node.token }) },
      { name: 'agent-2', child: spawnCli(['agent', '--interval', '10', '--node', 'agent-2', '--token-file', tokenFile], { LIFELINE_TOKEN: '' }) },
    ];
    try {
      await Promise.all(
        agents.map(async ({ name, child }) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d));
          await until(`two heartbeats from ${name}`, async () => (out.match(/ sent: /g) ?? []).length >= 2);
          assert.match(out, / #1 sent: disk (ok|warn|fail) \(.*% free of .*\) · load .* · memory /);
          // The host running the tests may be busy or full: whatever the checks say decides the state.
          const health = await until(`${name} judged on its checks`, async () => {
            const h = (await api('GET', `/v1/nodes/${name}`)).health;
            if (!h.checks) return undefined;
            const expected = Object.values(h.checks as Record<string, { status: string }>).every((c) => c.status === 'ok') ? 'healthy' : 'degraded';
            return h.state === expected ? h : undefined;
          });
          assert.deepEqual(Object.keys(health.checks).sort(), ['disk', 'load', 'memory']);
          // agent-2 was registered by its first heartbeat, with the interval it sends at.
          assert.equal((await api('GET', `/v1/nodes/${name}`)).heartbeat_interval_seconds, 10);
          child.kill('SIGTERM');
          const [code] = (await once(child, 'exit')) as [number];
          assert.equal(code, 0);
          assert.match(out, /stopped\n$/);
        }),
      );
    } finally {
      for (const { child } of agents) child.kill('SIGKILL');
    }
  });
});
