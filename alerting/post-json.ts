// The one HTTP path every HTTP channel (webhook, Slack, PagerDuty) delivers through, so a
// timeout, a refused connection, a refused destination or a 429 is classified the same way
// whichever receiver it is.
//
// node:http rather than fetch: its `lookup` hook hands the socket the addresses the destination
// policy allowed, so the address checked is the address connected to (fetch resolves on its own,
// and a name could resolve to a public address when checked and to 127.0.0.1 when connected).

import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { LRUCache } from 'lru-cache';
import { DeliveryError, classifyHttpStatus } from './errors.ts';
import { guardedLookup, outboundPolicy, RefusedDestination, urlProblem, type OutboundPolicy } from './destination.ts';

export interface HttpChannelOptions {
  /** How long a receiver may take to answer before the attempt counts as a retryable timeout. */
  timeoutMs?: number;
  /** Which addresses may be sent to; public ones only unless given (LIFELINE_OUTBOUND_ALLOW_CIDRS). */
  policy?: OutboundPolicy;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

export type PostJson = (url: string, body: string, headers: Record<string, string>, now: Date) => Promise<void>;

/** A URL as checked once: refused (why), or the request options it stands for. */
type Checked = { refused: string; code: 'invalid_url' | 'destination_refused' } | { protocol: 'http:' | 'https:'; options: http.RequestOptions };

/** The URL's own checks (parse, scheme, a literal address against the policy); a host name is checked where it is connected to. */
function checkUrl(url: string, policy: OutboundPolicy): Checked {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { refused: 'the destination is not an http or https URL', code: 'invalid_url' };
  }
  const protocol = target.protocol;
  if (protocol !== 'http:' && protocol !== 'https:') return { refused: 'the destination is not an http or https URL', code: 'invalid_url' };
  // The URL itself first: a literal address is connected to without any lookup.
  const problem = urlProblem(target, policy, false);
  if (problem) return { refused: `the destination URL ${problem}`, code: 'destination_refused' };
  return { protocol, options: urlToHttpOptions(target) };
}

/**
 * URLs whose checks a poster keeps, the least recently used dropped first. The checks depend only
 * on the URL and the poster's policy, so a channel's URL is parsed and checked once, not per
 * message (the parse, the literal-address check and node:http's own URL conversion were ~15 µs of
 * a delivery's profile, bench section 7b).
 */
const CHECKED_URLS = 1000;

/** A poster with its own keep-alive connections, checking every destination against the policy. */
export function jsonPoster(options: HttpChannelOptions = {}): PostJson {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const policy = options.policy ?? outboundPolicy();
  const lookup = guardedLookup(policy);
  // Connections are reused across deliveries, as fetch did: a TLS handshake per message would
  // cost more than the message.
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  const checked = new LRUCache<string, Checked>({ max: CHECKED_URLS });
  return async (url, body, headers, now) => {
    let target = checked.get(url);
    if (!target) checked.set(url, (target = checkUrl(url, policy)));
    if ('refused' in target) throw new DeliveryError(target.refused, { permanent: true, code: target.code });
    const { protocol } = target;
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = (protocol === 'https:' ? https : http).request(
        {
          ...target.options,
          method: 'POST',
          agent: agents[protocol],
          lookup,
          headers: { 'content-type': 'application/json', 'user-agent': 'Lifeline', 'content-length': Buffer.byteLength(body), ...headers },
        },
        resolve,
      );
      // The deadline covers the whole exchange, the body's drain included, so a receiver that
      // trickles its answer cannot hold the connection. One timer, cleared when the request closes:
      // an AbortSignal.timeout per request (its signal, weak timer and listeners) cost ~20 µs of the
      // notifier's CPU per delivery (bench section 7b profile).
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        request.destroy(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      request.once('close', () => clearTimeout(timer));
      request.on('error', (err) => reject(transportError(err, timedOut, timeoutMs)));
      request.end(body);
    });
    // Only the status is read: a receiver's body never reaches last_error (read keys see it), and
    // no receiver can make the engine buffer anything. Draining frees the connection for reuse.
    response.resume();
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return;
    const retryAfter = response.headers['retry-after'];
    throw classifyHttpStatus(status, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, now);
  };
}

/** Lifeline's own sentence for a failed connection; the system error's code names what happened. */
function transportError(err: Error, timedOut: boolean, timeoutMs: number): DeliveryError {
  if (timedOut) return new DeliveryError(`receiver did not answer within ${timeoutMs} ms`, { permanent: false, code: 'timeout', cause: err });
  if (err instanceof RefusedDestination) return new DeliveryError(err.message, { permanent: true, code: 'destination_refused', cause: err });
  const code = (err as NodeJS.ErrnoException).code;
  return new DeliveryError(`could not reach the receiver${code ? ` (${code})` : ''}`, { permanent: false, code: 'network', cause: err });
}
