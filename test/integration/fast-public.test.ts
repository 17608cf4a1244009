import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, createHarness, send, type Harness } from '../helpers/app.ts';
import { DifferentialEngine, type RawAnswer, type Sent } from '../helpers/differential.ts';

// Kept status pages and badges answered in front of the app (src/http/fast-public.ts) must answer
// exactly as the app does (test/helpers/differential.ts): status, every header, every byte, and
// the request histogram's counts, whether the fast path takes a request or leaves it to the app.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// Small enough for one case to reach; each request asks from an address of its own (one proxy hop
// trusted), but for the limit's own case.
const PER_MINUTE = 8;
const ENCODINGS = [undefined, 'br', 'gzip', 'gzip, deflate, br', 'br;q=0, gzip', 'identity'];

interface Known {
  badge: string;
  /** The ETag of each kept answer, by path, as the app sent it while warming the caches. */
  etag: Record<string, string>;
}

interface Case {
  name: string;
  /** Whether the fast path is to take every request of the case (otherwise none of them). */
  fast: boolean;
  requests: (k: Known) => Partial<Sent>[];
}

const get = (path: string, headers: Record<string, string | string[]> = {}, method = 'GET'): Partial<Sent> => ({ method, path, headers });
const kept = (k: Known) => ['/status/open', '/status/open.json', `/badge/${k.badge}.svg`, `/badge/${k.badge}.json`];

const CASES: Case[] = [
  { name: 'each kept answer in each encoding', fast: true, requests: (k) => kept(k).flatMap((p) => ENCODINGS.map((e) => get(p, e === undefined ? {} : { 'accept-encoding': e }))) },
  { name: 'each kept answer already held (304)', fast: true, requests: (k) => kept(k).map((p) => get(p, { 'if-none-match': k.etag[p]!, 'accept-encoding': 'br' })) },
  { name: 'If-None-Match naming another version, and *', fast: true, requests: (k) => kept(k).flatMap((p) => [get(p, { 'if-none-match': 'W/"other"' }), get(p, { 'if-none-match': '*' })]) },
  { name: 'HEAD of each kept answer', fast: true, requests: (k) => kept(k).flatMap((p) => [get(p, { 'accept-encoding': 'gzip' }, 'HEAD'), get(p, { 'if-none-match': k.etag[p]! }, 'HEAD')]) },
  { name: 'a sane request id', fast: true, requests: (k) => kept(k).map((p) => get(p, { 'x-request-id': 'trace-public-1' })) },
  { name: 'a hostile request id', fast: true, requests: () => [get('/status/open', { 'x-request-id': 'a b<script>' })] },
  { name: 'a query a page ignores', fast: true, requests: () => [get('/status/open?utm_source=x&b=1'), get('/status/open.json?ref=a/b')] },
  { name: 'a Host with a port', fast: true, requests: () => [get('/status/open', { host: 'status.example:8080' })] },
  { name: 'a page asked to reload itself, or asked wrongly', fast: false, requests: () => [get('/status/open?refresh=60'), get('/status/open?a=1&refresh=300'), get('/status/open?refresh=5'), get('/status/open?refresh')] },
  { name: 'an unknown page', fast: false, requests: () => [get('/status/nowhere'), get('/status/nowhere.json')] },
  { name: 'a private page', fast: false, requests: () => [get('/status/hidden'), get('/status/hidden.json')] },
  { name: 'an unknown badge, and an unknown format', fast: false, requests: (k) => [get(`/badge/${'x'.repeat(43)}.svg`), get(`/badge/${k.badge}.png`), get(`/badge/${k.badge}`)] },
  { name: 'a badge with a query', fast: false, requests: (k) => [get(`/badge/${k.badge}.svg?metric=state`), get(`/badge/${k.badge}.json?window=bogus`)] },
  { name: 'a query with an escape, or text the app refuses', fast: false, requests: () => [get('/status/open?q=%41'), get('/status/open?q=a%00b'), get('/status/open?a#b')] },
  { name: 'a path the router reads otherwise', fast: false, requests: () => [get('/status/open/'), get('/status/%6fpen'), get('/status/./open'), get('/status//open'), get('/status/open.json/')] },
  { name: 'a Host the app cannot make a URL of', fast: false, requests: () => [get('/status/open', { host: 'a/b' })] },
  { name: 'a Host the app reads as another (upper case)', fast: false, requests: () => [get('/status/open', { host: 'Status.Example' })] },
  { name: 'a body', fast: false, requests: () => [{ ...get('/status/open', { 'content-type': 'text/plain', 'content-length': '1' }), body: 'x' }] },
  { name: 'another method', fast: false, requests: () => [get('/status/open', {}, 'POST'), get('/status/open', {}, 'OPTIONS')] },
];

