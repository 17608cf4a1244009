import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { createChannels } from '../../alerting/index.ts';
import { sealSecret } from '../../alerting/secret-box.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { insertChannel } from '../../src/channels/store.ts';
import { Events } from '../../src/events.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { acknowledge } from '../../src/incidents/service.ts';
import { deliver, SecretNotOpened } from '../../src/notifications/deliver.ts';
import { sendDigests } from '../../src/notifications/digest.ts';
import { DEFAULT_RETRY } from '../../src/notifications/retry.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { buildApp, send, START } from '../helpers/app.ts';
import { ManualClock } from '../helpers/clock.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { LOCAL_RECEIVERS } from '../helpers/local-receivers.ts';
import { createOnCall, deliveriesOf, incidentsOf, nodeGoingDown, settledDeliveries } from '../helpers/oncall.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/wait.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

// A notifier started with another LIFELINE_SECRET_KEY than the one its channels' secrets were
// sealed with: it is not ready (a rolling restart gated on /readyz stops there), and its pages
// wait unspent instead of burning their 12 attempts on an error no retry can fix; the notifier
// restarted with the right key sends them.

describe('a notifier whose secret key cannot open the channel secrets', () => {
  it('is not ready, holds the pages unspent, and a notifier with the right key sends them', async (t) => {
    const db = await createTestDatabase();
    t.after(() => db.drop());
    const clock = new ManualClock(START);
    const right = randomBytes(32);
    const wrong = randomBytes(32);
    const secret = generateWebhookSecret();
    const hook = await startWebhookReceiver({ secret });
    const p = createPipeline(db, clock);
    const wrongNotifier = await createOnCall(db, clock, { redisUrl: undefined, secretKey: wrong });
    let wrongRunning = true;
    let rightNotifier: Awaited<ReturnType<typeof createOnCall>> | undefined;
    t.after(async () => {
      if (wrongRunning) await wrongNotifier.close();
      await rightNotifier?.close();
      await p.close();
      await hook.close();
    });
    await p.flush();
    const id = randomUUID();
    await insertChannel(db.sql, { id, name: 'sealed-right', type: 'webhook', config: { url: hook.url }, secret_sealed: sealSecret(secret, right, id) }, clock.now());
    const policy = await wrongNotifier.policy('default', [{ after_seconds: 0, channel_ids: [id] }]);

    const readyz = async (secretKey: Buffer, secretKeyRequired: boolean, notifierWithoutApi = true) => {
      const res = await send(buildApp({ sql: db.sql, clock, buffer: new HeartbeatBuffer(), secretKey, secretKeyRequired, notifierWithoutApi }).app, 'GET', '/readyz');
      return { status: res.status, body: (await res.json()) as { down?: string[]; warnings?: string[] } };
    };
    const wrongReady = await readyz(wrong, true);
    assert.equal(wrongReady.status, 503);
    assert.deepEqual(wrongReady.body.down, ['secret_key']);
    // One process taking heartbeats too (LIFELINE_ROLES=all) stays in its load balancer: a 503
    // would stop the fleet's heartbeats; it says the key is wrong instead.
    const allInOne = await readyz(wrong, true, false);
    assert.equal(allInOne.status, 200);
    assert.ok(allInOne.body.warnings?.some((w) => w.includes('LIFELINE_SECRET_KEY')), JSON.stringify(allInOne.body));
    assert.equal((await readyz(wrong, false)).status, 200, 'a process without the notifier role does not send');
    assert.equal((await readyz(right, true)).status, 200);

    const node = await nodeGoingDown({ p, oc: wrongNotifier, clock }, 'db-1', policy.id);
    const [incident] = await incidentsOf(db, node);
    const held = async () => Number(/^lifeline_notifications_total\{channel_type="webhook",result="held"\} (\d+)$/m.exec(await wrongNotifier.metrics.registry.metrics())?.[1] ?? 0);
    // Held again and again: each time unspent, and nothing reached the receiver.
    await until('the page held twice', async () => (await held()) >= 2);
    const [page] = await deliveriesOf(db, incident!.id);
    assert.deepEqual([page!.status, page!.attempts], ['pending', 0]);
    assert.equal(hook.requests.length, 0);

    await wrongNotifier.close();
    wrongRunning = false;
    rightNotifier = await createOnCall(db, clock, { redisUrl: undefined, secretKey: right, prefix: wrongNotifier.prefix });
    const [sent] = await settledDeliveries(db, incident!.id, 1);
    assert.deepEqual([sent!.status, sent!.attempts], ['sent', 1]);
    assert.equal((await hook.waitFor()).verified, true);
  });

  it('holds a storm digest unspent too, and the right key sends it', async (t) => {
    // Every update is held for the digest (storm threshold 0).
    const { db, clock, right, wrong, receiver: slack, p, oc, held, deps } = await drivenPasses(t, { stormThreshold: 0 });
    const id = randomUUID();
    // A Slack channel's secret is its URL: sealed under the right key.
    await insertChannel(db.sql, { id, name: 'team', type: 'slack', config: {}, secret_sealed: sealSecret(slack.url, right, id) }, clock.now());
    const policy = await oc.policy('default', [{ after_seconds: 0, channel_ids: [id] }]);
    await nodeGoingDown({ p, oc, clock }, 'db-1', policy.id);
    const pass = (secretKey: Buffer) => sendDigests(deps(secretKey));
    const digestRows = () => db.sql<{ status: string; attempts: number }[]>`select status, attempts from deliveries where digest`;

    for (let i = 0; i < 3; i++) {
      await pass(wrong);
      clock.advance(60_000);
    }
    assert.deepEqual(held, [1, 1, 1]);
    assert.deepEqual([...(await digestRows())], [{ status: 'pending', attempts: 0 }], 'three passes, no attempt spent');
    assert.equal(slack.requests.length, 0);

    await pass(right);
    assert.deepEqual([...(await digestRows())], [{ status: 'sent', attempts: 1 }]);
    assert.equal(slack.requests.length, 1);
  });

  // The page is held, so it stays pending with no retry time: an acknowledgement waiting behind it
  // was put back every second (1,000 held incidents acknowledged: ~1,000 passes a second). Its
  // channel's secret does not open either, so it is held on the same 30 s recheck.
  it('holds an acknowledgement behind a held page on the 30 s recheck, not every second', async (t) => {
    const { db, clock, right, wrong, receiver: hook, p, oc, held, deps } = await drivenPasses(t);
    const id = randomUUID();
    await insertChannel(db.sql, { id, name: 'sealed-right', type: 'webhook', config: { url: hook.url }, secret_sealed: sealSecret(generateWebhookSecret(), right, id) }, clock.now());
    const policy = await oc.policy('default', [{ after_seconds: 0, channel_ids: [id] }]);
    const [incident] = await incidentsOf(db, await nodeGoingDown({ p, oc, clock }, 'db-1', policy.id));
    clock.advance(60_000);
    await acknowledge(db.sql, incident!.id, { by: 'alice' }, clock, TEST_ACTING);
    await oc.drain();
    const rows = await deliveriesOf(db, incident!.id);
    assert.deepEqual(
      rows.map((r) => r.event),
      ['opened', 'acknowledged'],
    );
    const RECHECK_MS = 30_000;
    for (let cycle = 0; cycle < 3; cycle++) {
      for (const row of rows) {
        const due = clock.now().getTime() + RECHECK_MS;
        await assert.rejects(deliver(deps(wrong), row.id), (err) => err instanceof SecretNotOpened && err.retryAt?.getTime() === due, `${row.event} held for 30 s`);
      }
      clock.advance(RECHECK_MS);
    }
    assert.deepEqual(held, [1, 1, 1, 1, 1, 1], 'page and acknowledgement held once a recheck each');
    assert.deepEqual(
      (await deliveriesOf(db, incident!.id)).map((r) => [r.event, r.status, r.attempts]),
      [
        ['opened', 'pending', 0],
        ['acknowledged', 'pending', 0],
      ],
    );
    assert.equal(hook.requests.length, 0);
  });
});

/**
 * A notifier's passes driven by the test on its own clock (no worker runs), a receiver, and the
 * `held` results they announce.
 */
async function drivenPasses(t: TestContext, onCall: { stormThreshold?: number } = {}) {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  const clock = new ManualClock(START);
  const receiver = await startWebhookReceiver();
  const p = createPipeline(db, clock);
  const oc = await createOnCall(db, clock, { redisUrl: undefined, worker: false, ...onCall });
  const channels = createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@test.local', outboundAllowCidrs: LOCAL_RECEIVERS });
  t.after(async () => {
    channels.close();
    await oc.close();
    await p.close();
    await receiver.close();
  });
  await p.flush();
  const held: number[] = [];
  const events = new Events();
  events.on('notification.result', (_type, result, count) => result === 'held' && held.push(count));
  const deps = (secretKey: Buffer) => ({ sql: db.sql, clock, channels, secretKey, retry: DEFAULT_RETRY, events });
  return { db, clock, right: randomBytes(32), wrong: randomBytes(32), receiver, p, oc, held, deps };
}
