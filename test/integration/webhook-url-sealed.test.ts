import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import type { ChannelRow } from '../../src/channels/model.ts';
import { loadSecretKey } from '../../src/channels/secret-key.ts';
import { createChannel, revealConfig, updateChannel } from '../../src/channels/service.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { ManualClock } from '../helpers/clock.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { localReceivers } from '../helpers/local-receivers.ts';
import { testLog } from '../helpers/log.ts';
import { createOnCall, incidentsOf, nodeGoingDown, settledDeliveries, type OnCall } from '../helpers/oncall.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// A webhook's URL is often a credential (`/hooks/<id>/<token>`, `?token=…`): it is stored sealed,
// so the channels table (and every backup and dump of it) holds only its origin, while deliveries
// still reach the whole URL.

const T0 = new Date('2026-12-07T10:00:00.000Z');
const TOKEN = 'tok-7f3a9c1e5b';
const PATH = `/hooks/T0/abc?token=${TOKEN}`;

describe('a webhook URL sealed at rest', () => {
  const secret = generateWebhookSecret();
  let db: TestDatabase;
  let w: { clock: ManualClock; p: ReturnType<typeof createPipeline>; oc: OnCall; hook: WebhookReceiver };
  before(async () => (db = await createTestDatabase()));
  after(() => db.drop());
  beforeEach(async () => {
    await db.sql`truncate nodes, node_state_log, outbox, outbox_dead, ingest_coverage, ingest_presence, incidents, deliveries, channels, escalation_policies cascade`;
    const clock = new ManualClock(T0);
    w = { clock, p: createPipeline(db, clock), oc: await createOnCall(db, clock, { redisUrl: undefined }), hook: await startWebhookReceiver({ secret }) };
    await w.p.flush();
  });
  afterEach(async () => {
    for (const part of [w.oc, w.p, w.hook]) await part.close();
  });

  const fullUrl = () => `${new URL(w.hook.url).origin}${PATH}`;
  const rowText = async (id: string) => JSON.stringify((await db.sql`select * from channels where id = ${id}`)[0]);
  const row = async (id: string) => (await db.sql<ChannelRow[]>`select * from channels where id = ${id}`)[0]!;
  const create = async (url: string) =>
    (await createChannel(db.sql, w.oc.secretKey, { name: 'hook', type: 'webhook', config: { url, secret } }, w.clock.now(), localReceivers, TEST_ACTING)).channel;
  /** The deliveries of an incident opened on `channelId`, once settled as `final`. */
  const pageThrough = async (channelId: string, name: string, final = ['sent', 'dead']) => {
    const policy = await w.oc.policy(name, [{ after_seconds: 0, channel_ids: [channelId] }]);
    const [incident] = await incidentsOf(db, await nodeGoingDown(w, name, policy.id));
    return settledDeliveries(db, incident!.id, 1, final);
  };

  it('keeps only the origin in the row, and a page still reaches the whole URL', async () => {
    const channel = await create(fullUrl());
    const stored = await rowText(channel.id);
    assert.ok(!stored.includes(TOKEN) && !stored.includes('/hooks/T0'), `the row holds the URL: ${stored}`);
    assert.equal(channel.config.url, `${new URL(w.hook.url).origin}/…`);
    const [delivery] = await pageThrough(channel.id, 'sealed');
    assert.equal(delivery!.status, 'sent', delivery!.last_error ?? '');
    const got = await w.hook.waitFor();
    assert.equal(got.path, PATH);
    assert.equal(got.verified, true);
  });

  it('keeps the stored URL for its shown form, and seals a new one in its place', async () => {
    const channel = await create(fullUrl());
    const kept = await updateChannel(db.sql, w.oc.secretKey, channel, { config: { url: channel.config.url as string } }, w.clock.now(), localReceivers, TEST_ACTING);
    assert.equal(revealConfig(kept.channel, w.oc.secretKey).url, fullUrl());
    const moved = `${new URL(w.hook.url).origin}/hooks/T1/def?token=other-${TOKEN}`;
    const replaced = await updateChannel(db.sql, w.oc.secretKey, kept.channel, { config: { url: moved, secret } }, w.clock.now(), localReceivers, TEST_ACTING);
    assert.equal(revealConfig(replaced.channel, w.oc.secretKey).url, moved);
    const stored = await rowText(channel.id);
    assert.ok(!stored.includes(TOKEN), `the row holds a URL: ${stored}`);
  });

  it('seals a URL stored whole before at start, once however many engines start, and it still delivers', async () => {
    const legacy = await w.oc.webhook('legacy', fullUrl(), secret); // as the previous release stored it
    await loadSecretKey(db.sql, randomBytes(32).toString('hex'), testLog);
    assert.ok((await rowText(legacy.id)).includes(TOKEN), 'a key that opens no stored secret seals nothing the right one could not open');
    const key = w.oc.secretKey.toString('hex');
    await Promise.all([1, 2, 3].map(() => loadSecretKey(db.sql, key, testLog)));
    const sealed = await row(legacy.id);
    assert.ok(!JSON.stringify(sealed).includes(TOKEN), `still whole: ${JSON.stringify(sealed)}`);
    assert.equal(revealConfig(sealed, w.oc.secretKey).url, fullUrl());
    await loadSecretKey(db.sql, key, testLog);
    assert.equal((await row(legacy.id)).url_sealed, sealed.url_sealed, 'a later start finds nothing left to seal');
    const [delivery] = await pageThrough(legacy.id, 'legacy');
    assert.equal(delivery!.status, 'sent', delivery!.last_error ?? '');
    assert.equal((await w.hook.waitFor()).path, PATH);
  });

  it('fails a delivery whose URL the key cannot open, saying so', async () => {
    const channel = await create(fullUrl());
    const other = await create(`${new URL(w.hook.url).origin}/elsewhere`);
    await db.sql`update channels set url_sealed = ${other.url_sealed} where id = ${channel.id}`;
    const [delivery] = await pageThrough(channel.id, 'unopened', ['sent', 'failed', 'dead']);
    assert.match(delivery!.last_error ?? '', /config\.url does not open: sealed secret failed authentication/);
    assert.equal(w.hook.requests.length, 0);
  });
});
