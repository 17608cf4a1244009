// The one HTTP path every HTTP channel (webhook, Slack, PagerDuty) delivers through, so a
// timeout, a refused connection, a refused destination or a 429 is classified the same way
// whichever receiver it is.
//
// undici's dispatcher rather than fetch: its connector hands `lookup` to net.connect and
// tls.connect, so the socket connects only to the addresses the destination policy allowed and the
// address checked is the address connected to (fetch resolves on its own, and a name could resolve
// to a public address when checked and to 127.0.0.1 when connected). A URL naming an address is
// connected to without a lookup, and checked once before (checkUrl).
//
// undici rather than node:http: node:http builds a ClientRequest, an IncomingMessage stream and
// their listeners per message; the dispatcher's handler below is one object whose callbacks see the
// status and drop the body. Notifier CPU per webhook delivery, bench section 7b, A/B alternated:
// see ARCHITECTURE.md.

import { Agent, type Dispatcher } from 'undici';
import { LRUCache } from 'lru-cache';
import { DeliveryError, NotStarted, classifyHttpStatus, connectionFailure, seconds, type StartWindow } from './errors.ts';
import { Slots } from './slots.ts';
import { guardedLookup, outboundPolicy, RefusedDestination, urlProblem, type OutboundPolicy } from './destination.ts';

export interface HttpChannelOptions {
  /** How long a receiver may take to answer before the attempt counts as a retryable timeout. */
  timeoutMs?: number;
  /** Which addresses may be sent to; public ones only unless given (LIFELINE_OUTBOUND_ALLOW_CIDRS). */
  policy?: OutboundPolicy;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

/**
 * Connections one process keeps open to one receiver (its origin) at most; further sends in
 * flight wait for one of them. The notifier may run more sends than this at once
 * (DELIVERY_CONCURRENCY) so its ledger and queue batches are larger, without opening more
 * connections to a receiver; a send waiting for one gives up when its start window closes.
 */
export const CONNECTIONS_PER_RECEIVER = 64;

export type PostJson = (url: string, body: string, headers: Record<string, string>, now: Date, start?: StartWindow) => Promise<void>;

/** A URL as checked once: refused (why), or where the request goes. */
type Checked = { refused: string; code: 'invalid_url' | 'destination_refused' } | { origin: string; path: string };

/** The URL's own checks (parse, scheme, a literal address against the policy); a host name is checked where it is connected to. */
function checkUrl(url: string, policy: OutboundPolicy): Checked {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { refused: 'the destination is not an http or https URL', code: 'invalid_url' };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return { refused: 'the destination is not an http or https URL', code: 'invalid_url' };
  // The URL itself first: a literal address is connected to without any lookup.
  const problem = urlProblem(target, policy, false);
  if (problem) return { refused: `the destination URL ${problem}`, code: 'destination_refused' };
  return { origin: target.origin, path: `${target.pathname}${target.search}` };
}

/**
 * URLs whose checks a poster keeps, the least recently used dropped first. The checks depend only
 * on the URL and the poster's policy, so a channel's URL is parsed and checked once, not per
 * message (the parse and the literal-address check were ~15 µs of a delivery's profile, bench
 * section 7b).
 */
const CHECKED_URLS = 1000;

/** A poster with its own keep-alive connections, checking every destination against the policy. */
export function jsonPoster(options: HttpChannelOptions = {}): PostJson {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const policy = options.policy ?? outboundPolicy();
  // Connections are reused across deliveries: a TLS handshake per message would cost more than the
  // message. The exchange's own deadline (Exchange) covers the request, the answer and its body
  // from the moment the request has its connection, so undici's per-phase timers are off; its
  // connect timeout, at the same length, bounds a connection still being made. A wait for one of
  // the receiver's CONNECTIONS_PER_RECEIVER is not the receiver being slow: the start window bounds it.
  const agent = new Agent({
    connections: CONNECTIONS_PER_RECEIVER,
    connect: { lookup: guardedLookup(policy), timeout: timeoutMs },
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const checked = new LRUCache<string, Checked>({ max: CHECKED_URLS });
  // The Agent's `connections` alone does not cap a receiver: when every connection of an origin's
  // pool has failed or closed (a receiver refusing connections, or answering `Connection: close`),
  // undici drops that pool and the next request builds a new one beside the old, which goes on
  // serving its queue. So at most CONNECTIONS_PER_RECEIVER exchanges per origin are handed to it,
  // each holding its slot until its connection is free again (its body drained, or it failed).
  const receivers = new Map<string, Slots>();
  // Once nobody holds or waits for a receiver's slots, its entry goes (one function per poster,
  // not two closures per send: see Exchange).
  const forget = (origin: string, slots: Slots) => {
    if (slots.idle && receivers.get(origin) === slots) receivers.delete(origin);
  };
  return async (url, body, headers, now, start) => {
    let target = checked.get(url);
    if (!target) checked.set(url, (target = checkUrl(url, policy)));
    if ('refused' in target) throw new DeliveryError(target.refused, { permanent: true, code: target.code });
    const { origin, path } = target;
    let slots = receivers.get(origin);
    if (!slots) receivers.set(origin, (slots = new Slots(CONNECTIONS_PER_RECEIVER)));
    let free: () => void;
    try {
      free = await slots.take(start?.closed);
    } catch {
      forget(origin, slots);
      throw new NotStarted();
    }
    // Asked here as well as at the connection: a send that may no longer start opens none.
    if (start && !start.mayStart()) {
      free();
      forget(origin, slots);
      throw new NotStarted();
    }
    const held = slots;
    return new Promise<void>((resolve, reject) => {
      const exchange = new Exchange(timeoutMs, origin, now, start, resolve, reject, free, held, forget);
      agent.dispatch({ origin, path, method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'Lifeline', ...headers }, body }, exchange);
    });
  };
}

/**
 * One POST as undici's dispatcher sees it: settles on the status line and drops the body. Only the
 * status (and a Retry-After) is read: a receiver's body never reaches last_error (read keys see it),
 * and no receiver can make the engine buffer anything.
 *
 * The deadline covers the whole exchange, the body's drain included, so a receiver that trickles
 * its answer cannot hold the connection. One timer per exchange, cleared when it ends: an
 * AbortSignal.timeout per request (its signal, weak timer and listeners) cost ~20 µs of the
 * notifier's CPU per delivery (bench section 7b profile).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private settled = false;
  private timedOut = false;
  private timer: NodeJS.Timeout | undefined;
  /** The exchange completed or failed: a deadline due behind its answer has nothing left to abort. */
  private ended = false;

  constructor(
    private readonly timeoutMs: number,
    /** Where the request goes, as a failure may name it (no path: see transportError). */
    private readonly origin: string,
    private readonly now: Date,
    private readonly start: StartWindow | undefined,
    private readonly resolve: () => void,
    private readonly reject: (err: Error) => void,
    /** The receiver's slot this exchange holds, freed once the connection is free again: the answer drained, or the exchange failed. */
    private readonly free: () => void,
    private readonly slots: Slots,
    private readonly forget: (origin: string, slots: Slots) => void,
  ) {}

  private done(): void {
    this.free();
    this.forget(this.origin, this.slots);
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err instanceof NotStarted ? err : transportError(err, this.timedOut, this.timeoutMs, this.origin));
  }

