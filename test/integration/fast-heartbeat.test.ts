import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, START, createHarness, type Harness } from '../helpers/app.ts';
import { DifferentialEngine } from '../helpers/differential.ts';
import { until } from '../helpers/wait.ts';

// The single heartbeat's fast path (src/http/fast-heartbeat.ts) must answer exactly as the app
// does (test/helpers/differential.ts): every answer, every heartbeat buffered and every count must
// come out the same.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const AGENT_BODY = JSON.stringify({ status: 'ok', checks: { disk: { status: 'ok', value: 0.42 } } });
// Small enough that one case reaches them: 4 requests a minute per node token, 3 failed
// authentications a minute per address.
const LIMITS = { nodeTokenPerMinute: 4, authFailuresPerMinute: 4 };

interface Sent {
  path?: string;
  /** An array is sent as that many header lines. */
  headers: Record<string, string | string[]>;
  body: string;
}

interface Case {
  name: string;
  /** Whether the fast path is to take every request of the case (otherwise none of them). */
  fast: boolean;
  requests: (t: Tokens, engine: string) => Sent[];
}

interface Tokens {
  node: (i: number) => string;
  nodeName: (i: number) => string;
  read: string;
  ingest: string;
}

const json = (token: string, body: string, extra: Record<string, string | string[]> = {}): Sent => ({
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...extra },
  body,
});

