// `npm start` on a machine with only Node: no DATABASE_URL, no REDIS_URL, no admin token, inside a
// network namespace of its own where nothing but loopback exists, so no Postgres or Redis of the
// test machine can be reached by accident. The file runs itself again inside `unshare --net` (as
// root); that inner run is the test, the outer one only reports what it said.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { layout } from '../../src/embedded/postgres.ts';
import { EngineProcess, ROOT, type LogLine } from '../helpers/engine-process.ts';
import { processesIn, useDataDir } from '../helpers/postgres-processes.ts';
import { until } from '../helpers/wait.ts';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const INSIDE = process.env.LIFELINE_TEST_NETNS === '1';
/** A first start creates the cluster and both schemas: seconds alone, a minute or more beside a busy test run. */
const FIRST_START_MS = 300_000;

/** Whether something accepts a TCP connection on 127.0.0.1:`port`. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

if (!INSIDE) {
  describe('npm start with only Node', () => {
    it('runs in a network namespace without Postgres or Redis', { skip: process.getuid?.() !== 0 ? 'unshare --net needs root' : false, timeout: 900_000 }, async () => {
      const self = fileURLToPath(import.meta.url);
      // Without the runner's own marker, which would make the inner runner refuse to run files.
      const { NODE_TEST_CONTEXT: _runner, ...env } = process.env;
      const child = spawn(
        'unshare',
        ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--import', 'tsx', '--test', '--test-reporter=spec', self],
        { cwd: ROOT, env: { ...env, LIFELINE_TEST_NETNS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0, out);
      assert.match(out, /ℹ pass 1\b/, out);
    });
  });
} else {
  // What a newcomer's shell has: none of these.
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'LIFELINE_ADMIN_TOKEN', 'LIFELINE_DATA_DIR', 'PORT', 'HOST', 'LIFELINE_PUBLIC_URL']) delete process.env[name];

  describe('npm start with only Node, in a network namespace without Postgres or Redis', () => {
    let hook: WebhookReceiver | undefined;
    const engines: EngineProcess[] = [];
    const data = useDataDir('lifeline-netns-', engines, 'SIGKILL');
    after(async () => {
      await hook?.close();
    });

    const start = () => {
      // PORT and HOST as a newcomer leaves them (8080 on every interface): nothing else listens in this namespace.
      const engine = EngineProcess.start({
        LIFELINE_DATA_DIR: data.dir(),
        LIFELINE_EVALUATOR_INTERVAL_MS: '250',
        // The receiver is on loopback, which outbound deliveries may be kept from.
        LIFELINE_OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8',
      });
      engines.push(engine);
      return engine;
    };
    const listening = async (engine: EngineProcess) => (await engine.waitFor((l) => l.msg.startsWith('lifeline listening'), FIRST_START_MS)).port as number;

    it('pages a signed webhook and resolves it once, stops with 0, keeps its data, and leaves no Postgres after SIGKILL', { timeout: 800_000 }, async () => {
      const dataDir = data.dir();
      assert.deepEqual([await answers(5432), await answers(6379)], [false, false], 'no Postgres or Redis is reachable here');
      const cluster = layout(dataDir).cluster;

      // --- First start: the log says how it runs, and how to get in.
      let engine = start();
      const port = await listening(engine);
      assert.match(engine.lines[0]!.msg, new RegExp(`^lifeline starting: embedded Postgres in ${dataDir}; notification queues on Postgres`));
      const firstRun = await engine.waitFor((l) => l.msg.startsWith('first run:'));
      const secretFile = join(dataDir, 'admin-secret');
      assert.equal(firstRun.file, secretFile);
      // Both lines say where to sign in with it: the console on this machine's default port.
      const consoleAt = 'http://localhost:8080/';
      const listened = await engine.waitFor((l) => l.msg.startsWith('lifeline listening'));
      assert.deepEqual([firstRun.console_url, listened.console_url], [consoleAt, consoleAt]);
      assert.match(firstRun.msg, /Sign in to the console at http:\/\/localhost:8080\/ with it/);
      assert.equal(listened.msg, `lifeline listening on port 8080: open the console at ${consoleAt}`);
      assert.equal((await fetch(consoleAt, { redirect: 'manual' })).headers.get('location'), '/sign-in?next=%2F');
      assert.equal((await stat(secretFile)).mode & 0o777, 0o600);
      const admin = (await readFile(secretFile, 'utf8')).trim();
      assert.ok(!engine.lines.some((l) => JSON.stringify(l).includes(admin)), 'the secret is never logged');
      const api = async (method: string, path: string, body?: unknown, token = admin) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
      };
      const ready = await api('GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.queue, 'postgres');

      // --- Another admin key, made beside the running engine in its embedded Postgres.
      const cli = spawn(process.execPath, ['bin/lifeline.mjs', 'admin', 'create-key', '--name', 'ops', '--json'], {
        cwd: ROOT,
        env: { ...process.env, LIFELINE_DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let made = '';
      cli.stdout.on('data', (d: Buffer) => (made += d));
      assert.equal((await once(cli, 'exit'))[0], 0);
      const ops = JSON.parse(made) as { secret: string; scope: string };
      assert.equal(ops.scope, 'admin');
      assert.equal((await api('GET', '/v1/api-keys', undefined, ops.secret)).status, 200);

      // --- A default policy paging a signed webhook (receiver in this namespace), and one node.
      const secret = generateWebhookSecret();
      hook = await startWebhookReceiver({ secret });
      const channel = await api('POST', '/v1/channels', { name: 'hook', type: 'webhook', config: { url: hook.url, secret } });
      assert.equal(channel.status, 201, JSON.stringify(channel.body));
      const policy = await api('POST', '/v1/escalation-policies', { name: 'default', is_default: true, levels: [{ after_seconds: 0, channel_ids: [channel.body.id] }] });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      const node = await api('POST', '/v1/nodes', { name: 'ns-1', heartbeat_interval_seconds: 3, failures_for_down: 2 });
      assert.equal(node.status, 201);
      const beat = async () => assert.equal((await api('POST', '/v1/heartbeats', { status: 'ok' }, node.body.token)).status, 202);

      // --- Down (silent for 3 s × 2 after one heartbeat), then up again.
      const of = (type: string) => (r: ReceivedRequest) => (JSON.parse(r.body) as { type: string }).type === type;
      await beat();
      const opened = await hook.waitFor(of('incident.opened'), FIRST_START_MS);
      await beat();
      const resolved = await hook.waitFor(of('incident.resolved'));
      assert.deepEqual([opened.verified, resolved.verified], [true, true], 'signed with the channel secret');
      const incidentId = (JSON.parse(opened.body) as { data: { incident: { id: string } } }).data.incident.id;
      // Once both deliveries are final, nothing else is on its way: each reached the receiver once.
      const deliveries = await until('both deliveries sent', async () => {
        const items = (await api('GET', `/v1/incidents/${incidentId}/deliveries`)).body.items as Array<{ event: string; status: string }>;
        return items.length === 2 && items.every((d) => d.status === 'sent') ? items.map((d) => d.event).sort() : undefined;
      });
      assert.deepEqual(deliveries, ['opened', 'resolved']);
      const forIncident = hook.requests.filter((r) => (JSON.parse(r.body) as { data: { incident: { id: string } } }).data.incident.id === incidentId);
      assert.deepEqual(forIncident.map((r) => (JSON.parse(r.body) as { type: string }).type), ['incident.opened', 'incident.resolved']);

      // --- SIGTERM: the engine and its Postgres are gone, exit 0.
      engine.kill('SIGTERM');
      assert.deepEqual(await engine.exited, { code: 0, signal: null });
      assert.deepEqual(await processesIn(cluster), [], 'no Postgres process left');
      const said = new Set(engine.lines.map((l: LogLine) => l.msg));
      assert.ok(said.has('embedded postgres stopped') && said.has('stopped'), 'stopped in order, Postgres after the engine');

      // --- Restart on the same data directory: the data is there, no second first-run key.
      engine = start();
      const again = await listening(engine);
      const restarted = await fetch(`http://127.0.0.1:${again}/v1/incidents/${incidentId}`, { headers: { authorization: `Bearer ${admin}` } });
      assert.equal(restarted.status, 200);
      assert.equal(((await restarted.json()) as { status: string }).status, 'resolved');
      assert.ok(!engine.lines.some((l) => l.msg.startsWith('first run:')));

      // --- SIGKILL: the kernel stops Postgres (parent-death signal), and the next start comes up.
      assert.ok((await processesIn(cluster)).length > 0);
      engine.kill('SIGKILL');
      await engine.exited;
      await until('no Postgres process left after SIGKILL', async () => (await processesIn(cluster)).length === 0);
      engine = start();
      await listening(engine);
      engine.kill('SIGTERM');
      assert.deepEqual(await engine.exited, { code: 0, signal: null });
      assert.deepEqual(await processesIn(cluster), []);
    });
  });
}
