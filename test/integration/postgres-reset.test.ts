import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureBootstrapAdmin } from '../../src/access/service.ts';
import { createSql, type Sql } from '../../src/db/client.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { ADMIN_TOKEN, buildApp, send, START } from '../helpers/app.ts';
import { ManualClock } from '../helpers/clock.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { postgresProxy } from '../helpers/postgres-proxy.ts';

// An api whose Postgres connections are reset under it (a balancer or NAT in between that dropped
// its state): every statement fails with ECONNRESET on the read. That is Postgres not answering,
// as a refused connect is: 503 `unavailable` with Retry-After, never 500 `internal`.
describe('requests while Postgres connections are reset', () => {
  let db: TestDatabase;
  let proxy: Awaited<ReturnType<typeof postgresProxy>>;
  let sql: Sql;
  before(async () => {
    db = await createTestDatabase();
    proxy = await postgresProxy();
    sql = createSql(proxy.via(db.url), { max: 2, applicationName: 'lifeline-test-reset' });
  });
  after(async () => {
    await sql.end({ timeout: 1 });
    await proxy.cut();
    await db.drop();
  });

  it('answers 503 unavailable with Retry-After, counting the refused heartbeat', async () => {
    const clock = new ManualClock(START);
    const { app, metrics } = buildApp({ sql, clock, buffer: new HeartbeatBuffer() });
    await ensureBootstrapAdmin(db.sql, ADMIN_TOKEN, clock.now());
    const created = await send(app, 'POST', '/v1/api-keys', { token: ADMIN_TOKEN, json: { name: 'agents', scope: 'ingest' } });
    assert.equal(created.status, 201);
    const { secret } = (await created.json()) as { secret: string };

    proxy.resetting(true);
    // A secret this process has not seen is looked up; an admin's list is read.
    const answers = [
      await send(app, 'POST', '/v1/heartbeats', { token: secret, json: { node: 'web-1', status: 'ok' } }),
      await send(app, 'GET', '/v1/nodes', { token: ADMIN_TOKEN }),
    ];
    for (const res of answers) {
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 503, JSON.stringify(body));
      assert.equal(body.error.code, 'unavailable');
      assert.equal(res.headers.get('retry-after'), '5');
    }
    const scrape = await metrics.registry.metrics();
    assert.match(scrape, /^lifeline_heartbeats_received_total\{result="rejected",reason="error"\} 1$/m);

    proxy.resetting(false);
    assert.equal((await send(app, 'GET', '/v1/nodes', { token: ADMIN_TOKEN })).status, 200, 'answers again once the connections are not reset');
  });
});
