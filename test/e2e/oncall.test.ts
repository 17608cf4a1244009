import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { dropDatabases, freshDatabaseName } from '../helpers/db.ts';
import { EngineProcess, engineEnv } from '../helpers/engine-process.ts';
import { startSmtpSink } from '../helpers/smtp-sink.ts';
import { verifyWebhook } from '../helpers/standard-webhooks.ts';
import { until } from '../helpers/wait.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const dbName = freshDatabaseName();

after(() => dropDatabases([dbName]));

describe('paging, end to end', () => {
  it('a node goes down and comes back: DOWN and RESOLVED emails arrive, and signed webhooks', async () => {
    const sink = await startSmtpSink();
    const hook = await startWebhookReceiver();
    const engine = EngineProcess.start(
      engineEnv(dbName, ADMIN, {
        SMTP_URL: sink.url,
        MAIL_FROM: 'lifeline@e2e.test',
      }),
      ['npm', 'start', '--silent'],
    );
    try {
      const base = `http://127.0.0.1:${await engine.listeningPort()}`;
      const api = async (method: string, path: string, body?: unknown, token = ADMIN) => {
        const res = await fetch(base + path, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, body: (await res.json()) as Record<string, any> };
      };
      const email = await api('POST', '/v1/channels', { name: 'oncall-mail', type: 'email', config: { to: ['oncall@e2e.test'] } });
      const webhook = await api('POST', '/v1/channels', { name: 'oncall-hook', type: 'webhook', config: { url: hook.url } });
      assert.equal(email.status, 201);
      assert.equal(webhook.status, 201);
      const secret = webhook.body.config.secret as string;
      assert.match(secret, /^whsec_/);
      const policy = await api('POST', '/v1/escalation-policies', {
        name: 'default',
        levels: [{ after_seconds: 0, channel_ids: [email.body.id, webhook.body.id] }],
        is_default: true,
      });
      assert.equal(policy.status, 201);
      const node = await api('POST', '/v1/nodes', { name: 'db-1', heartbeat_interval_seconds: 1, failures_for_down: 2 });
      const token = node.body.token as string;
      assert.equal((await api('POST', '/v1/heartbeats', { status: 'ok' }, token)).status, 202);

      const down = await sink.waitFor((m) => m.subject.includes('DOWN'));
      assert.match(down.subject, /^\[Lifeline\] DOWN: db-1/);
      assert.deepEqual(down.envelopeTo, ['oncall@e2e.test']);
      assert.match(down.text, /db-1/);
      assert.match(down.html, /db-1/);
      const opened = await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.opened');
      assert.equal(verifyWebhook(secret, opened.headers, opened.body, new Date()), true);

      assert.equal((await api('POST', '/v1/heartbeats', { status: 'ok' }, token)).status, 202);
      const resolved = await sink.waitFor((m) => m.subject.includes('RESOLVED'));
      assert.match(resolved.subject, /^\[Lifeline\] RESOLVED: db-1/);
      assert.match(resolved.text, /\d+s/, 'the resolve names the outage duration');
      const resolvedHook = await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.resolved');
      assert.equal(verifyWebhook(secret, resolvedHook.headers, resolvedHook.body, new Date()), true);

      const incidents = await api('GET', '/v1/incidents?node_id=' + node.body.id);
      const [incident] = incidents.body.items as Array<Record<string, any>>;
      assert.equal(incident!.status, 'resolved');
      assert.equal(incident!.resolved_by, 'auto');
      assert.deepEqual(
        (incident!.timeline as Array<{ kind: string }>).map((t) => t.kind).filter((k) => k === 'opened' || k === 'resolved'),
        ['opened', 'resolved'],
      );
      const deliveries = await until('four sent deliveries', async () => {
        const d = (await api('GET', `/v1/incidents/${incident!.id}/deliveries`)).body.items as Array<{ status: string }>;
        return d.length === 4 && d.every((x) => x.status === 'sent') ? d : undefined;
      });
      assert.equal(deliveries.length, 4);
      assert.equal(sink.messages.length, 2, 'one DOWN and one RESOLVED email, nothing twice');
      assert.equal(hook.requests.length, 2);
    } finally {
      engine.kill('SIGTERM');
      await engine.exited;
      await sink.close();
      await hook.close();
    }
  });
});
