import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createChannels } from '../../alerting/index.ts';
import { LOCAL_RECEIVERS } from '../helpers/local-receivers.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { ADMIN_TOKEN, buildApp, createHarness, expectError, expectJson, send, type Harness } from '../helpers/app.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { verifyWebhook } from '../helpers/standard-webhooks.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// POST /v1/channels/{id}/test: a message through the channel's real transport, with its sealed
// config opened, to real receivers (an HTTP endpoint checking Standard Webhooks signatures, an
// SMTP server), and its outcome recorded with the channel.

type Test = { channel_id: string; at: string; by: string; status: string; error: string | null };

describe('sending a test message through a channel', () => {
  let h: Harness;
  let hook: WebhookReceiver;
  let sink: SmtpSink;
  let app: ReturnType<typeof buildApp>['app'];

  before(async () => {
    h = await createHarness();
    hook = await startWebhookReceiver();
    sink = await startSmtpSink();
    // The same database, with transports that reach the SMTP sink.
    app = buildApp({ sql: h.sql, clock: h.clock, buffer: new HeartbeatBuffer(), secretKey: h.secretKey, transports: createChannels({ smtpUrl: sink.url, mailFrom: 'lifeline@test.example', outboundAllowCidrs: LOCAL_RECEIVERS }) }).app;
  });
  after(async () => {
    await hook.close();
    await sink.close();
    await h.close();
  });

  const create = async (body: unknown) => expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', body), 201);
  const test = (id: string, token = ADMIN_TOKEN) => send(app, 'POST', `/v1/channels/${id}/test`, { token });
  const recorded = async (id: string) => [...(await h.sql`select status, error, by from channel_tests where channel_id = ${id} order by id`)];
  const SECRET = 'whsec_dGVzdC1zZWNyZXQtZm9yLWNoYW5uZWwtdGVzdHM=';

  it('signs and sends a webhook test, says it was sent, and records it', async () => {
    const channel = await create({ name: 'hook', type: 'webhook', config: { url: hook.url, secret: SECRET } });
    const result = await expectJson<Test>(await test(channel.id), 200);
    assert.deepEqual([result.status, result.error, result.by], ['sent', null, 'api-key:00000000-0000-4000-8000-000000000001']);
    const got = await hook.waitFor();
    // Signed at the harness's (manual) time, with the secret sealed at creation and opened for the test.
    assert.equal(verifyWebhook(SECRET, got.headers, got.body, h.clock.now()), true);
    const body = JSON.parse(got.body) as { type: string; data: { node: { name: string }; incident: { title: string } } };
    assert.deepEqual([body.type, body.data.node.name, body.data.incident.title], ['incident.resolved', 'lifeline-test', 'Test message from Lifeline']);
    assert.deepEqual(await recorded(channel.id), [{ status: 'sent', error: null, by: result.by }]);
  });

  it('reports what the receiver said when it refuses', async () => {
    const channel = await create({ name: 'broken hook', type: 'webhook', config: { url: hook.url } });
    hook.script(503);
    const result = await expectJson<Test>(await test(channel.id), 200);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /^http_503: /);
    assert.equal((await recorded(channel.id))[0]!.status, 'failed');
  });

  it('sends an email test over SMTP, worded as a resolve so it wakes nobody', async () => {
    const channel = await create({ name: 'ops mail', type: 'email', config: { to: ['ops@test.example'] } });
    assert.equal((await expectJson<Test>(await test(channel.id), 200)).status, 'sent');
    const mail = await sink.waitFor();
    assert.match(mail.subject, /^\[Lifeline\] RESOLVED: lifeline-test — a test of the channel "ops mail"/);
    assert.deepEqual(mail.envelopeTo, ['ops@test.example']);
  });

  it('needs write scope and an existing channel, and changes nothing otherwise', async () => {
    const channel = await create({ name: 'quiet', type: 'email', config: { to: ['q@test.example'] } });
    const read = await h.createKey('read');
    await expectError(await test(channel.id, read.secret), 403, 'forbidden');
    await expectError(await test('00000000-0000-4000-8000-00000000dead'), 404, 'not_found');
    assert.deepEqual(await recorded(channel.id), []);
  });
});