// Every answer from one address past the proxy: the budget ends within the run, and the app answers
// the refusal; a kept answer from another address is still taken.
const LIMITED = (k: Known): Partial<Sent>[] => [
  ...Array.from({ length: PER_MINUTE + 1 }, (_, i) => get(kept(k)[i % 4]!, { 'x-forwarded-for': 'claimed, 203.0.113.77' })),
  get('/status/open', { 'x-forwarded-for': '203.0.113.78' }),
];

const fromAddress = (s: Partial<Sent>, address: string): Sent => ({
  method: s.method ?? 'GET',
  path: s.path!,
  body: s.body,
  headers: { 'x-forwarded-for': address, ...s.headers },
});

// What node:http writes itself, and the request's id, compared apart.
const PER_ANSWER = new Set(['date', 'connection', 'keep-alive', 'x-request-id']);
const sameHeads = (a: RawAnswer) => Object.fromEntries(Object.entries(a.headers).filter(([n]) => !PER_ANSWER.has(n)));

describe('kept status pages and badges answer in front of the app as the app does', () => {
  let h: Harness;
  let fast: DifferentialEngine;
  let alone: DifferentialEngine;
  const known: Known = { badge: '', etag: {} };

  before(async () => {
    h = await createHarness();
    const node = await h.createNode('public-fast-web');
    known.badge = node.badge_id as string;
    for (const [slug, open] of [['open', true], ['hidden', false]] as const) {
      const res = await send(h.app, 'POST', '/v1/status-pages', { token: ADMIN_TOKEN, json: { slug, title: `Page ${slug}`, public: open, show_nodes: true, components: [{ name: 'Web', node_ids: [node.id] }] } });
      assert.equal(res.status, 201, await res.text());
    }
    const options = { limits: { publicRequestsPerMinute: PER_MINUTE }, publicPages: { trustProxyHops: 1 } };
    fast = new DifferentialEngine(h, true, options);
    alone = new DifferentialEngine(h, false, options);
    for (const e of [fast, alone]) {
      await e.start();
      // The first request of each page and badge format goes through the app, in both engines
      // alike: it loads the cache and encodes that format once, after the client's budget.
      for (const path of kept(known)) {
        const a = await e.send(fromAddress(get(path), '198.51.0.1'));
        assert.deepEqual([a.status, a.taken], [200, false], path);
        const etag = String(a.headers.etag);
        assert.equal(known.etag[path] ??= etag, etag, `${path}: both engines keep the same content`);
      }
    }
  });

  after(async () => {
    await fast?.close();
    await alone?.close();
    await h?.close();
  });

  const compare = (where: string, given: Partial<Sent>, a: RawAnswer, b: RawAnswer) => {
    assert.equal(a.status, b.status, `${where}: ${a.body.toString().slice(0, 200)} / ${b.body.toString().slice(0, 200)}`);
    assert.deepEqual(sameHeads(a), sameHeads(b), where);
    assert.ok(a.body.equals(b.body), `${where}: the same bytes`);
    const ids = [a, b].map((x) => x.headers['x-request-id']);
    // Only what the app's request wrapper refuses before the app runs (a bad Host) has no id.
    if (ids.includes(undefined)) return assert.deepEqual(ids, [undefined, undefined], where);
    const id = given.headers?.['x-request-id'];
    for (const x of ids) assert.match(String(x), id === 'trace-public-1' ? /^trace-public-1$/ : UUID, where);
  };

  it('gives every request the same answer and counts the same', async () => {
    const sent = CASES.map((c, i) => c.requests(known).map((s, j) => fromAddress(s, `198.51.${i + 1}.${j + 1}`)));
    for (const [i, c] of CASES.entries()) {
      for (const [j, s] of sent[i]!.entries()) {
        const [a, b] = [await fast.send(s), await alone.send(s)];
        const where = `${c.name}, request ${j + 1} (${s.method} ${s.path})`;
        compare(where, s, a, b);
        // Which requests were taken: a test of the comparison as much as of the fast path.
        assert.deepEqual([a.taken, b.taken], [c.fast, false], where);
      }
    }
    assert.deepEqual(await fast.counted(), await alone.counted());
    const lines = (await fast.counted()).join('\n');
    for (const label of ['method="GET",route="/status/:page",status="304"', 'method="HEAD",route="/badge/:file",status="200"']) assert.ok(lines.includes(label), label);
  });

  it('spends the address budget as the app does and leaves its refusal to the app', async () => {
    const sent = LIMITED(known).map((s) => fromAddress(s, s.headers!['x-forwarded-for'] as string));
    const answers: [RawAnswer, RawAnswer][] = [];
    for (const s of sent) answers.push([await fast.send(s), await alone.send(s)]);
    answers.forEach(([a, b], j) => compare(`request ${j + 1}`, sent[j]!, a, b));
    assert.deepEqual(
      answers.map(([a]) => [a.status, a.taken]),
      [...Array.from({ length: PER_MINUTE }, () => [200, true]), [429, false], [200, true]],
    );
    assert.ok(answers[PER_MINUTE]![0].headers['retry-after']);
    assert.deepEqual(await fast.counted(), await alone.counted());
  });
});
