import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { dropDatabases, freshDatabaseName, urlFor } from '../helpers/db.ts';
import { EngineProcess, engineEnv } from '../helpers/engine-process.ts';
import { postgresProxy } from '../helpers/postgres-proxy.ts';
import { until } from '../helpers/wait.ts';

// Postgres unreachable from an api: a heartbeat must not hang and then 500, nor get a 202 that only
// this process's memory holds. It gets a prompt 503 with Retry-After, in the error shape.
describe('heartbeats while Postgres does not answer', () => {
  const database = freshDatabaseName();
  let engine: EngineProcess | undefined;
  after(async () => {
    engine?.kill('SIGKILL');
    if (engine) await engine.exited;
    await dropDatabases([database]);
  });

  it('answers 503 with Retry-After, for a known token and an unknown one, instead of hanging and 500; stores what it buffered once Postgres is back', async () => {
    const proxy = await postgresProxy();
    const admin = `admin-${randomBytes(12).toString('hex')}`;
    engine = EngineProcess.start({ ...engineEnv(database, admin, { LIFELINE_ROLES: 'api' }), DATABASE_URL: proxy.via(urlFor(database)) });
    const base = `http://127.0.0.1:${await engine.listeningPort()}`;
    const post = (path: string, token: string, body: unknown) =>
      fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const node = (await (await post('/v1/nodes', admin, { name: 'web-1', heartbeat_interval_seconds: 30 })).json()) as { id: string; token: string };
    // Another node's heartbeats tell when Postgres takes writes again, without storing one of web-1's.
    const probe = (await (await post('/v1/nodes', admin, { name: 'web-3', heartbeat_interval_seconds: 30 })).json()) as { token: string };
    assert.equal((await post('/v1/heartbeats', probe.token, { status: 'ok' })).status, 202);
    const ingest = (await (await post('/v1/api-keys', admin, { name: 'agents', scope: 'ingest' })).json()) as { secret: string };
    assert.ok(ingest.secret, JSON.stringify(ingest));
    assert.equal((await post('/v1/heartbeats', node.token, { status: 'ok' })).status, 202);

    await proxy.cut();
    // A token this process knows: taken without a query, so it is refused once a flush has found
    // Postgres gone (within one flush interval); until then its heartbeat is still buffered.
    // Each 202 meanwhile is a heartbeat buffered while Postgres is away.
    let bufferedSince: Date | undefined;
    const known = await until('a known token to be refused', async () => {
      const sent = new Date();
      const res = await post('/v1/heartbeats', node.token, { status: 'ok' });
      if (res.status !== 202) return res;
      bufferedSince = sent;
      return undefined;
    });
    // A secret this process has not seen: its lookup fails at once.
    const unknown = await post('/v1/heartbeats', ingest.secret, { node: 'web-2', status: 'ok' });
    for (const res of [known, unknown]) {
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 503, JSON.stringify(body));
      assert.equal(body.error.code, 'unavailable');
      assert.match(body.error.message, /Postgres/);
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'no Retry-After');
    }
    assert.ok(bufferedSince, 'no heartbeat was taken between the cut and the refusal');

    await proxy.reopen();
    // A 202 again means a flush reached Postgres, and that flush wrote what was buffered.
    await until('heartbeats to be taken again', async () => (await post('/v1/heartbeats', probe.token, { status: 'ok' })).status === 202);
    const stored = (await (await fetch(`${base}/v1/nodes/${node.id}`, { headers: { authorization: `Bearer ${admin}` } })).json()) as {
      health: { last_heartbeat_at: string | null };
    };
    const last = stored.health.last_heartbeat_at;
    assert.ok(last && new Date(last) >= bufferedSince, JSON.stringify(stored));
  });
});
