import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { outboundPolicy } from '../../alerting/destination.ts';
import { createChannels } from '../../alerting/index.ts';
import { DeliveryError } from '../../alerting/errors.ts';
import { testNotification } from '../../src/channels/model.ts';
import { buildApp, ADMIN_TOKEN, createHarness, expectInvalid, expectJson, send, type App, type Harness } from '../helpers/app.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// Webhook, Slack and PagerDuty destinations: loopback, link-local, private, unspecified and
// multicast addresses are refused when a channel is saved and again on the address a delivery
// connects to, unless LIFELINE_OUTBOUND_ALLOW_CIDRS allows them; so are URLs carrying a user name or
// password, and Slack or PagerDuty over plain http.

let h: Harness;
let strict: App;
let receiver: WebhookReceiver;

before(async () => {
  h = await createHarness();
  // The engine's default: nothing allowed beyond public addresses.
  strict = buildApp({ sql: h.sql, clock: h.clock, buffer: h.buffer, secretKey: h.secretKey, outbound: outboundPolicy([]) }).app;
  receiver = await startWebhookReceiver();
});

after(async () => {
  await receiver?.close();
  await h?.close();
});

const REFUSED_URLS = [
  'http://127.0.0.1:8080/v1/api-keys', // the engine's own admin API
  'http://0x7f000001/', // 127.0.0.1 spelled in hex
  'http://2130706433/', // and as one number
  'http://[::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://localhost:8080/', // a name that resolves to loopback
  'http://169.254.169.254/latest/meta-data/', // cloud metadata
  'http://[fe80::1]/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://[fd00::1]/',
  'http://0.0.0.0/',
  'http://[::]/',
  'http://224.0.0.1/',
  'http://[ff02::1]/',
];

describe('when a channel is saved', () => {
  it('refuses a webhook to a loopback, link-local, private, unspecified or multicast address', async () => {
    for (const url of REFUSED_URLS) {
      const res = await h.rejected(() => send(strict, 'POST', '/v1/channels', { token: ADMIN_TOKEN, json: { name: 'ssrf', type: 'webhook', config: { url } } }));
      const err = await expectInvalid(res, ['config.url']);
      assert.match(err.details![0]!.message, /LIFELINE_OUTBOUND_ALLOW_CIDRS/, url);
    }
  });

  it('refuses such a PagerDuty url, and moving an existing channel there', async () => {
    const res = await h.rejected(() =>
      send(strict, 'POST', '/v1/channels', { token: ADMIN_TOKEN, json: { name: 'pd', type: 'pagerduty', config: { routing_key: 'rk', url: 'https://169.254.169.254/x' } } }),
    );
    await expectInvalid(res, ['config.url']);
    const hook = await expectJson<{ id: string }>(await send(strict, 'POST', '/v1/channels', { token: ADMIN_TOKEN, json: { name: 'public', type: 'webhook', config: { url: 'https://hooks.example.com/x' } } }), 201);
    const moved = await h.rejected(() => send(strict, 'PATCH', `/v1/channels/${hook.id}`, { token: ADMIN_TOKEN, json: { config: { url: 'http://127.0.0.1:8080/v1/api-keys', secret: 'whsec_dGVzdC1zZWNyZXQtZm9yLXNzcmYtdGVzdHM=' } } }));
    await expectInvalid(moved, ['config.url']);
  });

  it('refuses a user name or password in a URL, and Slack or PagerDuty over http', async () => {
    const cases: [unknown, string][] = [
      [{ type: 'webhook', config: { url: 'https://user:secret@hooks.example.com/x' } }, 'config.url'],
      [{ type: 'webhook', config: { url: 'https://user@hooks.example.com/x' } }, 'config.url'],
      [{ type: 'slack', config: { webhook_url: 'http://hooks.slack.com/services/x' } }, 'config.webhook_url'],
      [{ type: 'pagerduty', config: { routing_key: 'rk', url: 'http://events.pagerduty.com/v2/enqueue' } }, 'config.url'],
    ];
    for (const [body, field] of cases) {
      const res = await h.rejected(() => send(strict, 'POST', '/v1/channels', { token: ADMIN_TOKEN, json: { name: 'creds', ...(body as object) } }));
      await expectInvalid(res, [field]);
    }
  });

  it('allows what LIFELINE_OUTBOUND_ALLOW_CIDRS names, and only that', async () => {
    // The harness allows loopback, as the test receivers need.
    await expectJson(await h.admin('POST', '/v1/channels', { name: 'local', type: 'webhook', config: { url: receiver.url } }), 201);
    for (const url of ['http://169.254.169.254/', 'http://10.1.2.3/', 'http://[fd00::1]/']) {
      await expectInvalid(await h.rejected(() => h.admin('POST', '/v1/channels', { name: 'x', type: 'webhook', config: { url } })), ['config.url']);
    }
  });
});

describe('when a message is sent', () => {
  const n = testNotification({ name: 'ssrf' }, { id: 'test', shown: 'test' }, '00000000-0000-4000-8000-0000000000aa', new Date());

  it('refuses a stored destination that is now refused, without a request', async () => {
    const strictChannels = createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@test.local' });
    const localName = receiver.url.replace('127.0.0.1', 'localhost');
    // Each twice: the second is refused from the check the poster kept for that URL.
    for (const url of [receiver.url, localName, receiver.url, localName]) {
      await assert.rejects(strictChannels.webhook.send(n, { url, secret: 'whsec_dGVzdC1zZWNyZXQtZm9yLXNzcmYtdGVzdHM=' }, new Date()), (err: unknown) => {
        assert.ok(err instanceof DeliveryError);
        assert.deepEqual([err.code, err.permanent], ['destination_refused', true], err.message);
        return true;
      });
      await assert.rejects(strictChannels.pagerduty.send(n, { routing_key: 'rk', url }, new Date()), /does not send to/);
      await assert.rejects(strictChannels.slack.send(n, { webhook_url: url }, new Date()), /does not send to/);
    }
    assert.equal(receiver.requests.length, 0, 'nothing reached the receiver');
  });

  it('refuses an https destination whose name resolves to a refused address, before any handshake', async () => {
    const strictChannels = createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@test.local' });
    // Nothing listens for TLS there: a connection attempt would fail as a retryable network error,
    // not as a refused destination.
    const url = receiver.url.replace('http://127.0.0.1', 'https://localhost');
    await assert.rejects(strictChannels.pagerduty.send(n, { routing_key: 'rk', url }, new Date()), (err: unknown) => {
      assert.ok(err instanceof DeliveryError);
      assert.deepEqual([err.code, err.permanent], ['destination_refused', true], err.message);
      return true;
    });
    assert.equal(receiver.requests.length, 0, 'nothing reached the receiver');
  });

  it('checks the address a name resolves to when connecting, and sends when it is allowed', async () => {
    const allowed = createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@test.local', outboundAllowCidrs: ['127.0.0.0/8'] });
    await allowed.webhook.send(n, { url: receiver.url.replace('127.0.0.1', 'localhost'), secret: 'whsec_dGVzdC1zZWNyZXQtZm9yLXNzcmYtdGVzdHM=' }, new Date());
    assert.equal((await receiver.waitFor()).headers['webhook-id'], n.messageId);
  });
});
