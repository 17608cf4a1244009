import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { createSql } from '../../src/db/client.ts';
import { dropDatabases, freshDatabaseName, urlFor } from '../helpers/db.ts';
import { EngineProcess, engineEnv } from '../helpers/engine-process.ts';
import { startPrivateRedis } from '../helpers/redis-server.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';
import { until } from '../helpers/wait.ts';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;

function client(port: number) {
  const base = `http://127.0.0.1:${port}`;
  return async (method: string, path: string, body?: unknown, token = ADMIN) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).catch((err: Error) => {
      // fetch's own message is only "fetch failed"; what failed is in its cause.
      const cause = err.cause as { code?: string; message?: string } | undefined;
      throw new Error(`${method} ${base}${path}: ${err.message} (${cause?.code ?? ''} ${cause?.message ?? ''})`, { cause: err });
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
}

const dropAfter: string[] = [];
after(() => dropDatabases(dropAfter));

describe('the engine, started as a newcomer would', () => {
  it('npm start creates its database, and a node goes unknown → healthy → down → healthy on time', async () => {
    const dbName = freshDatabaseName();
    dropAfter.push(dbName);
    const engine = EngineProcess.start(engineEnv(dbName, ADMIN), ['npm', 'start', '--silent']);
    try {
      const port = await engine.listeningPort();
      // The line giving the port says where the console is: HOST=127.0.0.1 is the one address that answers.
      const listening = await engine.waitFor((l) => l.msg.startsWith('lifeline listening'));
      const consoleAt = `http://127.0.0.1:${port}/`;
      assert.equal(listening.console_url, consoleAt);
      assert.equal(listening.msg, `lifeline listening on port ${port}: open the console at ${consoleAt}`);
      const opened = await fetch(consoleAt, { redirect: 'manual' });
      assert.equal(opened.headers.get('location'), '/sign-in?next=%2F');
      const api = client(port);
      // Down 6 s after the last heartbeat: the engine must judge the first one before then, which
      // leaves it room on a busy machine (at 1 s × 2 a slow flush once made it unknown → down).
      const created = await api('POST', '/v1/nodes', { name: 'web-1', heartbeat_interval_seconds: 3, failures_for_down: 2 });
      assert.equal(created.status, 201);
      const token = created.body.token as string;
      const beat = async () => assert.equal((await api('POST', '/v1/heartbeats', { status: 'ok' }, token)).status, 202);
      // The transition log, newest first, once its newest entry is `version`: waiting on what was
      // recorded rather than on the live state, which a slow poll could miss between two transitions.
      const logged = (version: number) =>
        until(`transition #${version}`, async () => {
          const items = (await api('GET', '/v1/nodes/web-1/transitions')).body.items as Array<{ from: string; to: string; state_version: number }>;
          return (items[0]?.state_version ?? 0) >= version ? items.map((t) => `${t.from}->${t.to}#${t.state_version}`) : undefined;
        });

      await beat();
      assert.deepEqual(await logged(2), ['healthy->down#2', 'unknown->healthy#1']);
      // Down lasts until the next heartbeat, so the state read now is the one the evaluator wrote.
      const down = (await api('GET', '/v1/nodes/web-1')).body.health;
      assert.equal(down.state, 'down');
      // Stamped at the deadline: last heartbeat + 3 s × 2, not when the evaluator noticed.
      assert.equal(new Date(down.since).getTime() - new Date(down.last_heartbeat_at).getTime(), 6000);
      // Once back, the node must stay healthy for the rest of the test however long it takes: an
      // hour-long interval, set while it is down (the patch alone changes nothing: no new heartbeat).
      assert.equal((await api('PATCH', '/v1/nodes/web-1', { heartbeat_interval_seconds: 3600 })).status, 200);
      await beat();
      assert.deepEqual(await logged(3), ['down->healthy#3', 'healthy->down#2', 'unknown->healthy#1']);

      // The pending gauge is read every few seconds, so it can say 0 from before the third event was
      // written: wait for the three transitions' events themselves to be counted as handled.
      const metrics = await until('the three transitions handled by the outbox', async () => {
        const text = (await api('GET', '/metrics')).body as string;
        return /^lifeline_outbox_events_total\{type="node.state_changed",result="handled"\} 3$/m.test(text) ? text : undefined;
      });
      assert.match(metrics, /^lifeline_state_transitions_total\{from="healthy",to="down"\} 1$/m);
      assert.match(metrics, /^lifeline_nodes\{state="healthy"\} 1$/m);
      assert.match(metrics, /^lifeline_evaluator_leader 1$/m);
    } finally {
      // Like Ctrl-C in a terminal: the whole process group gets the signal.
      engine.kill('SIGINT');
      await engine.exited;
    }
    assert.ok(engine.lines.some((l) => l.msg === 'stopped'), 'stopped gracefully');
  });

  it('two engines starting at once on an empty database both come up, one leads, both stop with 0 inside their stop deadline', async () => {
    const dbName = freshDatabaseName();
    dropAfter.push(dbName);
    const env = engineEnv(dbName, ADMIN);
    const engines = [EngineProcess.start(env), EngineProcess.start(env)];
    try {
      const ports = await Promise.all(engines.map((e) => e.listeningPort()));
      const leaders = await until('a leader', async () => {
        const texts = await Promise.all(ports.map(async (p) => (await client(p)('GET', '/metrics')).body as string));
        const flags = texts.map((t) => Number(/^lifeline_evaluator_leader (\d)$/m.exec(t)?.[1]));
        return flags.includes(1) ? flags : undefined;
      });
      assert.deepEqual([...leaders].sort(), [0, 1]);
      for (const p of ports) assert.equal((await client(p)('GET', '/readyz')).status, 200);
      const created = await client(ports[0]!)('POST', '/v1/nodes', { name: 'db-1' });
      assert.equal(created.status, 201);
      assert.equal((await client(ports[1]!)('GET', '/v1/nodes/db-1')).status, 200);
    } finally {
      for (const e of engines) e.kill('SIGTERM');
      const codes = (await Promise.all(engines.map((e) => e.exited))).map((x) => x.code);
      // An engine still stopping at its own deadline (9 s, inside an orchestrator's 10 s) says so
      // and exits 1: the deadline is measured by the engine, not by how busy this machine is. Any
      // other exit says why in its last lines, quoted here: this failure replaces one thrown above
      // (an engine that died while starting fails listeningPort first).
      const why = engines.map((e, i) => (codes[i] === 0 ? '' : `engine ${i}: ${e.said()}`)).filter(Boolean);
      assert.deepEqual(codes, [0, 0], `exit codes ${JSON.stringify(codes)}\n${why.join('\n')}`);
      for (const e of engines) assert.ok(e.lines.some((l) => l.msg === 'stopped'), 'stopped gracefully');
    }
  });

  it('keeps the promise of a 202: heartbeats still buffered at SIGTERM are written before exit', async () => {
    const dbName = freshDatabaseName();
    dropAfter.push(dbName);
    // A flush interval far longer than the test: only the shutdown flush can write the heartbeat.
    const engine = EngineProcess.start(engineEnv(dbName, ADMIN, { LIFELINE_INGEST_FLUSH_MS: '10000' }));
    const api = client(await engine.listeningPort());
    const created = await api('POST', '/v1/nodes', { name: 'last-words' });
    assert.equal((await api('POST', '/v1/heartbeats', { status: 'degraded', seq: 42 }, created.body.token)).status, 202);
    engine.kill('SIGTERM');
    assert.equal((await engine.exited).code, 0);
    const sql = createSql(urlFor(dbName), { dedicated: true });
    const [row] = await sql`select last_status, last_seq::int as seq from node_heartbeats where node_id = ${created.body.id}`;
    await sql.end();
    assert.deepEqual([row!.last_status, row!.seq], ['degraded', 42]);
  });

  it('says once which store its queues are on; with Redis dead, SIGTERM stops it with 0 inside its deadline, and the next start sends what it could not', async () => {
    const dbName = freshDatabaseName();
    dropAfter.push(dbName);
    const [redis, hook] = await Promise.all([startPrivateRedis(), startWebhookReceiver()]);
    // Both engines share the database and the queue prefix, as a restarted engine does.
    const env = engineEnv(dbName, ADMIN, { REDIS_URL: redis.url });
    const first = EngineProcess.start(env);
    let second: EngineProcess | undefined;
    try {
      const api = client(await first.listeningPort());
      // Every line that names the queues' store, by its words or a field, up to listening.
      const said = first.lines.filter((l) => /notification queues/.test(l.msg) || 'queues' in l || 'queue_backend' in l);
      assert.equal(said.length, 1, JSON.stringify(said));
      assert.match(said[0]!.msg, /^lifeline starting: external Postgres at .*; notification queues on Redis at redis:\/\/127\.0\.0\.1:\d+/);
      assert.equal(said[0]!.queues, 'redis');

      const channel = await api('POST', '/v1/channels', { name: 'hook', type: 'webhook', config: { url: hook.url } });
      assert.equal(channel.status, 201);
      assert.equal((await api('POST', '/v1/escalation-policies', { name: 'default', levels: [{ after_seconds: 0, channel_ids: [channel.body.id] }], is_default: true })).status, 201);
      const node = await api('POST', '/v1/nodes', { name: 'cache-1', heartbeat_interval_seconds: 1, failures_for_down: 1 });
      assert.equal(node.status, 201);

      // Redis goes away under the queue producer, the notifier's worker and their connections;
      // then the node goes down, and its page reaches the ledger but not the queue.
      await redis.stop();
      await first.waitFor((l) => /^Redis does not answer/.test(l.msg));
      assert.equal((await api('POST', '/v1/heartbeats', { status: 'ok' }, node.body.token)).status, 202);
      const incident = await until('an incident', async () => (await api('GET', `/v1/incidents?node_id=${node.body.id}`)).body.items[0] as { id: string } | undefined);
      const pages = (from: typeof api) => from('GET', `/v1/incidents/${incident.id}/deliveries`).then((r) => r.body.items as Array<{ status: string }>);
      const ledger = await until('the page in the ledger', async () => ((await pages(api)).length ? pages(api) : undefined));
      assert.deepEqual(ledger.map((d) => d.status), ['pending']);

      first.kill('SIGTERM');
      // An engine still stopping at its own deadline (13 s) exits 1 and says so: a 0 with
      // `stopped` is a stop inside the deadline, measured by the engine, not by this machine's load.
      assert.equal((await first.exited).code, 0, first.said());
      assert.ok(first.lines.some((l) => l.msg === 'stopped'), 'stopped gracefully');
      assert.equal(hook.requests.length, 0, 'nothing was sent while Redis was away');

      // Redis comes back empty: the next engine finds the page in the ledger and sends it.
      await redis.start();
      second = EngineProcess.start(env);
      const next = client(await second.listeningPort());
      const opened = await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.opened');
      assert.equal(JSON.parse(opened.body).data.incident.id, incident.id);
      await until('the page marked sent', async () => ((await pages(next)).every((d) => d.status === 'sent') ? true : undefined));
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGTERM');
      await second?.exited;
      await Promise.all([redis.stop(), hook.close()]);
    }
  });

  it('refuses to start on a bad variable with one line naming it', async () => {
    const engine = EngineProcess.start({ LIFELINE_EVALUATOR_INTERVAL_MS: 'soon' });
    const { code } = await engine.exited;
    assert.equal(code, 1);
    assert.deepEqual(engine.stderr, ['lifeline: invalid configuration: LIFELINE_EVALUATOR_INTERVAL_MS: must be an integer, got "soon"']);
  });

  /** The engine's fatal lines once it exited 1 (none of them with a stack). */
  async function fatalLines(engine: EngineProcess): Promise<string[]> {
    assert.equal((await engine.exited).code, 1, engine.said());
    const fatal = engine.lines.filter((l) => l.level === 60);
    assert.ok(fatal.every((l) => !('err' in l)), 'no stack');
    return fatal.map((l) => l.msg);
  }

  it('a HOST that is not an address of this host stops the start with one line naming it; an api without LIFELINE_PUBLIC_URL says what that leaves out', async () => {
    const dbName = freshDatabaseName();
    dropAfter.push(dbName);
    // 192.0.2.1 is set aside for documentation (RFC 5737): no host has it.
    const engine = EngineProcess.start(engineEnv(dbName, ADMIN, { HOST: '192.0.2.1', LIFELINE_ROLES: 'api' }));
    assert.deepEqual(await fatalLines(engine), [
      'lifeline could not start: HOST: cannot listen on 192.0.2.1:0: EADDRNOTAVAIL (not an address of this host, or a name that does not resolve)',
    ]);
    assert.ok(engine.lines.some((l) => l.level === 40 && l.msg === 'LIFELINE_PUBLIC_URL is not set: nodes have no ping_url'), JSON.stringify(engine.lines));
  });

  it('a PORT another process listens on stops the start with one line naming it', async () => {
    const dbName = freshDatabaseName();
    dropAfter.push(dbName);
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as AddressInfo).port;
    try {
      const engine = EngineProcess.start(engineEnv(dbName, ADMIN, { PORT: String(port) }));
      assert.deepEqual(await fatalLines(engine), [`lifeline could not start: PORT: 127.0.0.1:${port} is in use by another process`]);
    } finally {
      taken.close();
    }
  });

  it('a DATABASE_URL nothing answers at stops the start with one line naming it and what failed, no stack', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    server.close(); // a port nothing listens on now
    const engine = EngineProcess.start({ DATABASE_URL: `postgres://lifeline:hunter2@127.0.0.1:${port}/lifeline`, LIFELINE_ADMIN_TOKEN: ADMIN });
    assert.equal((await engine.exited).code, 1);
    const fatal = engine.lines.filter((l) => l.level === 60);
    assert.deepEqual(
      fatal.map((l) => l.msg),
      [
        `lifeline could not start: DATABASE_URL: cannot use postgres://lifeline:***@127.0.0.1:${port}/lifeline: connection refused (no Postgres listens at that host and port); fix it, or unset it to run the embedded Postgres`,
      ],
    );
    assert.ok(!('err' in fatal[0]!), 'no stack');
    assert.deepEqual(engine.stderr, []);
  });
});