// Each case has its own node (its index), so the per-token limit only meets the case about it.
const CASES: Case[] = [
  { name: 'the agent body, with a sane request id', fast: true, requests: (t) => [json(t.node(0), AGENT_BODY, { 'x-request-id': 'trace-fast-1' })] },
  { name: 'every field, naming its own node', fast: true, requests: (t) => [json(t.node(1), JSON.stringify({ node: t.nodeName(1), status: 'degraded', seq: 7, sent_at: START, interval_seconds: 30, checks: { 'db:main': { status: 'warn', message: 'slow' } }, extra: true }))] },
  { name: 'a stale seq after a newer one', fast: true, requests: (t) => [json(t.node(2), '{"status":"ok","seq":9}'), json(t.node(2), '{"status":"failing","seq":3}')] },
  { name: 'the batch form with a node token', fast: true, requests: (t) => [json(t.node(3), JSON.stringify({ heartbeats: [{ status: 'ok' }, { status: 'failing', seq: 1 }] }))] },
  { name: 'a JSON content type with parameters', fast: true, requests: (t) => [json(t.node(4), AGENT_BODY, { 'content-type': 'application/json; charset=utf-8' })] },
  { name: 'a body starting with a byte order mark', fast: true, requests: (t) => [json(t.node(5), `\uFEFF${AGENT_BODY}`)] },
  { name: 'a hostile request id', fast: true, requests: (t) => [json(t.node(6), AGENT_BODY, { 'x-request-id': 'a b<script>' })] },
  { name: 'bad JSON', fast: true, requests: (t) => [json(t.node(7), '{"status":')] },
  { name: 'an empty body', fast: true, requests: (t) => [json(t.node(8), '')] },
  { name: 'bad fields', fast: true, requests: (t) => [json(t.node(9), JSON.stringify({ status: 'nope', seq: -1, checks: { 'bad name': { status: 'ok' } } }))] },
  { name: 'a body that is not an object', fast: true, requests: (t) => [json(t.node(10), '[1,2]')] },
  { name: 'U+0000 in a value and in a key', fast: true, requests: (t) => [json(t.node(11), JSON.stringify({ status: 'ok', checks: { disk: { status: 'ok', message: 'a\u0000b' } }, 'k\u0000': 1 }))] },
  { name: 'arrays nested too deep', fast: true, requests: (t) => [json(t.node(31), `{"status":"ok","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)] },
  { name: 'an unpaired surrogate', fast: true, requests: (t) => [json(t.node(12), '{"status":"ok","note":"\\ud800"}')] },
  { name: 'another node named', fast: true, requests: (t) => [json(t.node(13), JSON.stringify({ node: t.nodeName(14) }))] },
  { name: 'an ingest key naming a known node', fast: true, requests: (t) => [json(t.ingest, JSON.stringify({ node: t.nodeName(15), status: 'ok' }))] },
  { name: 'an ingest key naming an unknown node (registration off)', fast: true, requests: (t) => [json(t.ingest, JSON.stringify({ node: 'nobody-here', status: 'ok' }))] },
  { name: 'an ingest key without a node', fast: true, requests: (t) => [json(t.ingest, '{"status":"ok"}')] },
  { name: 'an unknown token', fast: false, requests: () => [json('llk_not-a-secret', AGENT_BODY)] },
  { name: 'no Authorization', fast: false, requests: () => [{ headers: { 'content-type': 'application/json' }, body: AGENT_BODY }] },
  { name: 'a key without the heartbeat scope', fast: false, requests: (t) => [json(t.read, AGENT_BODY)] },
  { name: 'a body over 1 MiB', fast: false, requests: (t) => [json(t.node(17), JSON.stringify({ status: 'ok', pad: 'x'.repeat(1024 * 1024) }))] },
  { name: 'not declared JSON', fast: false, requests: (t) => [json(t.node(18), AGENT_BODY, { 'content-type': 'text/plain' })] },
  { name: 'a query string', fast: false, requests: (t) => [{ ...json(t.node(19), AGENT_BODY), path: '/v1/heartbeats?x=1' }] },
  { name: 'a trailing slash', fast: false, requests: (t) => [{ ...json(t.node(20), AGENT_BODY), path: '/v1/heartbeats/' }] },
  // node:http keeps the first of two Authorization lines; the app's request joins them (401).
  { name: 'two Authorization headers', fast: false, requests: (t) => [json(t.node(24), AGENT_BODY, { authorization: [`Bearer ${t.node(24)}`, 'Bearer x'] })] },
  { name: 'a Host the app cannot make a URL of', fast: false, requests: (t) => [json(t.node(25), AGENT_BODY, { host: 'a/b' })] },
  { name: 'a Host the app reads as another (upper case)', fast: false, requests: (t) => [json(t.node(26), AGENT_BODY, { host: 'Lifeline.Example' })] },
  // Each engine its own key: both share the database that remembers keys.
  { name: 'an Idempotency-Key, then its retry', fast: false, requests: (t, engine) => [0, 1].map(() => json(t.node(21), AGENT_BODY, { 'idempotency-key': `fast-${engine}` })) },
];

// The limits' refusals come last in a run of their own, as each spends what the next would need.
const LIMITED: Case[] = [
  {
    name: "past the node token's requests a minute",
    fast: false,
    requests: (t) => Array.from({ length: LIMITS.nodeTokenPerMinute + 1 }, () => json(t.node(22), AGENT_BODY)),
  },
  {
    name: 'a cached token from an address past its failed authentications, then another guess',
    fast: false,
    requests: (t) => [...Array.from({ length: LIMITS.authFailuresPerMinute }, (_, i) => json(`llk_guess-${i}`, AGENT_BODY)), json(t.node(23), AGENT_BODY), json('llk_guess-after', AGENT_BODY)],
  },
];

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | null>;
  /** Whether the fast path took the request. */
  taken: boolean;
}

// What an answer must carry alike; the request id is compared apart (a new one is random).
const HEADERS = ['content-type', 'content-length', 'retry-after', 'idempotent-replayed', 'ratelimit-limit'];

class Engine extends DifferentialEngine {
  constructor(
    h: Harness,
    readonly label: string,
    fast: boolean,
  ) {
    super(h, fast, { autoRegister: false, limits: LIMITS });
  }

  async post(s: Sent): Promise<Answer> {
    const res = await this.send({ method: 'POST', path: s.path ?? '/v1/heartbeats', headers: s.headers, body: s.body });
    const header = (n: string) => (res.headers[n] === undefined ? null : String(res.headers[n]));
    return { status: res.status, body: res.body.toString(), headers: Object.fromEntries([...HEADERS, 'x-request-id'].map((n) => [n, header(n)])), taken: res.taken };
  }

  async run(cases: Case[], t: Tokens): Promise<Answer[][]> {
    const answers: Answer[][] = [];
    for (const c of cases) {
      const each: Answer[] = [];
      for (const s of c.requests(t, this.label)) each.push(await this.post(s));
      answers.push(each);
    }
    return answers;
  }

  override counted(): Promise<string[]> {
    return super.counted(['lifeline_heartbeats_received_total']);
  }
}

describe('the single heartbeat fast path answers as the app does', () => {
  let h: Harness;
  let t: Tokens;
  let fast: Engine;
  let alone: Engine;

  before(async () => {
    h = await createHarness({ autoRegister: false });
    const nodes: { token: string; name: string }[] = [];
    for (let i = 0; i < 32; i++) nodes.push(await h.createNode(`fast-${i}`));
    t = {
      node: (i) => nodes[i]!.token,
      nodeName: (i) => nodes[i]!.name,
      read: (await h.createKey('read')).secret,
      ingest: (await h.createKey('ingest')).secret,
    };
    fast = new Engine(h, 'fast', true);
    alone = new Engine(h, 'alone', false);
    for (const e of [fast, alone]) {
      await e.start();
      // As a running engine's would be: the fast path only takes secrets the cache holds.
      for (const secret of [...nodes.map((n) => n.token), t.read, t.ingest, ADMIN_TOKEN]) assert.ok(await e.built.identity.principal(secret));
    }
  });

  after(async () => {
    await fast?.close();
    await alone?.close();
    await h?.close();
  });

  // The app's request wrapper answers a Host it refuses in plain text.
  const parsed = (body: string): unknown => {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  };

  const compare = (cases: Case[], a: Answer[][], b: Answer[][]) => {
    cases.forEach((c, i) => {
      const [x, y] = [a[i]!, b[i]!];
      assert.equal(x.length, y.length, c.name);
      x.forEach((answer, j) => {
        const other = y[j]!;
        const where = `${c.name}, request ${j + 1}`;
        assert.equal(answer.status, other.status, `${where}: ${answer.body} / ${other.body}`);
        assert.deepEqual(parsed(answer.body), parsed(other.body), where);
        for (const name of HEADERS) assert.equal(answer.headers[name], other.headers[name], `${where}: ${name}`);
        // Only what the app's request wrapper refuses before the app runs (a bad Host) has no id.
        const ids = [answer, other].map((x) => x.headers['x-request-id']);
        if (ids.includes(null)) return assert.deepEqual(ids, [null, null], where);
        const given = c.requests(t, 'fast')[j]!.headers['x-request-id'];
        if (given === 'trace-fast-1') assert.equal(answer.headers['x-request-id'], given, where);
        else assert.match(answer.headers['x-request-id'] ?? '', UUID, where);
        assert.match(other.headers['x-request-id'] ?? '', given === 'trace-fast-1' ? /^trace-fast-1$/ : UUID, where);
      });
    });
  };

  it('gives every request the same answer, buffers the same heartbeats and counts the same', async () => {
    const cases = CASES;
    const a = await fast.run(cases, t);
    const b = await alone.run(cases, t);
    compare(cases, a, b);

    // Which requests were taken: a test of the comparison above as much as of the fast path.
    cases.forEach((c, i) => assert.deepEqual(a[i]!.map((x) => x.taken), a[i]!.map(() => c.fast), c.name));
    assert.ok(b.flat().every((x) => !x.taken), 'the app alone took nothing the fast way');
    assert.equal(a[0]![0]!.status, 202, 'the agent body is accepted');
    assert.equal(a[cases.findIndex((c) => c.name.startsWith('bad JSON'))]![0]!.status, 400);

    const byNode = (e: Engine) => e.buffer.take().sort((p, q) => p.nodeId.localeCompare(q.nodeId));
    const stored = byNode(fast);
    assert.ok(stored.length >= 8, `heartbeats buffered: ${stored.length}`);
    assert.deepEqual(stored, byNode(alone));
    assert.deepEqual(await fast.counted(), await alone.counted());
  });

  it('counts a client gone before its body ended as the app does', async () => {
    const abandon = async (e: Engine) => {
      const before = (await e.counted()).join('\n');
      const socket = connect(e.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`POST /v1/heartbeats HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${t.node(27)}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"status":`);
      const seen = e.seen;
      await until('the request reached the server', async () => e.seen > seen);
      socket.destroy();
      return until('the abandoned heartbeat counted', async () => {
        const now = await e.counted();
        return now.join('\n') !== before && now.some((l) => l.includes('status="500"')) && now;
      });
    };
    const [a, b] = [await abandon(fast), await abandon(alone)];
    assert.deepEqual(a, b);
    assert.ok(a.some((l) => /result="rejected"/.test(l)), a.join('\n'));
    assert.deepEqual(fast.buffer.take(), []);
  });

  // Raw bytes, for what node:http's client cannot send: a body apart from its head, one header
  // repeated under another case.
  const rawPost = async (e: Engine, lines: string[], body: string, apart: boolean) => {
    const socket = connect(e.port, '127.0.0.1');
    await once(socket, 'connect');
    const head = `POST /v1/heartbeats HTTP/1.1\r\nhost: 127.0.0.1\r\n${lines.join('\r\n')}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
    const seen = e.seen;
    e.taken = false;
    socket.write(apart ? head : head + body);
    if (apart) {
      await until('the head reached the server', async () => e.seen > seen);
      socket.write(body);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    return { status: Number(text.slice(9, 12)), body: parsed(text.slice(text.indexOf('\r\n\r\n') + 4)), taken: e.taken };
  };

  it('reads a body sent apart from its head as the app does', async () => {
    const send = (e: Engine) => rawPost(e, [`authorization: Bearer ${t.node(28)}`], AGENT_BODY, true);
    const [a, b] = [await send(fast), await send(alone)];
    assert.deepEqual(a, { status: 202, body: { accepted: 1 }, taken: true });
    assert.deepEqual(b, { ...a, taken: false });
    const buffered = fast.buffer.take();
    assert.deepEqual(buffered.map((x) => x.status), ['ok']);
    assert.deepEqual(buffered, alone.buffer.take());
    assert.deepEqual(await fast.counted(), await alone.counted());
  });

  it('leaves the limits’ refusals to the app, which answers them the same', async () => {
    const a = await fast.run(LIMITED, t);
    const b = await alone.run(LIMITED, t);
    compare(LIMITED, a, b);
    const [perToken, perAddress] = a;
    assert.deepEqual(perToken!.map((x) => [x.status, x.taken]), [...Array.from({ length: LIMITS.nodeTokenPerMinute }, () => [202, true]), [429, false]]);
    // The first test's two failed authentications count too: the budget ends within these guesses.
    // The known token is taken and accepted all the same; the next guess is refused.
    assert.deepEqual(perAddress!.map((x) => [x.status, x.taken]).slice(-3), [[429, false], [202, true], [429, false]]);
    assert.equal(perAddress![0]!.status, 401);
    assert.ok(perToken!.at(-1)!.headers['retry-after']);
    assert.deepEqual(fast.buffer.take().sort((p, q) => p.nodeId.localeCompare(q.nodeId)), alone.buffer.take().sort((p, q) => p.nodeId.localeCompare(q.nodeId)));
    assert.deepEqual(await fast.counted(), await alone.counted());
  });

  it('takes one Authorization in any case, and leaves it sent twice under two cases to the app', async () => {
    // After the limits' case: a minute later, with the budgets it spent renewed.
    for (const e of [fast, alone]) e.clock.advance(60_000);
    const single = (e: Engine) => rawPost(e, [`Authorization: Bearer ${t.node(30)}`], AGENT_BODY, false);
    const [c, d] = [await single(fast), await single(alone)];
    assert.deepEqual(c, { status: 202, body: { accepted: 1 }, taken: true });
    assert.deepEqual(d, { ...c, taken: false });
    // One line already lower case: a count that compared names exactly would see one and take it.
    const twice = (e: Engine) => rawPost(e, [`authorization: Bearer ${t.node(29)}`, 'AUTHORIZATION: Bearer x'], AGENT_BODY, false);
    const [a, b] = [await twice(fast), await twice(alone)];
    assert.deepEqual([a.status, a.taken], [401, false]);
    assert.deepEqual([b.status, b.body], [a.status, a.body]);
    assert.deepEqual(fast.buffer.take(), alone.buffer.take());
    assert.deepEqual(await fast.counted(), await alone.counted());
  });
});
