import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/logger.ts';
import { ADMIN_TOKEN, createHarness, type Harness } from '../helpers/app.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  let h: Harness;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    h = await createHarness({ log: createLogger('info', out) });
    // Two routes that log, as a route or a failing command would, behind the same middleware.
    h.app.get('/test/logs', (c) => {
      c.var.log.info({ step: 1 }, 'first');
      c.var.log.warn({ step: 2, authorization: `Bearer ${ADMIN_TOKEN}` }, 'second');
      return c.text('ok');
    });
    h.app.get('/test/fails', () => {
      throw new Error('boom');
    });
  });
  after(() => h.close());

  it('generates an id and answers it, on success and on refusal', async () => {
    const ok = await h.req('GET', '/healthz');
    const refused = await h.req('GET', '/v1/nodes');
    const missing = await h.req('GET', '/v1/nodes/nope', { token: ADMIN_TOKEN });
    const ids = [ok, refused, missing].map((r) => r.headers.get('x-request-id'));
    assert.deepEqual([ok.status, refused.status, missing.status], [200, 401, 404]);
    for (const id of ids) assert.match(id ?? '', UUID);
    assert.equal(new Set(ids).size, 3, 'every request has its own id');
  });

  it("keeps a caller's sane id and replaces one that is too long or carries unsafe characters", async () => {
    const kept = await h.req('GET', '/healthz', { headers: { 'x-request-id': 'req-2026_11=abc' } });
    assert.equal(kept.headers.get('x-request-id'), 'req-2026_11=abc');
    for (const hostile of ['x'.repeat(129), 'a b', 'a\tb', '<script>', 'id"}{"level":60', 'ä']) {
      const res = await h.req('GET', '/healthz', { headers: { 'x-request-id': hostile } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('x-request-id') ?? '', UUID, `kept ${JSON.stringify(hostile)}`);
    }
    const longest = 'y'.repeat(128);
    assert.equal((await h.req('GET', '/healthz', { headers: { 'x-request-id': longest } })).headers.get('x-request-id'), longest);
  });

  it('puts the id in every log line of that request, and no credential', async () => {
    lines.length = 0;
    const res = await h.req('GET', '/test/logs', { headers: { 'x-request-id': 'trace-logs-1' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'trace-logs-1');
    assert.deepEqual(lines.map((l) => [l.msg, l.request_id]), [['first', 'trace-logs-1'], ['second', 'trace-logs-1']]);
    assert.equal(lines[1]!.authorization, '[redacted]');
  });

  it('names the request in the log line of a failure and in its 500 answer', async () => {
    lines.length = 0;
    const res = await h.req('GET', '/test/fails', { headers: { 'x-request-id': 'trace-fails-1' } });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-request-id'), 'trace-fails-1');
    const failed = lines.find((l) => l.msg === 'request failed');
    assert.equal(failed?.request_id, 'trace-fails-1');
  });
});
