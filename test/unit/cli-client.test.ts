import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiRequestError, Client, ConnectionError, describeError } from '../../src/cli/client.ts';

/** A fetch that answers from a function and records what it was asked. */
function fakeFetch(answer: (url: URL, init: RequestInit) => Response | Promise<Response>) {
  const calls: Array<{ url: URL; init: RequestInit }> = [];
  const fn = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    calls.push({ url, init });
    return answer(url, init);
  }) as typeof fetch;
  return { fn, calls };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('Client', () => {
  it('sends the token, a JSON body, and keeps a base path prefix', async () => {
    const f = fakeFetch(() => json({ accepted: 1 }, 202));
    const client = new Client({ url: 'http://engine.test/lifeline/', token: 'llk_x', fetch: f.fn });
    assert.deepEqual(await client.post('/v1/heartbeats', { status: 'ok' }), { accepted: 1 });
    const [call] = f.calls;
    assert.equal(call!.url.href, 'http://engine.test/lifeline/v1/heartbeats');
    assert.equal((call!.init.headers as Record<string, string>).authorization, 'Bearer llk_x');
    assert.equal(call!.init.body, '{"status":"ok"}');
  });

  it('follows next_cursor until the list ends, asking for full pages and keeping the filters', async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
      '': { items: [1, 2], next_cursor: 'c1' },
      c1: { items: [3], next_cursor: 'c2' },
      c2: { items: [], next_cursor: null },
    };
    const f = fakeFetch((url) => json(pages[url.searchParams.get('cursor') ?? '']));
    const client = new Client({ url: 'http://engine.test', token: 't', fetch: f.fn });
    assert.deepEqual(await client.all('/v1/nodes', { state: 'down', label: undefined }), { items: [1, 2, 3], next_cursor: null });
    assert.deepEqual(
      f.calls.map((c) => c.url.search),
      ['?state=down&limit=500', '?state=down&limit=500&cursor=c1', '?state=down&limit=500&cursor=c2'],
    );
  });

  it("turns the contract's error body into an ApiRequestError with its details", async () => {
    const f = fakeFetch(() =>
      json({ error: { code: 'validation_failed', message: 'The request has invalid fields; see details.', details: [{ field: 'name', message: 'must be 1-128 characters' }] } }, 400),
    );
    const client = new Client({ url: 'http://engine.test', token: 't', fetch: f.fn });
    const err = await client.post('/v1/nodes', { name: '!' }).catch((e: unknown) => e);
    assert.ok(err instanceof ApiRequestError);
    assert.equal(
      describeError(err),
      'error: The request has invalid fields; see details. (validation_failed, HTTP 400)\n  name: must be 1-128 characters',
    );
  });

  it("keeps a conflict's fields for --json without repeating in text what its message says", async () => {
    const details = [
      { field: 'resolved_by', message: 'key deploy', value: 'api-key:0192f1c4-7d2a-7c3e-9a4b-5c6d7e8f9a0b' },
      { field: 'resolved_at', message: '2026-12-07T21:40:00.000Z', value: '2026-12-07T21:40:00.000Z' },
    ];
    const message = 'The incident was already resolved by key deploy at 2026-12-07T21:40:00.000Z.';
    const f = fakeFetch(() => json({ error: { code: 'conflict', message, details } }, 409));
    const err = await new Client({ url: 'http://engine.test', token: 't', fetch: f.fn }).post('/v1/incidents/x/resolve', {}).catch((e: unknown) => e);
    assert.ok(err instanceof ApiRequestError);
    assert.deepEqual(err.details, details);
    assert.equal(describeError(err), `error: ${message} (conflict, HTTP 409)`);
  });

  it('shows every detail of an error other than a conflict, a value or not', () => {
    const err = new ApiRequestError(400, 'validation_failed', 'The request has invalid fields; see details.', [{ field: 'limit', message: 'must be at most 500', value: '900' }]);
    assert.equal(describeError(err), 'error: The request has invalid fields; see details. (validation_failed, HTTP 400)\n  limit: must be at most 500');
  });

  it("reads a 429's Retry-After, and describes an answer that is not the contract's shape by its status", async () => {
    const f = fakeFetch(() => new Response('<html>busy</html>', { status: 429, statusText: 'Too Many Requests', headers: { 'retry-after': '7' } }));
    const err = await new Client({ url: 'http://engine.test', token: 't', fetch: f.fn }).get('/v1/nodes').catch((e: unknown) => e);
    assert.ok(err instanceof ApiRequestError);
    assert.equal(err.code, 'http_429');
    assert.equal(err.retryAfterMs, 7000);
  });

  it('reports an unreachable engine as a ConnectionError naming the URL', async () => {
    // How fetch (undici) reports a refused connection: a TypeError whose cause carries the code.
    const f = fakeFetch(() => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })));
    const err = await new Client({ url: 'http://engine.test:8080', token: 't', fetch: f.fn }).get('/v1/nodes').catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError);
    assert.equal(describeError(err), 'error: cannot reach http://engine.test:8080: ECONNREFUSED');
  });

  it('lets a request that could not be made go up as it is, not as an engine out of reach', async () => {
    // How fetch refuses a header value it cannot send (a token pasted with curly quotes).
    const refused = new TypeError('Cannot convert argument to a ByteString because the character at index 7 has a value of 8220 which is greater than 255.');
    const f = fakeFetch(() => Promise.reject(refused));
    const err = await new Client({ url: 'http://engine.test', token: 't', fetch: f.fn }).get('/v1/nodes').catch((e: unknown) => e);
    assert.equal(err, refused);
  });

  it('names the URL when what answers there is not Lifeline (another service on that port)', async () => {
    const f = fakeFetch(() => new Response('<!doctype html><p>hello', { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } }));
    const err = await new Client({ url: 'http://127.0.0.1:18713', token: 't', fetch: f.fn }).get('/v1/nodes').catch((e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.equal(err.message, "http://127.0.0.1:18713 did not answer with Lifeline's JSON (got text/html, HTTP 200) — is --url right?");
  });

  it('follows cursors past the largest page up to the number of items asked for, keeping the cursor of those left', async () => {
    // Three full pages there, at most.
    const f = fakeFetch((url) => {
      const n = Number(url.searchParams.get('limit'));
      return json({ items: Array.from({ length: n }, (_, i) => i), next_cursor: f.calls.length < 3 ? 'more' : null });
    });
    const page = await new Client({ url: 'http://engine.test', token: 't', fetch: f.fn }).all('/v1/nodes', {}, 600);
    assert.equal(page.items.length, 600);
    assert.equal(page.next_cursor, 'more');
    assert.deepEqual(f.calls.map((c) => c.url.search), ['?limit=500', '?limit=100&cursor=more']);
  });

  it('stops on a cursor given twice or an empty page with a cursor, and keeps no more than asked for', async () => {
    const url = (next: string) => fakeFetch(() => json({ items: [1], next_cursor: next })).fn;
    const again = await new Client({ url: 'http://engine.test', token: 't', fetch: url('same') }).all('/v1/nodes').catch((e: unknown) => e);
    assert.match((again as Error).message, /^http:\/\/engine\.test\/v1\/nodes answered the next_cursor "same" a second time/);
    const empty = fakeFetch(() => json({ items: [], next_cursor: 'same' }));
    const none = await new Client({ url: 'http://engine.test', token: 't', fetch: empty.fn }).all('/v1/nodes').catch((e: unknown) => e);
    assert.match((none as Error).message, /answered an empty page with a next_cursor/);
    assert.equal(empty.calls.length, 1);
    // A server that ignores limit.
    const many = fakeFetch(() => json({ items: [1, 2, 3, 4, 5], next_cursor: 'c' }));
    assert.deepEqual(await new Client({ url: 'http://engine.test', token: 't', fetch: many.fn }).all('/v1/nodes', {}, 2), { items: [1, 2], next_cursor: 'c' });
  });

  it('gives up on a silent engine after its timeout', async () => {
    const f = fakeFetch((_url, init) => new Promise<Response>((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason))));
    // The timeout's timer does not hold the event loop open (a real socket would): this does.
    const hold = setInterval(() => {}, 1000);
    const err = await new Client({ url: 'http://engine.test', token: 't', timeoutMs: 50, fetch: f.fn }).get('/healthz').catch((e: unknown) => e);
    clearInterval(hold);
    assert.ok(err instanceof ConnectionError);
    assert.match(err.message, /no answer from http:\/\/engine\.test within 0\.05 s/);
  });

  it('gives up on a body that stalls after its headers as on a silent engine, not as a fault of its own', async () => {
    // Headers at once, then a body that ends only in the error fetch gives it when its signal aborts.
    const f = fakeFetch((_url, init) => {
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"items": ['));
          init.signal!.addEventListener('abort', () => c.error(init.signal!.reason));
        },
      });
      return new Response(body, { headers: { 'content-type': 'application/json' } });
    });
    const hold = setInterval(() => {}, 1000);
    const err = await new Client({ url: 'http://engine.test', token: 't', timeoutMs: 50, fetch: f.fn }).get('/v1/nodes').catch((e: unknown) => e);
    clearInterval(hold);
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.message, 'no answer from http://engine.test within 0.05 s');
  });
});
