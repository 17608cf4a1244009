import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import postgres from 'postgres';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { ADMIN_TOKEN, buildApp, createHarness, send, type Harness } from '../helpers/app.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { readEvents } from '../helpers/sse.ts';
import { until, withPatience } from '../helpers/wait.ts';

// Open event streams re-check their key or session together: one revocation, or one keepalive
// beat, is one lookup for all of them, not one per stream. Counted on the queries a second app's
// pool sends (postgres.js's debug hook, which can also make a query fail before it is sent, as a
// dropped connection would), while the harness's app makes the changes.

const STREAMS = 6;
const KEY_LOOKUP = /from api_keys where secret_hash/;
const SESSION_LOOKUP = /from console_sessions s/;

describe('open streams checking their credentials', () => {
  let h: Harness;
  let p: ReturnType<typeof createPipeline>;
  const sent: string[] = [];
  let counted: postgres.Sql;
  /** Queries of the counted pool that fail, and how many more of them will. */
  let failing = { pattern: /$^/, times: 0 };
  /** What each test opened, undone after it whether it passed or not. */
  let undo: (() => Promise<unknown>)[] = [];
  const undoAll = async () => {
    await Promise.all(undo.map((u) => u().catch(() => {})));
    undo = [];
  };

  before(async () => {
    h = await createHarness();
    p = createPipeline(h.db, h.clock);
    await p.flush();
    const debug = (_connection: number, query: string) => {
      sent.push(query);
      if (failing.times > 0 && failing.pattern.test(query)) {
        failing.times -= 1;
        // With the code a reset connection has: only such a blip is worth a rerun.
        throw Object.assign(new Error('connection reset (failed by the test)'), { code: 'ECONNRESET' });
      }
    };
    counted = postgres(h.db.url, { max: 10, onnotice: () => {}, debug });
  });
  afterEach(async () => {
    failing = { pattern: /$^/, times: 0 };
    await undoAll();
  });
  after(async () => {
    await p.close();
    await counted.end({ timeout: 1 });
    await h.close();
  });

  /** An app on the counted pool, hearing notices; its streams share only its own keepalive timer. */
  async function countedApp() {
    const built = buildApp({ sql: counted, clock: h.clock, buffer: new HeartbeatBuffer() });
    undo.push(await built.feed.listen(), await built.identity.listen());
    const listen = async (auth: { token: string } | { headers: { cookie: string } }) => {
      const size = built.feed.size;
      const res = await send(built.app, 'GET', '/v1/events', auth);
      if (res.status !== 200) assert.fail(`${res.status}: ${await res.text()}`);
      await until('the stream to subscribe', async () => built.feed.size > size);
      const events = readEvents(res);
      undo.push(events.stop);
      return events;
    };
    return { listen };
  }

  async function signIn(secret: string): Promise<string> {
    const res = await h.req('POST', '/sign-in', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' }, body: `key=${encodeURIComponent(secret)}` });
    assert.equal(res.status, 303, await res.text());
    return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  }

  const lookups = (pattern: RegExp) => sent.filter((q) => pattern.test(q)).length;

  /**
   * Opens a Bearer and a session stream on each of STREAMS keys, revokes the first key, commits a
   * transition, and waits for the first key's streams to end and the others to see the transition:
   * which they do only once their checks have answered. `beforeRevoking` runs once the streams are open.
   */
  async function revokeOneOf(name: string, beforeRevoking = () => {}) {
    const app = await countedApp();
    const keys = await Promise.all(Array.from({ length: STREAMS }, (_, i) => h.createKey('read', `${name}-${i}`)));
    const bearer = await Promise.all(keys.map((k) => app.listen({ token: k.secret })));
    const cookies = await Promise.all(keys.map((k) => signIn(k.secret)));
    const session = await Promise.all(cookies.map((cookie) => app.listen({ headers: { cookie } })));
    sent.length = 0;
    beforeRevoking();

    assert.equal((await h.admin('DELETE', `/v1/api-keys/${keys[0]!.id}`)).status, 204);
    const id = await p.addNode(`${name}-after-revoke`);
    p.beat(id);
    await p.tick();
    const seen = (e: { data: unknown }) => (e.data as { node_name?: string }).node_name === `${name}-after-revoke`;
    await Promise.all([bearer[0]!, session[0]!].map((s) => withPatience('the revoked key\'s streams to end', s.ended())));
    await Promise.all([...bearer.slice(1), ...session.slice(1)].map((s) => s.next(seen)));
    return { revoked: [bearer[0]!, session[0]!], lookups: { keys: lookups(KEY_LOOKUP), sessions: lookups(SESSION_LOOKUP) } };
  }

  it('checks every stream of a process in one query per kind when a key is revoked', async () => {
    const { revoked, lookups } = await revokeOneOf('batched');
    assert.deepEqual(lookups, { keys: 1, sessions: 1 });
    // The transition was committed after the revocation: the revoked key's streams never see it.
    assert.deepEqual(revoked.map((s) => s.seen), [[], []]);
  });

  /**
   * Opens STREAMS session streams with the keepalive timer faked (nothing else here runs on
   * setInterval), and hands them to `test`, which beats with mock.timers.tick.
   */
  async function withFakedBeats(test: (streams: ReturnType<typeof readEvents>[]) => Promise<void>) {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const app = await countedApp();
      const cookies = await Promise.all(Array.from({ length: STREAMS }, () => signIn(ADMIN_TOKEN)));
      const streams = await Promise.all(cookies.map((cookie) => app.listen({ headers: { cookie } })));
      sent.length = 0;
      await test(streams);
    } finally {
      // Before the reset: a stream stopped after it would clear the faked timer with the real clearInterval.
      await undoAll();
      mock.timers.reset();
    }
  }

  it('checks every session stream in one query at a keepalive beat, and ends those idled out', () =>
    withFakedBeats(async (streams) => {
      // 12 hours without use: an open stream is not use, so every session has idled out.
      h.clock.advance(12 * 3_600_000 + 1000);
      mock.timers.tick(20_000);
      await Promise.all(streams.map((s) => withPatience('the idle session\'s stream to end', s.ended())));
      assert.equal(lookups(SESSION_LOOKUP), 1);
    }));

  it('keeps every stream through a beat whose checks fail, and ends them at the second, each reconnecting at its own time', () =>
    withFakedBeats(async (streams) => {
      // Each beat's lookup and its one rerun fail.
      failing = { pattern: SESSION_LOOKUP, times: 4 };
      mock.timers.tick(20_000);
      await until('the first beat\'s lookup and its rerun', async () => lookups(SESSION_LOOKUP) === 2);
      mock.timers.tick(20_000);
      await Promise.all(streams.map((s) => withPatience('the stream to end after two failed beats', s.ended())));
      // The second beat checked every stream again (one lookup and its rerun): none had ended at the first.
      assert.equal(lookups(SESSION_LOOKUP), 4);
      for (const s of streams) {
        assert.equal(s.retries.length, 2, `a retry: besides the first; saw ${JSON.stringify(s.retries)}`);
        assert.ok(s.retries[1]! >= 2_000 && s.retries[1]! < 12_000, `retry ${s.retries[1]} within 2-12 s`);
      }
    }));

  it('runs a revocation\'s failed check once more rather than ending every stream', async () => {
    // The first key lookup and the first session lookup fail; their reruns answer.
    const { lookups } = await revokeOneOf('rerun', () => {
      failing = { pattern: new RegExp(`${KEY_LOOKUP.source}|${SESSION_LOOKUP.source}`), times: 2 };
    });
    assert.deepEqual(lookups, { keys: 2, sessions: 2 });
  });
});
