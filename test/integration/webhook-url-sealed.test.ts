import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import type { ChannelRow } from '../../src/channels/model.ts';
import { loadSecretKey } from '../../src/channels/secret-key.ts';
import { createChannel, revealConfig, updateChannel } from '../../src/channels/service.ts';
import type { Refusal } from '../../src/errors.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { localReceivers } from '../helpers/local-receivers.ts';
import { testLog } from '../helpers/log.ts';
import { incidentsOf, nodeGoingDown, settledDeliveries, eachWebhookOnCall } from '../helpers/oncall.ts';

// A webhook's URL is often a credential (`/hooks/<id>/<token>`, `?token=…`): it is stored sealed,
// so the channels table (and every backup and dump of it) holds only its origin, while deliveries
// still reach the whole URL.

const T0 = new Date('2026-12-07T10:00:00.000Z');
const TOKEN = 'tok-7f3a9c1e5b';
const PATH = `/hooks/T0/abc?token=${TOKEN}`;

describe('a webhook URL sealed at rest', () => {
  const secret = generateWebhookSecret();
  const t = eachWebhookOnCall(T0, secret);

  const fullUrl = () => `${new URL(t.w.hook.url).origin}${PATH}`;
  const rowText = async (id: string) => JSON.stringify((await t.db.sql`select * from channels where id = ${id}`)[0]);
  const row = async (id: string) => (await t.db.sql<ChannelRow[]>`select * from channels where id = ${id}`)[0]!;
  const create = async (url: string) =>
    (await createChannel(t.db.sql, t.w.oc.secretKey, { name: 'hook', type: 'webhook', config: { url, secret } }, t.w.clock.now(), localReceivers, TEST_ACTING)).channel;
  /** The deliveries of an incident opened on `channelId`, once settled as `final`. */
  const pageThrough = async (channelId: string, name: string, final = ['sent', 'dead']) => {
    const policy = await t.w.oc.policy(name, [{ after_seconds: 0, channel_ids: [channelId] }]);
    const [incident] = await incidentsOf(t.db, await nodeGoingDown(t.w, name, policy.id));
    return settledDeliveries(t.db, incident!.id, 1, final);
  };

  it('keeps only the origin in the row, and a page still reaches the whole URL', async () => {
    const channel = await create(fullUrl());
    const stored = await rowText(channel.id);
    assert.ok(!stored.includes(TOKEN) && !stored.includes('/hooks/T0'), `the row holds the URL: ${stored}`);
    assert.equal(channel.config.url, `${new URL(t.w.hook.url).origin}/…`);
    const [delivery] = await pageThrough(channel.id, 'sealed');
    assert.equal(delivery!.status, 'sent', delivery!.last_error ?? '');
    const got = await t.w.hook.waitFor();
    assert.equal(got.path, PATH);
    assert.equal(got.verified, true);
  });

  it('keeps the stored URL for its shown form, and seals a new one in its place', async () => {
    const channel = await create(fullUrl());
    const kept = await updateChannel(t.db.sql, t.w.oc.secretKey, channel, { config: { url: channel.config.url as string } }, t.w.clock.now(), localReceivers, TEST_ACTING);
    assert.equal(revealConfig(kept.channel, t.w.oc.secretKey).url, fullUrl());
    const moved = `${new URL(t.w.hook.url).origin}/hooks/T1/def?token=other-${TOKEN}`;
    const replaced = await updateChannel(t.db.sql, t.w.oc.secretKey, kept.channel, { config: { url: moved, secret } }, t.w.clock.now(), localReceivers, TEST_ACTING);
    assert.equal(revealConfig(replaced.channel, t.w.oc.secretKey).url, moved);
    const stored = await rowText(channel.id);
    assert.ok(!stored.includes(TOKEN), `the row holds a URL: ${stored}`);
  });

  it('seals a URL stored whole before at start, once however many engines start, and it still delivers', async () => {
    const legacy = await t.w.oc.webhook('legacy', fullUrl(), secret); // as the previous release stored it
    await loadSecretKey(t.db.sql, randomBytes(32).toString('hex'), testLog);
    assert.ok((await rowText(legacy.id)).includes(TOKEN), 'a key that opens no stored secret seals nothing the right one could not open');
    const key = t.w.oc.secretKey.toString('hex');
    await Promise.all([1, 2, 3].map(() => loadSecretKey(t.db.sql, key, testLog)));
    const sealed = await row(legacy.id);
    assert.ok(!JSON.stringify(sealed).includes(TOKEN), `still whole: ${JSON.stringify(sealed)}`);
    assert.equal(revealConfig(sealed, t.w.oc.secretKey).url, fullUrl());
    await loadSecretKey(t.db.sql, key, testLog);
    assert.equal((await row(legacy.id)).url_sealed, sealed.url_sealed, 'a later start finds nothing left to seal');
    const [delivery] = await pageThrough(legacy.id, 'legacy');
    assert.equal(delivery!.status, 'sent', delivery!.last_error ?? '');
    assert.equal((await t.w.hook.waitFor()).path, PATH);
  });

  it('sends to a URL an earlier release wrote whole over a sealed one, and seals it at the next start', async () => {
    const channel = await create(fullUrl());
    // An earlier release's API moving the channel: the URL whole in config, url_sealed left as it was.
    const MOVED = `/hooks/T2/ghi?token=moved-${TOKEN}`;
    const moved = `${new URL(t.w.hook.url).origin}${MOVED}`;
    const writtenWhole = () => t.db.sql`update channels set config = jsonb_set(config, '{url}', to_jsonb(${moved}::text)), url_sealed = ${channel.url_sealed} where id = ${channel.id}`;
    await writtenWhole();
    const before = await row(channel.id);
    assert.equal(revealConfig(before, t.w.oc.secretKey).url, moved);
    const kept = await updateChannel(t.db.sql, t.w.oc.secretKey, before, { config: { url: `${new URL(t.w.hook.url).origin}/…` } }, t.w.clock.now(), localReceivers, TEST_ACTING);
    assert.equal(revealConfig(kept.channel, t.w.oc.secretKey).url, moved, 'its shown form keeps the URL written whole');
    await writtenWhole();
    const key = t.w.oc.secretKey.toString('hex');
    await Promise.all([1, 2].map(() => loadSecretKey(t.db.sql, key, testLog)));
    const sealed = await row(channel.id);
    assert.ok(!JSON.stringify(sealed).includes(TOKEN), `still whole: ${JSON.stringify(sealed)}`);
    assert.notEqual(sealed.url_sealed, before.url_sealed);
    assert.equal(revealConfig(sealed, t.w.oc.secretKey).url, moved);
    const [delivery] = await pageThrough(channel.id, 'moved');
    assert.equal(delivery!.status, 'sent', delivery!.last_error ?? '');
    assert.equal((await t.w.hook.waitFor()).path, MOVED);
  });

  it('fails a delivery whose URL the key cannot open, saying so, and keeps no such URL on an edit', async () => {
    const channel = await create(fullUrl());
    const other = await create(`${new URL(t.w.hook.url).origin}/elsewhere`);
    await t.db.sql`update channels set url_sealed = ${other.url_sealed} where id = ${channel.id}`;
    // Its secret opens, so the key is right and no notifier could open the URL: failed for good, not held.
    const [delivery] = await pageThrough(channel.id, 'unopened', ['sent', 'failed', 'dead']);
    assert.deepEqual([delivery!.status, delivery!.attempts], ['dead', 1]);
    assert.match(delivery!.last_error ?? '', /^internal: config\.url does not open: sealed secret failed authentication/);
    assert.equal(t.w.hook.requests.length, 0);
    // Kept, its shown form would become the URL: the edit is refused and changes nothing.
    const unopened = await row(channel.id);
    const edit = updateChannel(t.db.sql, t.w.oc.secretKey, unopened, { config: { url: unopened.config.url as string, secret } }, t.w.clock.now(), localReceivers, TEST_ACTING);
    await assert.rejects(edit, (err: Refusal) => err.details?.[0]?.field === 'config.url' && /does not open the stored one/.test(err.details[0].message));
    assert.deepEqual(await row(channel.id), unopened);
  });
});
