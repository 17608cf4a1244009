import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelayMs, runAgent, type Beat } from '../../src/cli/agent-loop.ts';
import { ApiRequestError, Client } from '../../src/cli/client.ts';

describe('retryDelayMs', () => {
  const cases: Array<[string, number, number, number | undefined, number, number]> = [
    // what, interval, failures, retry-after, random, expected
    ['the first retry waits one interval', 10_000, 1, undefined, 0, 10_000],
    ['each further failure doubles it', 10_000, 3, undefined, 0, 40_000],
    ['it stops growing at a minute', 10_000, 10, undefined, 0, 60_000],
    ['an interval over a minute is never shortened', 120_000, 5, undefined, 0, 120_000],
    ['jitter only adds, up to 20 %', 10_000, 1, undefined, 1, 12_000],
    ["a 429's Retry-After wins when longer", 10_000, 1, 30_000, 0, 30_000],
    ['a Retry-After shorter than the interval does not speed it up', 10_000, 1, 1_000, 0, 10_000],
  ];
  for (const [what, interval, failures, retryAfter, random, expected] of cases) {
    it(what, () => assert.equal(retryDelayMs(interval, failures, retryAfter, () => random), expected));
  }
});

/** A client whose fetch answers from a script, one entry per request; past its end, 202. */
function scriptedClient(script: Array<number | 'refuse'>) {
  const bodies: Array<Record<string, unknown>> = [];
  const fetchFn = (async (_url: string | URL | Request, init: RequestInit = {}) => {
    bodies.push(JSON.parse(String(init.body)) as Record<string, unknown>);
    const step = script.shift() ?? 202;
    if (step === 'refuse') throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    const error = { error: { code: step === 401 ? 'unauthorized' : 'internal', message: 'no' } };
    return new Response(JSON.stringify(step === 202 ? { accepted: 1 } : error), { status: step });
  }) as typeof fetch;
  return { client: new Client({ url: 'http://engine.test', token: 't', fetch: fetchFn }), bodies };
}

describe('runAgent', () => {
  it('sends ok heartbeats with increasing seq, retries through errors, and stops when aborted', async () => {
    const { client, bodies } = scriptedClient([202, 'refuse', 503, 202]);
    const stop = new AbortController();
    const beats: Beat[] = [];
    await runAgent({
      client,
      node: 'web-1',
      intervalMs: 5,
      collect: () => ({ disk: { status: 'ok', value: 50 } }),
      signal: stop.signal,
      onBeat: (b) => {
        beats.push(b);
        if (beats.length === 4) stop.abort();
      },
    });
    assert.deepEqual(beats.map((b) => b.ok), [true, false, false, true]);
    assert.ok(beats.every((b) => b.ok || b.retryInMs >= 5), 'never retries faster than the interval');
    assert.deepEqual(bodies.map((b) => [b.node, b.status]), Array(4).fill(['web-1', 'ok']));
    // Whole seconds, at least 1: what a node this heartbeat registers is given as its interval.
    assert.deepEqual(bodies.map((b) => b.interval_seconds), Array(4).fill(1));
    const seqs = bodies.map((b) => b.seq as number);
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `seq increases: ${seqs}`);
    assert.ok(seqs[0]! >= Date.now() - 60_000, 'seq starts from the clock, so a restarted agent is not ignored');
  });

  it('sends a plain heartbeat, with no checks field, when there are no checks (--checks none)', async () => {
    const { client, bodies } = scriptedClient([]);
    const stop = new AbortController();
    await runAgent({ client, intervalMs: 5, collect: () => ({}), signal: stop.signal, onBeat: () => stop.abort() });
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0]!.status, 'ok');
    assert.ok(!('checks' in bodies[0]!), JSON.stringify(bodies[0]));
  });

  it('stops with the error when the request cannot be made at all, since retrying cannot help', async () => {
    const refused = new TypeError('Cannot convert argument to a ByteString because the character at index 7 has a value of 8220 which is greater than 255.');
    const client = new Client({ url: 'http://engine.test', token: 't', fetch: (() => Promise.reject(refused)) as typeof fetch });
    const stop = new AbortController();
    const beats: Beat[] = [];
    const err = await runAgent({
      client,
      intervalMs: 5,
      collect: () => ({}),
      signal: stop.signal,
      onBeat: (b) => void (beats.push(b) === 3 && stop.abort()),
    }).catch((e: unknown) => e);
    assert.equal(err, refused);
    assert.equal(beats.length, 0);
  });

  it('stops with the error when the engine refuses the token, since retrying cannot help', async () => {
    const { client } = scriptedClient([401]);
    const err = await runAgent({ client, intervalMs: 5, collect: () => ({}), signal: new AbortController().signal }).catch((e: unknown) => e);
    assert.ok(err instanceof ApiRequestError);
    assert.equal(err.status, 401);
  });
});
