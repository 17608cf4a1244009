import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChannelRow } from '../../src/channels/model.ts';
import { revealConfig } from '../../src/channels/service.ts';
import { consoleCookie, createHarness, expectJson, formOf, unescapeHtml, type Harness } from '../helpers/app.ts';
import { verifyWebhook } from '../helpers/standard-webhooks.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// Editing a channel from its page: moving a webhook whose secret the engine generated, all of a
// form's problems at once, hints that say the rule, and a failed test in people's words. Real
// receivers: an HTTP endpoint checking Standard Webhooks signatures.

const ORIGIN = 'http://localhost';

describe("a channel's page", () => {
  let h: Harness;
  let cookie: string;
  let hook: WebhookReceiver;

  before(async () => {
    h = await createHarness();
    hook = await startWebhookReceiver();
    cookie = await consoleCookie(h, ORIGIN);
  });
  after(async () => {
    await hook.close();
    await h.close();
  });

  const page = async (path: string) => (await h.app.request(path, { headers: { cookie } })).text();
  const post = async (path: string, body: URLSearchParams) => {
    const res = await h.app.request(path, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  };
  const row = async (id: string) => (await h.sql<ChannelRow[]>`select * from channels where id = ${id}`)[0]!;
  const create = async (body: unknown) => expectJson<{ id: string; config: Record<string, unknown> }>(await h.admin('POST', '/v1/channels', body), 201);
  const hintOf = (html: string, field: string) => unescapeHtml(new RegExp(`<input id="${field}"[^>]*>\\s*<p class="hint"[^>]*>([^<]*)</p>`).exec(html)?.[1] ?? assert.fail(`no hint for ${field}`));

  it('moves a webhook whose secret was generated to a new URL, with a new secret shown once that its receiver checks signatures with', async () => {
    const made = await create({ name: 'moving hook', type: 'webhook', config: { url: `${hook.url}/old` } });
    const html = await page(`/channels/${made.id}`);
    assert.match(hintOf(html, 'secret'), /with a new URL, a new one is generated and shown once/);
    const body = formOf(html, `/channels/${made.id}/edit`);
    body.set('url', `${hook.url}/new`);
    assert.equal(body.get('secret'), '');
    const saved = await post(`/channels/${made.id}/edit`, body);
    assert.equal(saved.status, 200, saved.html);
    assert.match(saved.html, /Saved with a new URL, so with a new signing secret, shown only now/);
    const shown = /<p class="secret">([^<]+)<\/p>/.exec(saved.html)?.[1] ?? assert.fail('no secret shown');
    assert.notEqual(shown, made.config.secret, 'the stored secret does not go to the new URL');
    assert.deepEqual(revealConfig(await row(made.id), h.secretKey), { url: `${hook.url}/new`, secret: shown });
    // The same form sent again (a double click, a reload) changes nothing and is sent to the page
    // that says the secret was shown once, not answered "Saved." with the shown secret lost.
    const twice = await post(`/channels/${made.id}/edit`, body);
    assert.equal(twice.status, 303);
    assert.equal(twice.location, `/channels/${made.id}?done=already`);
    assert.equal(revealConfig(await row(made.id), h.secretKey).secret, shown);
    // The receiver at the new URL checks the test's signature with the secret it was shown.
    const test = await post(`/channels/${made.id}/test`, formOf(saved.html, `/channels/${made.id}/test`));
    assert.equal(test.status, 303);
    const got = await hook.waitFor();
    assert.match(got.path, /\/new$/);
    assert.equal(verifyWebhook(shown, got.headers, got.body, h.clock.now()), true);
    // Saving it again at the same URL keeps that secret and shows none.
    const again = await post(`/channels/${made.id}/edit`, formOf(saved.html, `/channels/${made.id}/edit`));
    assert.match(again.html, /Saved\./);
    assert.doesNotMatch(again.html, /class="secret"/);
    assert.equal(revealConfig(await row(made.id), h.secretKey).secret, shown);
  });

  it("shows a webhook's URL by its origin only, to a read session as to an admin, and its edit form keeps it", async () => {
    const url = 'https://chat.example/hooks/T0/B0/PATHTOKEN?token=SECRETQUERY';
    const made = await create({ name: 'chat hook', type: 'webhook', config: { url } });
    const reader = await consoleCookie(h, ORIGIN, (await h.createKey('read', 'channel reader')).secret);
    for (const session of [reader, cookie]) {
      for (const path of ['/channels', `/channels/${made.id}`]) {
        const html = await (await h.app.request(path, { headers: { cookie: session } })).text();
        assert.ok(html.includes('https://chat.example/…'), path);
        assert.ok(!html.includes('PATHTOKEN') && !html.includes('SECRETQUERY'), `${path} holds no part of the path or query`);
      }
    }
    // The edit form holds no URL; sent as it is, renamed, it keeps the stored one and its secret.
    const body = formOf(await page(`/channels/${made.id}`), `/channels/${made.id}/edit`);
    assert.equal(body.get('url'), '');
    body.set('name', 'chat hook renamed');
    const saved = await post(`/channels/${made.id}/edit`, body);
    assert.match(saved.html, /Saved\./);
    assert.deepEqual(revealConfig(await row(made.id), h.secretKey), { url, secret: made.config.secret });
  });

  it("says all of a PagerDuty form's problems at once, and its hints say https and when the routing key is needed", async () => {
    const pd = await create({ name: 'pd edit', type: 'pagerduty', config: { routing_key: 'R0UTING' } });
    const html = await page(`/channels/${pd.id}`);
    assert.match(hintOf(html, 'url'), /^https only\./);
    assert.match(hintOf(html, 'routing_key'), /unless the Events API URL changes: then type it again/);
    const body = formOf(html, `/channels/${pd.id}/edit`);
    body.set('url', 'http://events.example.com/v2/enqueue');
    const refused = await post(`/channels/${pd.id}/edit`, body);
    assert.equal(refused.status, 400);
    const errors = [...refused.html.matchAll(/<p class="error" id="([^"]+)">([^<]*)<\/p>/g)].map((m) => [m[1], unescapeHtml(m[2]!)]);
    assert.deepEqual(errors, [
      ['routing_key-error', 'is required to change where the channel sends: its secret goes with it, so type it again'],
      ['url-error', 'must be an https URL'],
    ]);
    assert.deepEqual(revealConfig(await row(pd.id), h.secretKey), { routing_key: 'R0UTING' });
    // The API says both too.
    const api = await h.admin('PATCH', `/v1/channels/${pd.id}`, { config: { url: 'http://events.example.com/v2/enqueue' } });
    assert.equal(api.status, 400);
    const details = ((await api.json()) as { error: { details: { field: string }[] } }).error.details;
    assert.deepEqual(details.map((d) => d.field).sort(), ['config.routing_key', 'config.url']);
  });

  it("tells a failed test in people's words, and the API keeps the machine code", async () => {
    const made = await create({ name: 'failing hook', type: 'webhook', config: { url: `${hook.url}/fail` } });
    hook.script(500);
    const test = await post(`/channels/${made.id}/test`, formOf(await page(`/channels/${made.id}`), `/channels/${made.id}/test`));
    const html = await page(test.location!);
    assert.ok(html.includes('<p>The test failed. The receiver answered HTTP 500</p>'), html);
    assert.ok(html.includes('<span class="sub">The receiver answered HTTP 500</span>'), html);
    assert.doesNotMatch(html, /http_500/);
    const [stored] = await h.sql<{ error: string }[]>`select error from channel_tests where channel_id = ${made.id}`;
    assert.equal(stored!.error, 'http_500: receiver answered HTTP 500');
  });
});
