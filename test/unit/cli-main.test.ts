import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { COMMANDS, run } from '../../src/cli/main.ts';
import { cliCommand, scriptAsRun } from '../../src/cli/nodes.ts';

/** Runs the CLI in this process with captured output and an environment of our choosing. */
async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server answering every request with `handle`, and the environment that points the CLI at it. */
async function stubEngine(handle: RequestListener) {
  const server = createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { env: { LIFELINE_URL: url, LIFELINE_TOKEN: 't' }, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** An engine stand-in: records each request (method, path and query, body) and answers `reply` with `status`. */
async function recordingEngine(reply: unknown, status = 200) {
  const seen: Array<{ method: string; url: URL; body: string; authorization?: string }> = [];
  const engine = await stubEngine((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: new URL(req.url!, 'http://engine.test'), body, authorization: req.headers.authorization });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  return { ...engine, seen };
}

describe('the command line', () => {
  it('prints every command on --help, to stdout, exit 0', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['keys create', 'nodes add <name>', 'incidents resolve <id>', 'incidents note <id> <text>', 'oncall \\[schedule\\]', 'uptime \\[node\\]', 'agent', 'migrate']) assert.match(r.stdout, new RegExp(c));
  });

  it("prints a command's flags on <command> --help", async () => {
    const r = await cli(['nodes', 'add', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: lifeline nodes add <name> .*\[--label k=v …\]/);
    assert.match(r.stdout.replace(/\s+/g, ' '), /--grace <seconds> extra seconds before down \(default 0; for a scheduled job: after a scheduled time, default 300\)/);
  });

  it('prints the version of the package on --version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await cli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${version}\n`);
  });

  it("lists a group's commands, and only those, on <group> --help", async () => {
    const r = await cli(['nodes', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: lifeline nodes <command>/);
    assert.match(r.stdout, /^ {2}nodes add <name> +register a node/m);
    assert.match(r.stdout, /^ {2}nodes list +list nodes/m);
    assert.doesNotMatch(r.stdout, /keys create|incidents/);
  });

  it('describes every flag of every command in its --help', async () => {
    for (const c of COMMANDS) {
      const r = await cli([...c.name.split(' '), '--help']);
      assert.equal(r.code, 0, c.name);
      for (const [flag, o] of Object.entries(c.options)) {
        if (o.hidden) continue;
        const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`--${flag} `));
        assert.ok(line?.includes(o.description.split(' ').slice(0, 3).join(' ')), `${c.name} --help describes --${flag}: ${r.stdout}`);
      }
    }
  });

  it('suggests the nearest command or flag for a typo', async () => {
    const command = await cli(['nodes', 'lst']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command "nodes lst"\n\(Did you mean list\?\)/);
    const flag = await cli(['nodes', 'list', '--lable', 'role:web']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--lable'\n\(Did you mean --label\?\)/);
  });

  it('suggests the group for a typo of its name, and a top-level command still', async () => {
    for (const [argv, said, meant] of [
      [['node', 'list'], 'node list', 'nodes'],
      [['nodse', 'list'], 'nodse list', 'nodes'],
      [['key', 'create', 'ci', '--scope', 'read'], 'key create', 'keys'],
      [['incident', 'list'], 'incident list', 'incidents'],
      [['admn', 'create-key'], 'admn create-key', 'admin'],
      [['uptme'], 'uptme', 'uptime'],
      [['incidents', 'resolv', 'x'], 'incidents resolv', 'resolve'],
    ] as const) {
      const r = await cli([...argv]);
      assert.equal(r.code, 2, said);
      assert.match(r.stderr, new RegExp(`unknown command "${said}"\\n\\(Did you mean ${meant}\\?\\)`), r.stderr);
    }
    // The top-level help still lists the commands of every group rather than the groups.
    const help = await cli(['--help']);
    assert.match(help.stdout, /nodes list/);
    assert.doesNotMatch(help.stdout, /^ {2}nodes {2}/m);
  });

  it('reads every --label as key=value, and as key:value, which nodes list once required', async () => {
    // A list's answer, and an acknowledgement's (`incidents ack`).
    const engine = await recordingEngine({ items: [], next_cursor: null, acknowledged: [], count: 0 });
    try {
      const run = async (argv: string[]) => {
        const r = await cli([...argv, '--json'], engine.env);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
        return engine.seen.at(-1)!;
      };
      // Sent as key:value, which servers older than key=value filters read too: a value may hold more colons.
      for (const [given, sent] of [['role=web', 'role:web'], ['role:web', 'role:web'], ['url=http://a:8080', 'url:http://a:8080']] as const) {
        assert.equal((await run(['nodes', 'list', '--label', given])).url.searchParams.get('label'), sent, given);
      }
      // nodes list and the fleet report repeat it too, as incidents list does: the last is not the only one sent.
      for (const argv of [['nodes', 'list'], ['uptime']]) {
        const listed = await run([...argv, '--label', 'role=web', '--label', 'shard:1']);
        assert.deepEqual(listed.url.searchParams.getAll('label'), ['role:web', 'shard:1'], argv.join(' '));
      }
      // incidents list repeats the parameter, one per --label, all of which must match.
      const incidents = await run(['incidents', 'list', '--status', 'open', '--label', 'region=eu-west', '--label', 'role:db', '--node', 'db-1']);
      assert.deepEqual([incidents.url.pathname, incidents.url.searchParams.getAll('label'), incidents.url.searchParams.get('node_id')], ['/v1/incidents', ['region:eu-west', 'role:db'], 'db-1']);
      assert.match((await cli(['incidents', 'list', '--label', 'region'], engine.env)).stderr, /--label must be key=value or key:value, got "region"/);
      // --since and --until as the opening range, a time as given; summary takes the same filters.
      const ranged = await run(['incidents', 'list', '--since', '2026-11-01T00:00:00Z', '--until', '2026-11-08T00:00:00Z']);
      assert.deepEqual([ranged.url.searchParams.get('opened_after'), ranged.url.searchParams.get('opened_before')], ['2026-11-01T00:00:00.000Z', '2026-11-08T00:00:00.000Z']);
      const summed = await run(['incidents', 'summary', '--since', '30d', '--label', 'region=eu-west']);
      assert.deepEqual([summed.url.pathname, summed.url.searchParams.getAll('label')], ['/v1/incidents/summary', ['region:eu-west']]);
      assert.match(summed.url.searchParams.get('opened_after') ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.match((await cli(['incidents', 'list', '--since', 'last week'], engine.env)).stderr, /--since must be an RFC 3339 time from 1970 to 9999 or a span before now such as 7d, 12h or 30m, got "last week"/);
      // A range the API would refuse is refused here, naming the option given, before any call.
      const sent = engine.seen.length;
      for (const [argv, said] of [
        [['--since', '999999d'], /--since must be an RFC 3339 time/],
        [['--since', '7d', '--until', '8d'], /--until must be after --since/],
        [['--since', '2026-11-08T00:00:00Z', '--until', '2026-11-08T00:00:00Z'], /--until must be after --since/],
      ] as const) {
        const r = await cli(['incidents', 'summary', ...argv], engine.env);
        assert.deepEqual([r.code, said.test(r.stderr)], [2, true], r.stderr);
      }
      assert.equal(engine.seen.length, sent);
      // incidents ack lists the open ones a --label names, then acknowledges them with the ids given, in one call.
      const before = engine.seen.length;
      await run(['incidents', 'ack', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002', '--label', 'region=eu-west', '--by', 'alice']);
      const [listing, acking] = engine.seen.slice(before);
      assert.deepEqual([listing!.method, listing!.url.pathname, listing!.url.searchParams.get('status'), listing!.url.searchParams.getAll('label')], ['GET', '/v1/incidents', 'open', ['region:eu-west']]);
      assert.deepEqual([acking!.method, acking!.url.pathname, JSON.parse(acking!.body)], [
        'POST',
        '/v1/incidents/acknowledge',
        { incident_ids: ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002'], by: 'alice' },
      ]);
      const added = await run(['nodes', 'add', 'web-1', '--label', 'role:web', '--label', 'dc=eu:1']);
      assert.deepEqual(JSON.parse(added.body).labels, { role: 'web', dc: 'eu:1' });
      const edited = await run(['nodes', 'edit', 'web-1', '--label', 'role=db']);
      assert.deepEqual([edited.method, JSON.parse(edited.body).labels], ['PATCH', { role: 'db' }]);
      const refused = await cli(['nodes', 'list', '--label', 'role'], engine.env);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--label must be key=value or key:value, got "role"/);
      // A key or a value the API would refuse is refused here in its words, not as "not key=value".
      assert.match((await cli(['nodes', 'add', 'web-1', '--label', 'rôle=web'], engine.env)).stderr, /--label label keys are 1-63 characters of A-Z a-z 0-9 \. _ \/ -, got "rôle=web"/);
      assert.match((await cli(['nodes', 'add', 'web-1', '--label', `note=${'x'.repeat(257)}`], engine.env)).stderr, /--label label values are at most 256 characters/);
    } finally {
      await engine.close();
    }
  });

  it("adds a job with the default grace sent (an older engine's default is 0), says the grace it got, and suggests lifeline run for its crontab", async () => {
    const schedule = { cron: '* * * * *', time_zone: 'UTC', grace_seconds: 300, max_run_seconds: null };
    const job = { id: 'j1', name: 'minutely-sync', labels: {}, schedule, ping_key: 'k', ping_url: 'https://lifeline.example/ping/k' };
    const engine = await recordingEngine(job);
    try {
      const r = await cli(['nodes', 'add', 'minutely-sync', '--schedule', '* * * * *'], engine.env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(engine.seen[0]!.body).schedule, { cron: '* * * * *', grace_seconds: 300 }, 'the grace the help promises, whatever the engine defaults to');
      assert.match(r.stdout, /down 300s after a scheduled time with no success ping; a run that has started is held to the same time \(--max-run times a run from its start instead\)/);
      assert.match(r.stdout, /^In its crontab: {2}\* \* \* \* \* lifeline run --ping-url https:\/\/lifeline\.example\/ping\/k -- your-job\.sh$/m);
      // `job && curl` only after it, as the lesser choice README's crontabs give it.
      assert.match(r.stdout, /\nOr, a success ping only \(a failed run is down once its grace has passed\): {2}your-job\.sh && curl -fsS -m 10 --retry 5 https:\/\/lifeline\.example\/ping\/k\n$/);
    } finally {
      await engine.close();
    }
  });

  it("names the CLI in a job's crontab line by a path cron's PATH (/usr/bin:/bin) needs no help with", () => {
    const here = "That path is where the CLI is on this machine; on another host, give its path there.";
    assert.deepEqual(cliCommand({ script: '/usr/local/bin/lifeline', node: '/usr/bin/node' }), { command: '/usr/local/bin/lifeline', note: here });
    assert.equal(cliCommand({ script: '/home/ops/.npm-global/bin/lifeline', node: '/usr/local/bin/node' }).command, '/usr/local/bin/node /home/ops/.npm-global/bin/lifeline');
    assert.equal(cliCommand({ script: "/opt/it's here/node_modules/.bin/lifeline", node: '/bin/node' }).command, "'/opt/it'\\''s here/node_modules/.bin/lifeline'");
    assert.deepEqual(cliCommand({ script: undefined, node: '/usr/bin/node' }), { command: 'lifeline' }, 'no script: the REPL, node -e');
    assert.deepEqual(cliCommand(undefined), { command: 'lifeline' }, 'in-process');
  });

  it("escapes cron's % in a job's crontab line, and names no path holding a line break, which would end the line", () => {
    // cron makes a bare % a newline, inside quotes too, and gives `\%` to sh as `%`.
    assert.equal(cliCommand({ script: '/opt/100%/bin/lifeline', node: '/opt/node-%v/bin/node' }).command, "'/opt/node-\\%v/bin/node' '/opt/100\\%/bin/lifeline'");
    for (const invokedAs of [
      { script: '/opt/a\nb/bin/lifeline', node: '/usr/bin/node' },
      { script: '/opt/a\rb/bin/lifeline', node: '/usr/bin/node' },
      { script: '/usr/local/bin/lifeline', node: '/opt/node\n/bin/node' },
    ]) {
      const cli = cliCommand(invokedAs);
      assert.equal(cli.command, 'lifeline', JSON.stringify(invokedAs));
      assert.match(cli.note!, /line break/);
    }
  });

  it("names the package's own file, not npm's cache, when npx ran the CLI", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-npx-'));
    try {
      const bin = join(dir, '_npx/8548355cbd89882d/node_modules/.bin');
      mkdirSync(join(dir, 'package/bin'), { recursive: true });
      writeFileSync(join(dir, 'package/bin/lifeline.mjs'), '');
      mkdirSync(bin, { recursive: true });
      symlinkSync(join(dir, 'package/bin/lifeline.mjs'), join(bin, 'lifeline'));
      const file = realpathSync(join(dir, 'package/bin/lifeline.mjs'));
      assert.equal(scriptAsRun(join(bin, 'lifeline'), {}), file);
      assert.equal(scriptAsRun(join(bin, 'lifeline'), { npm_command: 'exec' }), file);
      // A link in a bin directory is kept, as it stays put when the package moves; not under npm exec.
      const link = join(dir, 'lifeline');
      symlinkSync(join(dir, 'package/bin/lifeline.mjs'), link);
      assert.equal(scriptAsRun(link, {}), link);
      assert.equal(scriptAsRun(link, { npm_command: 'exec' }), file);
      assert.equal(scriptAsRun(undefined, { npm_command: 'exec' }), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("quotes and escapes the ping URL in a job's crontab lines: LIFELINE_PUBLIC_URL may hold %XX escapes", async () => {
    const schedule = { cron: '0 3 * * *', time_zone: 'UTC', grace_seconds: 300, max_run_seconds: null };
    const job = { id: 'j1', name: 'escaped', labels: {}, schedule, ping_key: 'k', ping_url: 'https://lifeline.example/ops%20team/ping/k' };
    const engine = await recordingEngine(job);
    try {
      const r = await cli(['nodes', 'add', 'escaped', '--schedule', '0 3 * * *'], engine.env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Ping URL: https:\/\/lifeline\.example\/ops%20team\/ping\/k$/m, 'as it is, outside a crontab');
      assert.ok(r.stdout.includes("\nIn its crontab:  0 3 * * * lifeline run --ping-url 'https://lifeline.example/ops\\%20team/ping/k' -- your-job.sh\n"), r.stdout);
      assert.ok(r.stdout.endsWith("your-job.sh && curl -fsS -m 10 --retry 5 'https://lifeline.example/ops\\%20team/ping/k'\n"), r.stdout);
    } finally {
      await engine.close();
    }
  });

  it('puts CRON_TZ before the crontab line of a job on another clock than UTC, and shows that zone in nodes list', async () => {
    const schedule = { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 300, max_run_seconds: null };
    const job = { id: 'j1', name: 'walk-daily', labels: {}, schedule, ping_key: 'k', ping_url: 'https://lifeline.example/ping/k', heartbeat_interval_seconds: 30, health: { state: 'healthy', since: null, last_heartbeat_at: null, reason: null } };
    const engine = await recordingEngine(job);
    try {
      const r = await cli(['nodes', 'add', 'walk-daily', '--schedule', '0 3 * * *', '--time-zone', 'Europe/Berlin'], engine.env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^In its crontab: {2}CRON_TZ=Europe\/Berlin\n {17}0 3 \* \* \* lifeline run --ping-url https:\/\/lifeline\.example\/ping\/k -- your-job\.sh\n {17}# CRON_TZ holds for every line below it: set it back to the host's zone for the lines after the job\n {17}CRON_TZ=<host zone>$/m);
    } finally {
      await engine.close();
    }
    const listed = await recordingEngine({ items: [job, { ...job, name: 'walk-utc', schedule: { ...schedule, time_zone: 'UTC' } }], next_cursor: null });
    try {
      const r = await cli(['nodes', 'list'], listed.env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^walk-daily .* 0 3 \* \* \* Europe\/Berlin$/m);
      assert.match(r.stdout, /^walk-utc .* 0 3 \* \* \*$/m);
    } finally {
      await listed.close();
    }
  });

  it('takes --max-run 0 or none as no run limit, which the API writes as null', async () => {
    const schedule = { cron: '0 3 * * *', time_zone: 'UTC', grace_seconds: 300, max_run_seconds: 600 };
    const engine = await recordingEngine({ id: 'j1', name: 'job', labels: {}, schedule, ping_key: 'k', ping_url: null });
    try {
      for (const none of ['0', 'none']) {
        const edited = await cli(['nodes', 'edit', 'job', '--max-run', none], engine.env);
        assert.equal(edited.code, 0, edited.stderr);
        assert.deepEqual(JSON.parse(engine.seen.at(-1)!.body).schedule, { ...schedule, max_run_seconds: null });
      }
      assert.equal((await cli(['nodes', 'add', 'job', '--schedule', '0 3 * * *', '--max-run', 'none'], engine.env)).code, 0);
      assert.equal(JSON.parse(engine.seen.at(-1)!.body).schedule.max_run_seconds, null);
      const refused = await cli(['nodes', 'edit', 'job', '--max-run', 'soon'], engine.env);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--max-run must be a whole number of seconds, or 0 or none for no limit, got "soon"/);
    } finally {
      await engine.close();
    }
  });

  it('pages through cursors for a --limit past the largest page the API gives', async () => {
    const engine = await recordingEngine({ items: Array(500).fill({}), next_cursor: 'c' });
    try {
      const r = await cli(['nodes', 'list', '--limit', '600', '--json'], engine.env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(engine.seen.map((s) => [s.url.searchParams.get('limit'), s.url.searchParams.get('cursor')]), [['500', null], ['100', 'c']]);
    } finally {
      await engine.close();
    }
  });

  const usageErrors: Array<[string, string[], RegExp]> = [
    ['no command', [], /no command given/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown subcommand', ['nodes', 'frob'], /unknown command "nodes frob"/],
    ['help on an unknown command', ['help', 'frob'], /unknown command "frob"/],
    ['a group without its command', ['nodes'], /no command given/],
    ['an unknown flag', ['nodes', 'list', '--bogus'], /Unknown option '--bogus'/],
    ['a missing argument', ['incidents', 'resolve'], /missing <id>/],
    ['nothing to acknowledge', ['incidents', 'ack', '--token', 't'], /give the ids of the incidents, or --label/],
    ['an extra argument', ['nodes', 'list', 'web-1'], /unexpected argument "web-1"/],
    ['a flag without its value', ['nodes', 'add', 'web-1', '--interval'], /--interval/],
    ['a number that is not one', ['nodes', 'add', 'web-1', '--interval', 'soon', '--token', 't'], /--interval must be a whole number of at least 1, got "soon"/],
    ['a label without =', ['nodes', 'add', 'web-1', '--label', 'role', '--token', 't'], /--label must be key=value or key:value, got "role"/],
    ['no token', ['nodes', 'list'], /no token: pass --token or --token-file, or set LIFELINE_TOKEN or LIFELINE_TOKEN_FILE/],
    ['keys create without its flags', ['keys', 'create', '--token', 't'], /needs --name and --scope/],
    // Its command line is there for every user to read with ps, for as long as it runs.
    ['the agent given its secret on the command line', ['agent', '--token', 't'], /the agent takes no --token: .* pass --token-file \(or LIFELINE_TOKEN_FILE\), or set LIFELINE_TOKEN/],
    // Retrying cannot fix these: the agent looped on "cannot reach …: ERR_INVALID_URL" for good.
    ['an engine URL without its scheme', ['agent', '--url', '127.0.0.1:18713'], /--url must be an http or https URL, got "127\.0\.0\.1:18713" \(did you mean http:\/\/127\.0\.0\.1:18713\?\)/],
    // A busy host warned on load at once, with no way to change or drop the check.
    ['a check the agent does not have', ['agent', '--checks', 'cpu'], /--checks must be a comma-separated list of disk, memory, load, or none; "cpu" is no check/],
    ['load limits the wrong way round', ['agent', '--load-per-core', '4:2'], /--load-per-core warn must be below fail .*got "4:2"/],
    ['free-space limits the wrong way round', ['agent', '--disk-free', '5:10'], /--disk-free warn must be above fail .*got "5:10"/],
    ['a limit that is not WARN:FAIL', ['agent', '--memory-free', '10'], /--memory-free must be WARN:FAIL, two numbers such as 10:5, got "10"/],
    ['limits for a check not sent', ['agent', '--checks', 'disk', '--load-per-core', '4:8'], /--load-per-core has no effect without load in --checks/],
    ['an engine URL read as a scheme', ['nodes', 'list', '--url', 'localhost:8080', '--token', 't'], /--url must be an http or https URL, got "localhost:8080"/],
    ['a token pasted with curly quotes', ['nodes', 'list', '--token', '\u201cllk_x\u201d'], /--token holds "\u201c" \(U\+201C\) at character 1, which no token has/],
    ['an engine URL on a port fetch refuses', ['nodes', 'list', '--url', 'http://127.0.0.1:1', '--token', 't'], /http:\/\/127\.0\.0\.1:1 has a port fetch never connects to \(bad port\)/],
    ['a token holding a control character', ['nodes', 'list', '--token', 'llk_\tx'], /--token holds \(U\+0009\) at character 5, which no token has/],
    ['a token file that cannot be read', ['nodes', 'list', '--token-file', '/nonexistent/token'], /cannot read the token file \/nonexistent\/token \(ENOENT\)/],
  ];
  for (const [what, argv, message] of usageErrors) {
    it(`exits 2 with usage on stderr for ${what}`, async () => {
      const r = await cli(argv);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Usage: lifeline/);
    });
  }

  it('refuses a token file holding what no token has, before any request (the agent retried it for good)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'llk_\u200bx\n');
    try {
      const r = await cli(['agent', '--token-file', file]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`the token file ${file} holds \\(U\\+200B\\) at character 5`));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('stops the agent with exit 2 on an engine URL whose port fetch refuses (it retried it for good)', async () => {
    const r = await cli(['agent', '--url', 'http://127.0.0.1:1'], { LIFELINE_TOKEN: 't' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^lifeline: http:\/\/127\.0\.0\.1:1 has a port fetch never connects to \(bad port\)/);
  });

  it('sends a token as fetch can (Latin-1, around spaces trimmed) rather than refusing one that worked', async () => {
    const engine = await recordingEngine({ items: [], next_cursor: null });
    try {
      for (const [token, sent] of [[' llk_x \n', 'llk_x'], ['pass word\u00e9', 'pass word\u00e9']] as const) {
        const r = await cli(['nodes', 'list'], { ...engine.env, LIFELINE_TOKEN: token });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(engine.seen.at(-1)!.authorization, `Bearer ${sent}`);
      }
    } finally {
      await engine.close();
    }
  });

  it('exits 3, not as for an answer saying no, with one readable line when the engine cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await cli(['nodes', 'list'], { LIFELINE_URL: url, LIFELINE_TOKEN: 't' });
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `error: cannot reach ${url}: ECONNREFUSED\n`);
  });

  it('takes --token and --url over the environment, and of two flags or two variables the file', async () => {
    const engine = await recordingEngine({ items: [], next_cursor: null });
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'from-file\n');
    const elsewhere = `http://127.0.0.1:${await closedPort()}`;
    const sent = async (argv: string[], env: Record<string, string>) => {
      const r = await cli(['nodes', 'list', ...argv], env);
      assert.equal(r.code, 0, r.stderr);
      return engine.seen.at(-1)!.authorization;
    };
    try {
      const url = engine.env.LIFELINE_URL;
      assert.equal(await sent(['--token', 'flag'], { LIFELINE_URL: url, LIFELINE_TOKEN_FILE: file }), 'Bearer flag');
      assert.equal(await sent(['--token', 'flag'], { LIFELINE_URL: url, LIFELINE_TOKEN: 'env' }), 'Bearer flag');
      assert.equal(await sent(['--token-file', file], { LIFELINE_URL: url, LIFELINE_TOKEN: 'env' }), 'Bearer from-file');
      assert.equal(await sent(['--token-file', file, '--token', 'flag'], { LIFELINE_URL: url }), 'Bearer from-file');
      assert.equal(await sent([], { LIFELINE_URL: url, LIFELINE_TOKEN_FILE: file, LIFELINE_TOKEN: 'env' }), 'Bearer from-file');
      assert.equal(await sent(['--url', url], { LIFELINE_URL: elsewhere, LIFELINE_TOKEN: 'env' }), 'Bearer env');
      // An empty variable is unset: no "cannot read the token file" for LIFELINE_TOKEN_FILE=.
      assert.equal(await sent([], { LIFELINE_URL: url, LIFELINE_TOKEN_FILE: '', LIFELINE_TOKEN: 'env' }), 'Bearer env');
    } finally {
      rmSync(dir, { recursive: true });
      await engine.close();
    }
  });

  it('reports one node over a custom period, or the fleet filtered by a label, with no node named', async () => {
    const period = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' };
    const seconds = { healthy: 2_500_000, degraded: 0, down: 92_000, maintenance: 0, unknown: 0 };
    const single = await recordingEngine({ node_id: 'n1', ...period, uptime_ratio: 0.9645, up_seconds: 2_500_000, monitored_seconds: 2_592_000, seconds });
    try {
      const r = await cli(['uptime', 'api-1', '--from', period.from, '--to', period.to], single.env);
      assert.equal(r.code, 0, r.stderr);
      const url = single.seen[0]!.url;
      assert.deepEqual([url.pathname, url.searchParams.get('from'), url.searchParams.get('to'), url.searchParams.has('window')], ['/v1/nodes/api-1/uptime', period.from, period.to, false]);
      assert.match(r.stdout, /^api-1 from 2026-11-01 00:00:00Z to 2026-12-01 00:00:00Z: 96\.450% up/);
      const both = await cli(['uptime', 'api-1', '--label', 'role=web'], single.env);
      assert.deepEqual([both.code, both.stderr.split('\n')[0]], [2, 'lifeline: --label selects nodes for the fleet report: leave out <node>, or drop --label']);
      const cut = await cli(['uptime', 'api-1', '--limit', '5'], single.env);
      assert.deepEqual([cut.code, cut.stderr.split('\n')[0]], [2, 'lifeline: --limit cuts nodes for the fleet report: leave out <node>, or drop --limit']);
    } finally {
      await single.close();
    }
    const items = [
      { node_id: 'n1', name: 'api-1', uptime_ratio: 0.5, seconds: { ...seconds, healthy: 1800, down: 1800 } },
      { node_id: 'n2', name: 'api-2', uptime_ratio: null, seconds: { ...seconds, healthy: 0, down: 0, unknown: 3600 } },
    ];
    const fleet = await recordingEngine({ ...period, uptime_ratio: 0.5, items, next_cursor: null });
    try {
      const r = await cli(['uptime', '--label', 'role=api', '--window', '7d'], fleet.env);
      assert.equal(r.code, 0, r.stderr);
      const url = fleet.seen[0]!.url;
      assert.deepEqual([url.pathname, url.searchParams.get('label'), url.searchParams.get('window')], ['/v1/uptime', 'role:api', '7d']);
      const lines = r.stdout.split('\n');
      assert.equal(lines[0], 'fleet (role=api) over 7d (2026-11-01 00:00:00Z to 2026-12-01 00:00:00Z): 50.000% up over 2 nodes');
      assert.match(lines[2]!, /^NAME +UPTIME +DEGRADED +DOWN +MAINTENANCE +UNKNOWN$/);
      assert.match(lines[3]!, /^api-1 +50\.000% +0s +30m +0s +0s$/);
      assert.match(lines[4]!, /^api-2 +n\/a +0s +0s +0s +1h$/);
      const json = JSON.parse((await cli(['uptime', '--json'], fleet.env)).stdout);
      assert.deepEqual([json.uptime_ratio, json.items.length], [0.5, 2]);
      assert.equal(fleet.seen.at(-1)!.url.searchParams.get('window'), '30d');
    } finally {
      await fleet.close();
    }
    // Cut by --limit, the heading does not call the whole selection's ratio that of the nodes listed.
    const first = await recordingEngine({ ...period, uptime_ratio: 0.9, items: items.slice(0, 1), next_cursor: 'more' });
    try {
      const r = await cli(['uptime', '--limit', '1'], first.env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.split('\n')[0]!, /: 90\.000% up$/);
    } finally {
      await first.close();
    }
  });

  it('prints the CSV report as the API wrote it with --csv, every node in one request', async () => {
    const csv = "node_id,name,uptime_ratio\r\nn1,'-a,0.5\r\n";
    const seen: URL[] = [];
    const engine = await stubEngine((req, res) => {
      seen.push(new URL(req.url!, 'http://engine.test'));
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8; header=present' }).end(csv);
    });
    try {
      const r = await cli(['uptime', '--csv', '--label', 'role=api', '--window', '7d'], engine.env);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, csv, '']);
      assert.deepEqual([seen[0]!.pathname, seen[0]!.searchParams.get('format'), seen[0]!.searchParams.get('label'), seen[0]!.searchParams.has('limit')], ['/v1/uptime', 'csv', 'role:api', false]);
      const node = await cli(['uptime', 'api-1', '--csv'], engine.env);
      assert.deepEqual([node.stdout, seen[1]!.pathname, seen[1]!.searchParams.get('format')], [csv, '/v1/nodes/api-1/uptime', 'csv']);
      for (const argv of [['uptime', '--csv', '--json'], ['uptime', '--csv', '--limit', '5']]) assert.equal((await cli(argv, engine.env)).code, 2, argv.join(' '));
    } finally {
      await engine.close();
    }
  });

  it('prints an error under --json as one JSON object on stderr, in the API error shape, with a distinct exit code', async () => {
    const refusal = { error: { code: 'not_found', message: 'No node "web-9".' } };
    const engine = await recordingEngine(refusal, 404);
    try {
      const r = await cli(['uptime', 'web-9', '--json'], engine.env);
      assert.deepEqual([r.code, r.stdout, JSON.parse(r.stderr)], [1, '', { error: { ...refusal.error, status: 404 } }]);
      assert.equal(r.stderr.split('\n').length, 2, 'one line');
      const text = await cli(['uptime', 'web-9'], engine.env);
      assert.deepEqual([text.code, text.stderr], [1, 'error: No node "web-9". (not_found, HTTP 404)\n']);
    } finally {
      await engine.close();
    }
    const url = `http://127.0.0.1:${await closedPort()}`;
    const away = await cli(['nodes', 'list', '--json'], { LIFELINE_URL: url, LIFELINE_TOKEN: 't' });
    assert.deepEqual([away.code, JSON.parse(away.stderr)], [3, { error: { code: 'unreachable', message: `cannot reach ${url}: ECONNREFUSED` } }]);
    for (const argv of [['nodes', 'list', '--json'], ['nodes', 'list', '--json', '--bogus'], ['nodse', 'list', '--json']]) {
      const usage = await cli(argv);
      assert.equal(usage.code, 2, argv.join(' '));
      assert.equal(JSON.parse(usage.stderr).error.code, 'usage', argv.join(' '));
      assert.doesNotMatch(usage.stderr, /Usage: lifeline/);
    }
  });

  it('exits 3, as the agent retries them, for an answer saying try later: a 503, a proxy\'s HTML 502, a 429', async () => {
    const unavailable = { error: { code: 'unavailable', message: 'Shutting down.' } };
    const answers: Array<[number, string, string]> = [
      [503, 'application/json', JSON.stringify(unavailable)],
      [502, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>'],
      [429, 'application/json', JSON.stringify({ error: { code: 'rate_limited', message: 'Slow down.' } })],
    ];
    let answer = answers[0]!;
    const engine = await stubEngine((_req, res) => void res.writeHead(answer[0], { 'content-type': answer[1] }).end(answer[2]));
    try {
      const r = await cli(['nodes', 'list', '--json'], engine.env);
      assert.deepEqual([r.code, JSON.parse(r.stderr)], [3, { error: { ...unavailable.error, status: 503 } }]);
      answer = answers[1]!;
      const proxy = await cli(['nodes', 'list', '--json'], engine.env);
      assert.deepEqual([proxy.code, JSON.parse(proxy.stderr)], [3, { error: { code: 'http_502', message: 'HTTP 502 Bad Gateway', status: 502 } }]);
      const text = await cli(['nodes', 'list'], engine.env);
      assert.deepEqual([text.code, text.stderr], [3, 'error: HTTP 502 Bad Gateway (http_502, HTTP 502)\n']);
      answer = answers[2]!;
      assert.equal((await cli(['nodes', 'list'], engine.env)).code, 3);
    } finally {
      await engine.close();
    }
  });

  it('exits 3 for a 409 with Retry-After (the first request under the key still in flight), 1 for a 409 without', async () => {
    const conflict = JSON.stringify({ error: { code: 'conflict', message: 'A request with this Idempotency-Key is still being answered; retry it in a moment.' } });
    let retryAfter = true;
    const engine = await stubEngine((_req, res) => void res.writeHead(409, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': '1' } : {}) }).end(conflict));
    try {
      const args = ['maintenance', 'start', 'web-1', '--for', '30m', '--idempotency-key', 'run-7-1-web'];
      const inFlight = await cli(args, engine.env);
      assert.deepEqual([inFlight.code, inFlight.stdout], [3, ''], inFlight.stderr);
      retryAfter = false;
      assert.equal((await cli(args, engine.env)).code, 1);
    } finally {
      await engine.close();
    }
  });

  it('sends maintenance start --for under a key as a duration, the same bytes on every run, and fails once the replayed window is over', async () => {
    const window = { id: 'a0000000-0000-4000-8000-000000000001', node_ids: [], labels: {}, starts_at: '2026-12-07T10:00:00.000Z', reason: null, time_zone: null, created_at: '2026-12-07T10:00:00.000Z' };
    let ended = false;
    const posts: string[] = [];
    const engine = await stubEngine((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        const json = { 'content-type': 'application/json' };
        if (req.method === 'GET') {
          const over = { ...window, ends_at: ended ? '2026-12-07T10:05:00.000Z' : '2026-12-07T10:30:00.000Z', active: !ended };
          return void res.writeHead(200, json).end(JSON.stringify(over));
        }
        posts.push(body);
        // As the engine answers a key seen before: the first answer, as it was then.
        const replayed = posts.length > 1 ? { 'idempotent-replayed': 'true' } : {};
        res.writeHead(201, { ...json, ...replayed }).end(JSON.stringify({ ...window, ends_at: '2026-12-07T10:30:00.000Z', active: true }));
      });
    });
    try {
      const args = ['maintenance', 'start', 'web-1', '--for', '30m', '--reason', 'deploy', '--idempotency-key', 'run-7-1-web'];
      const first = await cli(args, engine.env);
      const again = await cli(args, engine.env);
      assert.deepEqual([first.code, first.stdout, again.code, again.stdout], [0, `${window.id}\n`, 0, `${window.id}\n`], again.stderr);
      assert.deepEqual(JSON.parse(posts[0]!), { node_ids: ['web-1'], labels: {}, duration_seconds: 1800, reason: 'deploy' });
      assert.equal(posts[1], posts[0]);

      // Open-ended under another key, as the first runs sent it too: ended since, its replay is refused.
      const open = ['maintenance', 'start', 'web-1', '--idempotency-key', 'run-7-2-web'];
      assert.equal((await cli(open, engine.env)).code, 0);
      ended = true;
      const over = await cli(open, engine.env);
      assert.deepEqual([over.code, over.stdout], [1, '']);
      assert.match(over.stderr, /--idempotency-key "run-7-2-web" already opened window a0000000-0000-4000-8000-000000000001, which is over \(ended .*\): nothing was opened; use a new key/);
      const json = await cli([...open, '--json'], engine.env);
      assert.deepEqual([json.code, JSON.parse(json.stderr).error.code], [1, 'maintenance_over']);
    } finally {
      await engine.close();
    }
  });

  it('exits 3, not 4, when the answer breaks off after its headers', async () => {
    const engine = await stubEngine((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).write('{"items": [', () => req.socket.destroy());
    });
    try {
      const r = await cli(['nodes', 'list', '--json'], engine.env);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(JSON.parse(r.stderr).error.code, 'unreachable');
      assert.match(JSON.parse(r.stderr).error.message, new RegExp(`^${engine.env.LIFELINE_URL} broke off its answer: `));
    } finally {
      await engine.close();
    }
  });

  it('says no command was given for `help` with only flags (it said unknown command "")', async () => {
    const r = await cli(['help', '--json']);
    assert.deepEqual([r.code, JSON.parse(r.stderr)], [2, { error: { code: 'usage', message: 'no command given' } }]);
  });

  it('lists a job\'s runs by its name, newest first, as a table or the API\'s JSON', async () => {
    const runs = {
      items: [
        { started_at: '2026-12-07T03:00:00.000Z', finished_at: '2026-12-07T03:02:05.000Z', duration_ms: 125_000, exit_code: 3, status: 'failure', output: `${'x'.repeat(80)}\ndisk full\n` },
        { started_at: null, finished_at: '2026-12-06T03:00:01.000Z', duration_ms: null, exit_code: null, status: 'log', output: 'rotated' },
        // Colour codes cut, not stripped, showed as "ERROR [0m" and took the place of text.
        { started_at: null, finished_at: '2026-12-05T03:00:01.000Z', duration_ms: null, exit_code: 1, status: 'failure', output: `${'y'.repeat(70)}\x1b[31mERROR\x1b[0m\n` },
      ],
      next_cursor: null,
    };
    const engine = await recordingEngine(runs);
    try {
      const r = await cli(['runs', 'nightly backup'], engine.env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(engine.seen[0]!.url.pathname, '/v1/nodes/nightly%20backup/runs');
      const [head, failed, log, coloured] = r.stdout.trimEnd().split('\n');
      assert.match(head!, /^STARTED +FINISHED +TOOK +STATUS +EXIT +OUTPUT$/);
      assert.match(failed!, /^2026-12-07 03:00:00Z +2026-12-07 03:02:05Z +2m 5s +failure +3 +…x+ disk full$/);
      // The last 60 characters, as README and the console's runs have it.
      assert.equal(failed!.split('…')[1]!.length, 60);
      assert.match(log!, /^- +2026-12-06 03:00:01Z +log +rotated$/);
      assert.match(coloured!, /failure +1 +…y{55}ERROR$/);
      const json = await cli(['runs', 'nightly backup', '--json'], engine.env);
      assert.deepEqual(JSON.parse(json.stdout), runs);
    } finally {
      await engine.close();
    }
  });
});

describe('nodes apply', () => {
  const node = (name: string) => ({ id: `id-${name}`, name, labels: {} });
  /** An engine answering each PUT in turn with `replies`: a status and headers, or `drop` to close the connection unanswered. */
  async function applyEngine(replies: Array<[number, Record<string, string>] | 'drop'>) {
    const names: string[] = [];
    const engine = await stubEngine((req, res) => {
      const name = decodeURIComponent(req.url!.split('/').pop()!);
      const reply = replies[names.length];
      names.push(name);
      req.resume();
      req.on('end', () => {
        if (reply === undefined || reply === 'drop') return void req.socket.destroy();
        const [status, headers] = reply;
        const body = status >= 400 ? { error: { code: status === 409 ? 'conflict' : 'unavailable', message: `no ${name}` } } : { ...node(name), ...(status === 201 ? { token: `lln_${name}` } : {}) };
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      });
    });
    return { ...engine, names };
  }
  /** `nodes apply` of a file naming a, b, c and d, against `replies`. */
  async function applied(replies: Parameters<typeof applyEngine>[0], json: boolean) {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-apply-'));
    const engine = await applyEngine(replies);
    try {
      const file = join(dir, 'fleet.json');
      writeFileSync(file, JSON.stringify(['a', 'b', 'c', 'd'].map((name) => ({ name }))));
      return { ...(await cli(['nodes', 'apply', file, ...(json ? ['--json'] : [])], engine.env)), tried: engine.names };
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true });
    }
  }
  const created: [number, Record<string, string>] = [201, { 'lifeline-outcome': 'created' }];

  it('stops at an answer saying try later, exit 3, having printed what was applied with its token', async () => {
    const r = await applied([created, [503, {}], created], true);
    assert.deepEqual(r.tried, ['a', 'b'], 'nothing after the 503 was tried');
    assert.equal(r.code, 3);
    const results = JSON.parse(r.stdout) as Array<{ name: string; outcome: string; node?: { token?: string }; error?: { status: number } }>;
    assert.deepEqual(
      results.map((x) => [x.name, x.outcome, x.node?.token ?? x.error?.status]),
      [
        ['a', 'created', 'lln_a'],
        ['b', 'failed', 503],
      ],
    );
    assert.equal(JSON.parse(r.stderr).error.status, 503);
  });

  it('stops at a dropped connection, exit 3, having printed what was applied', async () => {
    const r = await applied([created, [200, { 'lifeline-outcome': 'unchanged' }], 'drop'], false);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^created +a +token lln_a /m);
    assert.match(r.stdout, /^unchanged +b$/m);
    assert.match(r.stdout, /^3 nodes: 1 created, 0 updated, 1 unchanged, 1 failed; stopped at c, 1 not tried$/m);
    assert.match(r.stderr, /^error: cannot reach /);
  });

  it('goes on past a refusal, exit 1, and does not call an answer without its outcome header unchanged', async () => {
    const r = await applied([[409, {}], [200, {}], [200, { 'lifeline-outcome': 'updated' }], created], false);
    assert.deepEqual(r.tried, ['a', 'b', 'c', 'd']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^failed +a: no a \(conflict, HTTP 409\)$/m);
    assert.match(r.stdout, /^applied +b$/m);
    assert.match(r.stdout, /^4 nodes: 1 created, 1 updated, 0 unchanged, 1 applied \(the answer did not say how\), 1 failed$/m);
  });
});
