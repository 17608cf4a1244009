import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { urlFor } from '../helpers/db.ts';
import { useCliEngine } from '../helpers/cli-engine.ts';
import { until } from '../helpers/wait.ts';

const migrateDb = `lifeline_e2e_cli_migrate_${randomBytes(4).toString('hex')}`;
const { dbName, base, spawnCli, cli, api } = useCliEngine('cli', [migrateDb]);

describe('the lifeline CLI against a running engine: incidents, maintenance, on call, errors and admin', () => {
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
    // With --json, who and when as fields, each `value` as the incident reads.
    const asJson = await cli(['incidents', 'resolve', incident.id, '--json']);
    assert.deepEqual(JSON.parse(asJson.stderr).error.details, [
      { field: 'resolved_by', message: 'alice', value: 'alice' },
      { field: 'resolved_at', message: stored.resolved_at, value: stored.resolved_at },
    ]);

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
    // However long the node has been down: seconds on a quiet machine, "1m 42s" at load 40.
    assert.match(uptime.stdout, /^down\s+(?:\d+[dhm] )*\d+s$/m);
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
    assert.match(started.stderr, new RegExp(`1 node, role=mw until .*; end it with: lifeline maintenance end ${id} --url ${base()}\n$`));
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

  it('admin create-key makes a working admin key in the database itself, no API key needed, saying which database without its password', async () => {
    // Trust authentication takes any password: this one is only there to be left out.
    const url = new URL(urlFor(dbName));
    url.password = 'never-shown-pw';
    const made = await cli(['admin', 'create-key', '--name', 'alice', '--json'], { DATABASE_URL: url.href, LIFELINE_TOKEN: '' });
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stderr, `Database: ${url.host}/${dbName} (DATABASE_URL).\n`);
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
    assert.match(first.stdout, /^Migrated:\n  applied 0001_init\.sql\n/);
    assert.match(first.stderr, new RegExp(`^Database: .*/${migrateDb} \\(DATABASE_URL\\)\\.\\n`), 'the database is named once, on stderr');
    const second = await cli(['migrate', '--json'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), { applied: [] });
  });

});