  /**
   * The request has its connection and nothing of it is written yet: undici writes the head right
   * after this returns, and nothing once it is aborted here. So this is where a send that may no
   * longer start gives up, and where the deadline starts: a wait for one of the receiver's
   * connections is not the receiver being slow.
   */
  onConnect(abort: (err?: Error) => void): void {
    if (this.start && !this.start.mayStart()) return abort(new NotStarted());
    this.timer = setTimeout(() => {
      // After a stall of the event loop past the deadline (a loaded machine: seconds at load 30-60 on
      // 2 cores), its timers run before its sockets are read, so an answer that arrived in time
      // waits unread behind this timer: aborted here, an accepted message counted as a timeout and
      // sent again, a second page under the same webhook-id. setImmediate runs after the loop's
      // next read of its sockets: an answer already there settles the exchange first.
      setImmediate(() => {
        if (this.ended) return;
        this.timedOut = true;
        abort(new Error(`no answer within ${seconds(this.timeoutMs)}`));
      });
    }, this.timeoutMs);
  }

  onHeaders(status: number, rawHeaders: Buffer[]): boolean {
    // An interim answer (102 Processing, 103 Early Hints): the real one follows on the same
    // exchange. undici hands these to a handler as it does a final answer.
    if (status < 200) return true;
    if (this.settled) return true;
    this.settled = true;
    if (status >= 200 && status < 300) this.resolve();
    else this.reject(classifyHttpStatus(status, retryAfter(rawHeaders), this.now));
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.done();
  }

  onError(err: Error): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.fail(err);
    this.done();
  }
}

/** The first Retry-After among undici's raw headers (name, value, name, value…). */
function retryAfter(raw: Buffer[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 11 && raw[i]!.toString('latin1').toLowerCase() === 'retry-after') return raw[i + 1]!.toString('latin1');
  }
  return undefined;
}

/**
 * Lifeline's own sentence for a failed connection to `origin` (scheme, host and port: the path and
 * query are left out, as they may be the secret), the system error's code naming what happened.
 */
function transportError(err: Error, timedOut: boolean, timeoutMs: number, origin: string): DeliveryError {
  if (timedOut || (err as NodeJS.ErrnoException).code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new DeliveryError(`timed out after ${seconds(timeoutMs)}: ${origin} did not answer`, { permanent: false, code: 'timeout', cause: err });
  }
  if (err instanceof RefusedDestination) return new DeliveryError(err.message, { permanent: true, code: 'destination_refused', cause: err });
  const failure = connectionFailure(err, origin);
  if (failure) return new DeliveryError(failure.message, { permanent: false, code: failure.code, cause: err });
  const code = (err as NodeJS.ErrnoException).code;
  return new DeliveryError(`could not reach ${origin}${code ? ` (${code})` : ''}`, { permanent: false, code: 'network', cause: err });
}
