import assert from 'node:assert/strict';
import { once } from 'node:events';
import { symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { useCliEngine } from '../helpers/cli-engine.ts';
import { ROOT } from '../helpers/engine-process.ts';
import { until } from '../helpers/wait.ts';

const { ADMIN, base, tempDir, spawnCli, cli, api } = useCliEngine('cli_nodes');

/** Node's path and a space when cron's PATH (/usr/bin:/bin) would not find `node` for the CLI's `#!/usr/bin/env node`. */
const nodeOffCronPath = ['/usr/bin', '/bin'].includes(dirname(process.execPath)) ? '' : `${process.execPath} `;

describe('the lifeline CLI against a running engine: keys, nodes and the agent', () => {
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

  it("a job's crontab line names the CLI by the link it was run by, as npm installs it in a bin directory", async () => {
    const link = join(tempDir('lifeline-bin-'), 'lifeline');
    symlinkSync(join(ROOT, 'bin/lifeline.mjs'), link);
    const added = await cli(['nodes', 'add', 'linked-backup', '--schedule', '0 3 * * *'], {}, undefined, [process.execPath, link]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout.match(/^In its crontab: {2}0 3 \* \* \* (.*) run --ping-url /m)![1], `${nodeOffCronPath}${link}`);
  });

  it("a job's crontab line run through npx names the package's own file, not npm's cache that npx ran it from", async () => {
    // `npx lifeline`, as README runs the CLI, links the package into <cache>/_npx/<hash>/ and runs
    // its bin link there: a directory npm may empty. A cache of the test's own keeps the user's out of it.
    // Without ignore-scripts, linking the package into a new cache runs its `prepare` (a build that
    // empties dist/ first), and every engine other tests start from dist/ meanwhile fails to load.
    const cache = tempDir('lifeline-npm-cache-');
    const added = await cli(['nodes', 'add', 'npx-backup', '--schedule', '0 3 * * *'], { npm_config_cache: cache, npm_config_ignore_scripts: 'true' }, undefined, ['npx', '--yes', 'lifeline']);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout.match(/^In its crontab: {2}0 3 \* \* \* (.*) run --ping-url /m)![1], `${nodeOffCronPath}${join(ROOT, 'bin/lifeline.mjs')}`);
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
    // A new job is given what `nodes add --schedule` prints for it: its ping URL and crontab line, no token.
    const added = await cli(['nodes', 'add', 'add-backup', '--schedule', '0 3 * * *']);
    const addedJob = added.stdout.slice(added.stdout.indexOf('Ping URL: ')).replace(/add-backup/g, 'apply-backup').replaceAll((await api('GET', '/v1/nodes/add-backup')).ping_key, fleet[1]!.ping_key!);
    const [url, crontab, note, orCurl, ...rest] = addedJob.trimEnd().split('\n');
    assert.match(url!, /^Ping URL: \S+$/);
    // cron's PATH is /usr/bin:/bin: the line names the CLI by the path it was run by (and node, when node is not there either).
    // The placeholder URL (no LIFELINE_PUBLIC_URL here) quoted in the crontab lines: `<` is sh's redirection.
    const url_ = `'${url!.slice('Ping URL: '.length)}'`;
    assert.equal(crontab, `In its crontab:  0 3 * * * ${nodeOffCronPath}${join(ROOT, 'bin/lifeline.mjs')} run --ping-url ${url_} -- your-job.sh`);
    assert.equal(note, `${' '.repeat(17)}# That path is where the CLI is on this machine; on another host, give its path there.`);
    assert.equal(orCurl, `Or, a success ping only (a failed run is down once its grace has passed):  your-job.sh && curl -fsS -m 10 --retry 5 ${url_}`);
    assert.deepEqual(rest, []);
    assert.ok(first.stdout.includes(`created    apply-backup\n${addedJob.trimEnd().split('\n').map((line) => `${' '.repeat(11)}${line}\n`).join('')}`), first.stdout);
    assert.equal((first.stdout.match(/lln_[A-Za-z0-9_-]+/g) ?? []).length, 1, first.stdout);
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
    assert.equal((await fetch(`${base()}/v1/nodes/apply-never`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 404);
  });

  it('nodes add ends with an agent command that runs as printed, on the URL the CLI used, once its placeholder is a file', async () => {
    const added = await cli(['nodes', 'add', 'hinted', '--interval', '10']);
    assert.equal(added.code, 0, added.stderr);
    const token = added.stdout.match(/lln_[A-Za-z0-9_-]+/)![0];
    const hint = added.stdout.match(/^Start an agent with it: +lifeline (agent .*)$/m);
    assert.ok(hint, added.stdout);
    const tokenFile = join(tempDir('lifeline-hint-'), 'token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const args = hint[1]!.replace('<a file holding the token>', tokenFile).split(' ');
    // Only the file may carry the secret, and the hint the engine's URL (this engine's port is not
    // the default): the agent must find neither in the environment, as on another host.
    assert.deepEqual(args.slice(1, 3), ['--url', base()]);
    const child = spawnCli(args, { LIFELINE_TOKEN: '', LIFELINE_URL: '' });
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
      const res = await fetch(`${base()}/ping/${job.ping_key}${suffix}`, { method: body === undefined ? 'GET' : 'POST', body });
      assert.equal(res.status, 200, await res.text());
    }
    await until('the failed run written by a flush', async () => (await api('GET', `/v1/nodes/${job.id}/runs`)).items[0]?.status === 'failure');
    const runs = await cli(['runs', 'nightly-backup']);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /^STARTED .*\n\d{4}-\d\d-\d\d \S+Z +\d{4}-\d\d-\d\d \S+Z +\d+s +failure +3 +copying disk full\n$/);

    const exists = async (name: string) => (await fetch(`${base()}/v1/nodes/${name}`, { headers: { authorization: `Bearer ${ADMIN}` } })).status;
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

  it('nodes show prints one node: its state, reason and last report; for a job its schedule, next due run on both clocks, ping URL and last runs', async () => {
    assert.equal((await cli(['nodes', 'add', 'show-backup', '--schedule', '30 3 * * *', '--time-zone', 'Europe/Berlin', '--grace', '600', '--max-run', '3600', '--label', 'role=db'])).code, 0);
    const job = await api('GET', '/v1/nodes/show-backup');
    for (const [suffix, body] of [['/start', undefined], ['/3', 'rsync: disk full\n']] as const) {
      const res = await fetch(`${base()}/ping/${job.ping_key}${suffix}`, { method: body === undefined ? 'GET' : 'POST', body });
      assert.equal(res.status, 200, await res.text());
    }
    await until('the failed run written by a flush', async () => (await api('GET', `/v1/nodes/${job.id}/runs`)).items[0]?.status === 'failure');
    await until('the job judged down by its failed run', async () => (await api('GET', '/v1/nodes/show-backup')).health.state === 'down');

    const shown = await cli(['nodes', 'show', 'show-backup']);
    assert.equal(shown.code, 0, shown.stderr);
    const now = await api('GET', '/v1/nodes/show-backup');
    const line = (key: string) => new RegExp(`^${key}: +(.*)$`, 'm').exec(shown.stdout)?.[1] ?? assert.fail(`no ${key} in\n${shown.stdout}`);
    assert.match(shown.stdout, new RegExp(`^Scheduled job show-backup \\(id ${job.id}\\)\n`));
    assert.match(line('State'), /^down since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, \d+s ago$/);
    assert.equal(line('Reason'), now.health.reason);
    assert.match(line('Last ping'), /, \d+s ago, reported failing$/);
    assert.equal(line('Schedule'), '30 3 * * * in Europe/Berlin, grace 600s');
    // Berlin's 03:30 is 02:30 UTC in winter and 01:30 UTC in summer; either way the same date.
    // The run may be hours or seconds away, so any duration form (`5h 12m`, `58m 47s`, `9s`).
    const due = now.health.next_due_at as string;
    assert.match(line('Next due'), new RegExp(`^${due.slice(0, 10)} 0[12]:30:00Z \\(03:30 in Europe/Berlin\\), in \\d+[dhms]( \\d+[dhms])?$`));
    assert.match(line('Grace ends'), new RegExp(`^${(now.health.grace_ends_at as string).slice(0, 10)} 0[12]:40:00Z, in `));
    assert.equal(line('Max run'), '1h');
    assert.ok(line('Ping URL').endsWith(`/ping/${job.ping_key}`), shown.stdout);
    assert.equal(line('Labels'), 'role=db');
    assert.match(shown.stdout, /\n\nLast runs \(lifeline runs show-backup for more\):\nSTARTED .*\n\d{4}-\d\d-\d\d \S+Z +\d{4}-\d\d-\d\d \S+Z +\d+s +failure +3 +rsync: disk full\n$/);

    // --json is the API's node as it is (missed_heartbeats is computed at each request).
    const json = JSON.parse((await cli(['nodes', 'show', job.id, '--json'])).stdout);
    assert.deepEqual({ ...json, health: { ...json.health, missed_heartbeats: 0 } }, { ...(await api('GET', `/v1/nodes/${job.id}`)), health: { ...now.health, missed_heartbeats: 0 } });

    assert.equal((await cli(['nodes', 'add', 'show-web', '--interval', '15', '--failures', '2'])).code, 0);
    const node = await cli(['nodes', 'show', 'show-web']);
    assert.equal(node.code, 0, node.stderr);
    assert.match(node.stdout, /^Node show-web \(id [0-9a-f-]+\)\nState: +unknown since /);
    assert.match(node.stdout, /^Last heartbeat: +never$/m);
    assert.match(node.stdout, /^Heartbeats: +every 15s, down after 2 missed \+ 0s grace; 0 missed now$/m);
    assert.match(node.stdout, new RegExp(`^Ping URL: +\\S+/ping/${(await api('GET', '/v1/nodes/show-web')).ping_key}$`, 'm'), 'a ping there is a heartbeat');
    assert.doesNotMatch(node.stdout, /runs/i);

    const missing = await cli(['nodes', 'show', 'no-such-node']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\(not_found, HTTP 404\)/);
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

  it('agent beats with a node token, or with an ingest key (from a file) registering its node at its interval, until SIGTERM', async () => {
    // The agent gives up on a heartbeat after its interval (at most 10 s): a 1 s interval would make
    // the first beat fail whenever the machine running the tests is slow to answer.
    const node = await api('POST', '/v1/nodes', { name: 'agent-1', heartbeat_interval_seconds: 10 });
    const ingest = await api('POST', '/v1/api-keys', { name: 'agents', scope: 'ingest' });
    // A file only its owner reads, as a service manager's credential would be: never on the command line.
    const tokenFile = join(tempDir('lifeline-agent-'), 'token');
    writeFileSync(tokenFile, `${ingest.secret}\n`, { mode: 0o600 });
    const checked = { line: / #1 sent: disk (ok|warn|fail) \(.*% free of .*\) · load .* · memory /, checks: ['disk', 'load', 'memory'] };
    const agents = [
      { name: 'agent-1', child: spawnCli(['agent', '--interval', '10'], { LIFELINE_TOKEN: node.token }), ...checked },
      { name: 'agent-2', child: spawnCli(['agent', '--interval', '10', '--node', 'agent-2', '--token-file', tokenFile], { LIFELINE_TOKEN: '' }), ...checked },
      // A plain "alive", as Uptime Kuma or Healthchecks take it: a busy host's load cannot degrade it.
      { name: 'agent-3', child: spawnCli(['agent', '--interval', '10', '--node', 'agent-3', '--checks', 'none', '--token-file', tokenFile], { LIFELINE_TOKEN: '' }), line: / #1 sent \(no checks\)\n/, checks: null },
    ];
    try {
      await Promise.all(
        agents.map(async ({ name, child, line, checks }) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d));
          await until(`two heartbeats from ${name}`, async () => (out.match(/ sent[: ]/g) ?? []).length >= 2);
          assert.match(out, line);
          // The host running the tests may be busy or full: whatever the checks say decides the state.
          const health = await until(`${name} judged on its checks`, async () => {
            const h = (await api('GET', `/v1/nodes/${name}`)).health;
            if (checks && !h.checks) return undefined;
            const expected = Object.values((h.checks ?? {}) as Record<string, { status: string }>).every((c) => c.status === 'ok') ? 'healthy' : 'degraded';
            return h.state === expected ? h : undefined;
          });
          if (checks) assert.deepEqual(Object.keys(health.checks).sort(), checks);
          else assert.equal(health.checks, null);
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
