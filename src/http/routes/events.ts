import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import * as v from 'valibot';
import type { LiveFeed } from '../../live/feed.ts';
import { EVENT_TYPES, type EventType, type LiveEvent } from '../../live/model.ts';
import type { IdentityCache } from '../../access/identity-cache.ts';
import { requireScope } from '../auth.ts';
import { operationDocs } from '../openapi.ts';
import type { StreamEnv } from '../session.ts';
import { closedObject, query } from '../validation.ts';

const isEventType = (t: string): t is EventType => (EVENT_TYPES as readonly string[]).includes(t);
/** How many of the unknown names a refusal quotes: a query can hold thousands of commas. */
const UNKNOWN_SHOWN = 10;

/** What a `types` naming something the engine does not send is told, every unknown name quoted (the first UNKNOWN_SHOWN). */
function unknownTypes(types: readonly string[]): string {
  const unknown = [...new Set(types.filter((t) => !isEventType(t)))];
  const named = unknown.slice(0, UNKNOWN_SHOWN).map((t) => JSON.stringify(t)).join(', ');
  const more = unknown.length > UNKNOWN_SHOWN ? ` and ${unknown.length - UNKNOWN_SHOWN} more` : '';
  return `${named}${more} ${unknown.length === 1 ? 'is not an event type' : 'are not event types'}: must be a comma list of ${EVENT_TYPES.join(', ')}`;
}

/**
 * Closed, as lists' queries are: a filter that is not read (`?type=`, the API's is `types`)
 * subscribed to every event, the widest answer a typo could give a consumer.
 */
export const EventsQuery = closedObject({
  types: v.optional(
    v.pipe(
      v.string(),
      v.transform((s) => s.split(',')),
      v.check((types) => types.every(isEventType), (refused) => unknownTypes(refused.input)),
      v.array(v.picklist(EVENT_TYPES)),
    ),
  ),
});

/**
 * A comment line now and then keeps proxies and load balancers from closing a quiet stream; each
 * also checks the stream's credentials again (a session's idle timeout or lifetime passing, a
 * notice missed), so an open stream outlives its session by at most this long while its checks
 * answer (see rechecker). Every stream of the process beats on one timer, so their checks go out
 * in one turn and share a query: per 20 s, one indexed query per 1,000 session streams, and a
 * cache hit per Bearer stream (or one query for those whose cache entry ran out).
 */
const KEEPALIVE_MS = 20_000;
/**
 * Events a client may fall behind by before its stream is closed (it reconnects and re-reads): a
 * 10,000-node outage is 10,000 transitions, and a stuck reader must not hold memory for ever.
 */
const MAX_QUEUED = 50_000;
/** How long a client waits before reconnecting a stream that ended (the SSE `retry:` field). */
const RETRY_MS = 2_000;
/**
 * What a stream ended by checks that could not be made adds to RETRY_MS, at random: the checks of
 * a process's streams share one timer and one query, so they fail together and 1,000 tabs would
 * otherwise reconnect within the same moment, as the database comes back. Spread over 10 s, that
 * is ~100 reconnects a second.
 */
const FAILED_RETRY_SPREAD_MS = 10_000;

/** The `retry:` a stream ended by failed checks is given: 2–12 s, a different one per stream. */
function retryAfterFailedChecks(): number {
  return RETRY_MS + Math.floor(Math.random() * FAILED_RETRY_SPREAD_MS);
}

/**
 * Runs `check` now, and once more after it when asked again while it ran (a revocation heard
 * mid-check must not be answered by a read that began before it); ends the stream when the
 * credentials definitely no longer authenticate. A check that fails (a database blip, or the
 * listener reconnecting, which asks every stream at once) keeps the stream until the next ask, and
 * ends it only on the second failure in a row: closing every stream on one blip would have every
 * page reconnect and re-read all its live regions just as the database comes back. The promise
 * settles when the checks asked for so far are over: true when the last one confirmed the
 * credentials, false when it failed or ended the stream. `close` is told whether the checks failed
 * (rather than answered no), so the client can be told to come back later.
 */
export function rechecker(check: () => Promise<boolean>, close: (failed: boolean) => void): () => Promise<boolean> {
  let current: Promise<boolean> | undefined;
  let again = false;
  let failures = 0;
  const run = async (): Promise<boolean> => {
    try {
      do {
        again = false;
        if (!(await check())) {
          close(false);
          return false;
        }
        failures = 0;
      } while (again);
      return true;
    } catch {
      // Not retried here (its batch query already ran twice, 250 ms apart, after a blip, and once
      // after a statement timeout 57014, too many connections 53300 or a connect timeout, which
      // a second run would only load more): the next keepalive, at most 20 s on, asks again.
      if (++failures >= 2) close(true);
      return false;
    }
  };
  return () => {
    if (current) {
      again = true;
      return current;
    }
    const running: Promise<boolean> = run().finally(() => {
      if (current === running) current = undefined;
    });
    return (current = running);
  };
}

/**
 * One connection's events, written in order. Delivery never waits on the network: events queue
 * here and a single pump writes them, so a slow client delays only itself.
 */
