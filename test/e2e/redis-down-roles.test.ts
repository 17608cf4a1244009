import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { queueStoreDown } from '../../src/http/app.ts';
import { dropDatabases, freshDatabaseName } from '../helpers/db.ts';
import { EngineProcess, engineEnv } from '../helpers/engine-process.ts';
import { freePort } from '../helpers/redis-server.ts';

// A self-hoster scaling out: REDIS_URL with a bare password, and Redis down. Only the notifier
// stops being ready; the api keeps its place behind the load balancer; the password is never logged.
describe('Redis down, by role', () => {
  const database = freshDatabaseName();
  const engines: EngineProcess[] = [];
  after(async () => {
    for (const e of engines) e.kill('SIGTERM');
    await Promise.all(engines.map((e) => e.exited));
    await dropDatabases([database]);
  });

  it('leaves an api ready with a warning, takes a notifier out, and never logs the password', async () => {
    // Nothing listens there: a Redis that is down.
    const redisUrl = `redis://:redispw@127.0.0.1:${await freePort()}/8`;
    const admin = `admin-${randomBytes(12).toString('hex')}`;
    const start = (roles: string) => {
      const e = EngineProcess.start(engineEnv(database, admin, { REDIS_URL: redisUrl, LIFELINE_ROLES: roles, LIFELINE_QUEUE_PREFIX: 'lifeline-e2e-redis-down' }));
      engines.push(e);
      return e;
    };
    const api = start('api');
    const apiPort = await api.listeningPort();
    const notifier = start('notifier');
    const notifierPort = await notifier.listeningPort();
    for (const e of [api, notifier]) await e.waitFor((l) => l.msg.startsWith('Redis does not answer'));

    const ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
    const body = (await ready.json()) as { status: string; warnings?: string[] };
    assert.equal(ready.status, 200, JSON.stringify(body));
    assert.equal(body.warnings?.[0], queueStoreDown('redis'));
    // It still takes heartbeats.
    const node = await fetch(`http://127.0.0.1:${apiPort}/v1/nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'web-1', heartbeat_interval_seconds: 30 }),
    });
    const { token } = (await node.json()) as { token: string };
    const beat = await fetch(`http://127.0.0.1:${apiPort}/v1/heartbeats`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'ok' }),
    });
    assert.equal(beat.status, 202);

    const down = await fetch(`http://127.0.0.1:${notifierPort}/readyz`);
    assert.deepEqual([down.status, await down.json()], [503, { status: 'unavailable', queue: 'redis', down: ['redis'] }]);

    // The notifier's sweeper fails every pass while Redis is down: one warning for the outage, no error with a stack.
    const sweeper = await notifier.waitFor((l) => l.loop === 'delivery-sweeper');
    assert.equal(sweeper.level, 40, JSON.stringify(sweeper));
    assert.deepEqual(notifier.lines.filter((l) => (l.level as number) >= 50), []);

    const said = JSON.stringify([...api.lines, ...notifier.lines]) + api.stderr.join('\n') + notifier.stderr.join('\n');
    assert.ok(!said.includes('redispw'), 'the Redis password was logged');
    assert.match(said, /redis:\/\/:\*\*\*@127\.0\.0\.1/);
  });
});
