import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Refusal } from '../../src/errors.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { createLogger } from '../../src/logger.ts';
import { ADMIN_TOKEN, buildApp, consoleCookie, createHarness, type App, type Harness } from '../helpers/app.ts';

// A console page that fails on Lifeline's side is a page in the console's frame, as its refusals
// are, not the API's JSON: a person in a browser reads what happened and an id to quote.

const ORIGIN = 'http://localhost';
const NAV = /<nav aria-label="Console">/;

describe('console: a page that fails', () => {
  let h: Harness;
  let app: App;
  let cookie: string;
  const lines: Array<Record<string, unknown>> = [];
  /** What the maintenance page's list of windows fails with, while set. */
  let failure: Error | undefined;
  /** How the navigation's count of open incidents fails, while set: at once, or after a connect timeout's 10 s. */
  let countFails: { err: Error; afterMs: number } | undefined;
  /** The counts of open incidents asked for, and how many of the hanging ones have given up. */
  let counts = 0;
  let hangsEnded = 0;

  before(async () => {
    h = await createHarness();
    cookie = await consoleCookie(h, ORIGIN);
    // The app over the same database, whose windows' list fails as told (a bug in a statement, a
    // value Postgres refuses); every other read works, the navigation's included.
    const failing = new Proxy(h.sql, {
      apply(target, self, args) {
        const [strings] = args as [unknown];
        if (failure && Array.isArray(strings) && strings.join('').includes('from maintenances m\n    where true')) return Promise.reject(failure);
        if (Array.isArray(strings) && strings.join('').includes("from incidents where status = 'open'")) {
          counts += 1;
          const fails = countFails;
          if (fails)
            return new Promise((_, reject) =>
              setTimeout(() => {
                hangsEnded += 1;
                reject(fails.err);
              }, fails.afterMs).unref(),
            );
        }
        return Reflect.apply(target, self, args);
      },
    });
    const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    app = buildApp({ sql: failing, clock: h.clock, buffer: new HeartbeatBuffer(), log }).app;
  });
  after(async () => {
    await h.close();
  });

  const failed = () => lines.filter((l) => l.msg === 'request failed');
  const unframed = () => lines.filter((l) => l.msg === 'an error page was shown without the navigation: what it needs could not be read');
  /** The maintenance page's answer while its list fails with `err` and the database hangs as a lost one does. */
  const failingWhileHung = async (err: Error) => {
    lines.length = 0;
    counts = 0;
    hangsEnded = 0;
    failure = err;
    countFails = { err: Object.assign(new Error('write CONNECT_TIMEOUT 127.0.0.1:5432'), { code: 'CONNECT_TIMEOUT' }), afterMs: 10_000 };
    try {
      const res = await app.request('/maintenance', { headers: { cookie } });
      // Answered before the hung read gave up: the page did not wait on it.
      return { res, html: await res.text(), waited: hangsEnded > 0 };
    } finally {
      failure = undefined;
      countFails = undefined;
    }
  };

  it('answers a signed-in person a 500 page with the navigation and the request id, logged once with its stack', async () => {
    lines.length = 0;
    failure = Object.assign(new Error('relation "maintenances" does not exist'), { code: '42P01' });
    const res = await app.request('/maintenance', { headers: { cookie, 'x-request-id': 'trace-console-500' } });
    failure = undefined;
    assert.equal(res.status, 500);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-request-id'), 'trace-console-500');
    const html = await res.text();
    assert.match(html, NAV);
    assert.match(html, /<h1>Something went wrong<\/h1>/);
    assert.match(html, /give whoever runs\s+Lifeline this request id: <code>trace-console-500<\/code>/);
    assert.doesNotMatch(html, /relation|does not exist|42P01/, 'the error itself is for the log');
    assert.equal(failed().length, 1, 'logged once');
    const [line] = failed();
    assert.equal(line!.request_id, 'trace-console-500');
    assert.equal(line!.path, '/maintenance');
    assert.match(String((line!.err as { stack?: string }).stack), /relation "maintenances" does not exist\n\s+at /);
    assert.ok(!JSON.stringify(lines).includes(cookie.split('=')[1]!), 'the session id is not logged');
  });

  it("says in the API's words, with the API's status, what else escapes a page", async () => {
    lines.length = 0;
    failure = Object.assign(new Error('date/time field value out of range'), { code: '22008' });
    const res = await app.request('/maintenance', { headers: { cookie } });
    failure = undefined;
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, NAV);
    assert.match(html, /<h1>Not done<\/h1>/);
    assert.match(html, /\(request\): holds a value the database cannot store\./);
    assert.equal(failed().length, 0, 'a refused value is a warning, not a failure');
  });

  it('answers a signed-out visitor the bare 500 page; the API keeps its JSON', async () => {
    lines.length = 0;
    // Signing in writes the session: with its table away, it fails before anyone is signed in.
    await h.sql`alter table console_sessions rename to console_sessions_hidden`;
    let signIn: Response;
    let api: Response;
    try {
      signIn = await app.request('/sign-in', {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'trace-sign-in' },
        body: new URLSearchParams({ key: ADMIN_TOKEN }).toString(),
      });
      failure = new Error('relation "maintenances" does not exist');
      const browser = { authorization: `Bearer ${ADMIN_TOKEN}`, 'sec-fetch-mode': 'navigate', accept: 'text/html,application/xhtml+xml' };
      api = await app.request('/v1/maintenances', { headers: browser });
    } finally {
      failure = undefined;
      await h.sql`alter table console_sessions_hidden rename to console_sessions`;
    }
    assert.equal(signIn.status, 500);
    assert.equal(signIn.headers.get('set-cookie'), null);
    const html = await signIn.text();
    assert.match(html, /<h1>Something went wrong<\/h1>/);
    assert.match(html, /<code>trace-sign-in<\/code>/);
    assert.doesNotMatch(html, /<nav/);
    assert.equal(api.status, 500);
    assert.deepEqual(await api.json(), { error: { code: 'internal', message: 'Something went wrong on our side; it has been logged.' } });
    assert.equal(failed().length, 2);
  });

  it('answers at once and bare when the database could not be reached, without asking it again for the navigation', async () => {
    const { res, html, waited } = await failingWhileHung(Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' }));
    // A lost database is a 503 with Retry-After, as on the API: try again soon, nothing is wrong with the request.
    assert.equal(res.status, 503);
    assert.ok(res.headers.get('retry-after'), 'says when to try again');
    assert.match(html, /<h1>Not done<\/h1>.*Postgres does not answer/s);
    assert.doesNotMatch(html, NAV);
    assert.equal(counts, 1, "the page's own count only");
    assert.equal(waited, false, 'answered while the hung read still hung');
  });

  it('gives up on the navigation of a failed page within moments when the database hangs', async () => {
    const { res, html, waited } = await failingWhileHung(Object.assign(new Error('relation "maintenances" does not exist'), { code: '42P01' }));
    assert.equal(res.status, 500);
    assert.doesNotMatch(html, NAV);
    assert.equal(waited, false, 'answered while the hung read still hung');
    assert.equal(unframed().length, 1);
  });

  it('keeps the Retry-After of what it answers', async () => {
    failure = new Refusal('conflict', 'The window is held by a deletion; try again in 7 s.', undefined, 7);
    const res = await app.request('/maintenance', { headers: { cookie } });
    failure = undefined;
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(await res.text(), NAV);
  });

  it('answers a fragment htmx asked for with its status and no page', async () => {
    lines.length = 0;
    countFails = { err: Object.assign(new Error('relation "incidents" does not exist'), { code: '42P01' }), afterMs: 0 };
    const res = await app.request('/nav/open-incidents', { headers: { cookie, 'hx-request': 'true' } });
    countFails = undefined;
    assert.equal(res.status, 500);
    assert.equal(await res.text(), '');
    assert.equal(failed().length, 1, 'logged as any failure');
  });
});