function pump(stream: SSEStreamingApi, ended: () => void) {
  let queue: LiveEvent[] = [];
  let writing = false;
  let closed = false;
  let held: Promise<void> | undefined;
  /** Ends the stream; with `retryMs`, first tells the client to wait that long before reconnecting. */
  const close = (retryMs?: number) => {
    if (closed) return;
    closed = true;
    queue = [];
    // Written before the close (the write is queued at once), so the client reads it first.
    if (retryMs !== undefined) void stream.write(`retry: ${retryMs}\n\n`);
    void stream.close();
    ended();
  };
  /** Ends the stream after checks that could not be made, its client reconnecting 2–12 s later. */
  const closeAfterFailedChecks = () => close(retryAfterFailedChecks());
  const write = async () => {
    writing = true;
    while (queue.length > 0 && !closed) {
      if (held) {
        await held;
        continue;
      }
      const e = queue.shift()!;
      await stream.writeSSE({ event: e.type, data: JSON.stringify(e.data) });
    }
    writing = false;
  };
  return {
    deliver(events: LiveEvent[]) {
      if (queue.length + events.length > MAX_QUEUED) return close();
      queue.push(...events);
      if (!writing) void write();
    },
    close: () => close(),
    closeAfterFailedChecks,
    /**
     * Writes nothing more until `verdict` settles. Notices arrive in commit order, so what the feed
     * hears after a revocation waits for the re-check it started, and is dropped with the stream
     * if that check ends it or cannot confirm the credentials: a revoked key or ended session is
     * never sent a change committed after, and a client whose changes were dropped is told by the
     * stream ending (it reconnects, is checked again and re-reads), not left showing stale ones.
     * A stream its check ended is closed already; one whose check failed is told to reconnect
     * 2–12 s later, as its neighbours' checks failed with it.
     */
    holdUntil(verdict: Promise<boolean>) {
      const h: Promise<void> = verdict.then(
        (confirmed) => {
          if (!confirmed) closeAfterFailedChecks();
        },
        closeAfterFailedChecks,
      ).finally(() => {
        if (held === h) held = undefined;
      });
      held = h;
    },
  };
}

/**
 * One timer for many callbacks, running while any is registered; adding one returns the way to
 * remove it. A stream opened just before a beat has its first one early, never late.
 */
export function sharedInterval(ms: number) {
  const beats = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  return (beat: () => void): (() => void) => {
    beats.add(beat);
    // Unref'd: open streams keep the server up, not their keepalive.
    timer ??= setInterval(() => {
      for (const b of beats) b();
    }, ms).unref();
    return () => {
      beats.delete(beat);
      if (beats.size > 0) return;
      clearInterval(timer);
      timer = undefined;
    };
  };
}

const doc = operationDocs('Events');

export function eventRoutes(feed: LiveFeed, identity: IdentityCache) {
  const app = new Hono<StreamEnv>();
  const keepalive = sharedInterval(KEEPALIVE_MS);
  app.get(
    '/',
    doc({
      summary: 'Stream changes as they commit',
      description: [
        'Server-sent events (`text/event-stream`), one per change, in commit order, within moments of the commit in any process:',
        '`node.state_changed` (data: a `StateChanged`, the transition with its node), `node.reason_changed` (data: a `ReasonChanged`, a node staying in its state for a new reason: no transition, after its transitions, the reason as the node has it when read) and `incident.changed` (data: an `IncidentChange`, the incident as it is now, after any change to its status, escalation, timeline or deliveries).',
        '`types` picks some (default: all); a type it does not name, or any other parameter, is 400 `validation_failed` naming it. There is no replay: after a reconnect, read again what you show.',
        'Besides a Bearer secret, the console’s session cookie is accepted, so its pages can listen.',
        'The stream ends once its secret is revoked or its session ends (signed out, idle, expired): at once when that is announced (and also when that check cannot reach the database, tried twice), else within 20 s (at the next comment line), or at the second one while checks cannot reach the database.',
        'A stream ended because its checks could not reach the database first sets `retry:` to 2–12 s, so clients do not all reconnect at once.',
      ].join(' '),
      access: 'read',
      query: EventsQuery,
      queryNotes: { types: `Comma list of ${EVENT_TYPES.join(', ')}` },
      ok: { status: 200, description: 'An endless stream of events.', body: { type: 'string' }, mediaType: 'text/event-stream' },
    }),
    requireScope('read'),
    (c) => {
      const types = new Set<EventType>(query(c, EventsQuery).types ?? EVENT_TYPES);
      c.header('x-accel-buffering', 'no');
      return streamSSE(c, async (stream) => {
        let unsubscribe = () => {};
        let recheck = async () => false;
        let onIdentityChange = () => {};
        // Ends when the client leaves, the feed closes (the server is stopping), the client fell
        // behind, or its key or session stops authenticating.
        const ended = new Promise<void>((resolve) => {
          const out = pump(stream, resolve);
          stream.onAbort(out.close);
          unsubscribe = feed.subscribe({ types, deliver: out.deliver, end: out.close });
          recheck = rechecker(c.get('stillValid'), (failed) => (failed ? out.closeAfterFailedChecks() : out.close()));
          onIdentityChange = () => out.holdUntil(recheck());
        });
        const unwatch = identity.watch(onIdentityChange);
        const stopBeating = keepalive(() => {
          void stream.write(': keepalive\n\n');
          void recheck();
        });
        try {
          await stream.write(`retry: ${RETRY_MS}\n\n`);
          await ended;
        } finally {
          stopBeating();
          unwatch();
          unsubscribe();
        }
      });
    },
  );
  return app;
}
