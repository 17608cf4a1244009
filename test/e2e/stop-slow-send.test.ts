import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { createSql } from '../../src/db/client.ts';
import { dropDatabases, freshDatabaseName, urlFor } from '../helpers/db.ts';
import { EngineProcess, callEngine, engineEnv } from '../helpers/engine-process.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const dbName = freshDatabaseName();

after(() => dropDatabases([dbName]));

// How long the receiver takes to answer once the engine is told to stop: slower than the 5 s its
// parts used to get (9 s, less 2 s for an embedded Postgres it does not run and 2 s for its pool),
// inside the 10 s a send may take. This is the receiver being slow, the scene itself: every outcome
// below is waited for as an event (the exit, the answer, the ledger's row).
const SLOW_ANSWER_MS = 7_000;

describe('a notifier stopped during a slow send', () => {
  it('waits for the answer within the send limit and records it sent, so no other notifier pages again', async () => {
    const hook = await startWebhookReceiver();
    hook.answerAll('hang');
    const engine = EngineProcess.start(engineEnv(dbName, ADMIN));
    const sql = createSql(urlFor(dbName), { max: 1 });
    try {
      const origin = `http://127.0.0.1:${await engine.listeningPort()}`;
      const api = (method: string, path: string, body?: unknown, token = ADMIN) => callEngine(origin, token, method, path, body);
      const channel = await api('POST', '/v1/channels', { name: 'slow-hook', type: 'webhook', config: { url: hook.url } });
      await api('POST', '/v1/escalation-policies', { name: 'default', levels: [{ after_seconds: 0, channel_ids: [channel.id] }], is_default: true });
      const node = await api('POST', '/v1/nodes', { name: 'db-1', heartbeat_interval_seconds: 1, failures_for_down: 2 });
      await api('POST', '/v1/heartbeats', { status: 'ok' }, node.token as string);

      const page = await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.opened');
      engine.kill('SIGTERM');
      await engine.waitFor((l) => l.msg.startsWith('stopping'));
      await delay(SLOW_ANSWER_MS);
      assert.equal(hook.release(200), 1, 'the notifier is still waiting for the answer');

      const { code } = await engine.exited;
      assert.equal(code, 0, engine.said());
      assert.ok(!engine.lines.some((l) => l.msg.startsWith('stop deadline')), engine.said());
      assert.equal(page.status, 200);
      const rows = await sql<{ status: string; attempts: number }[]>`select status, attempts from deliveries`;
      assert.deepEqual([...rows], [{ status: 'sent', attempts: 1 }], 'sent once, recorded: its lease does not lapse into a second page');
      assert.equal(hook.requests.length, 1);
    } finally {
      engine.kill('SIGKILL');
      await engine.exited;
      await sql.end({ timeout: 1 });
      await hook.close();
    }
  });
});
