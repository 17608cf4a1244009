import type { IncomingMessage } from 'node:http';
import type { AppDeps } from './deps.ts';
import { headerOf } from './client-address.ts';
import { answerFor, type EncodedBody } from './encoded-body.ts';
import { SIMPLE_HOST, type FastPath } from './fast-path.ts';
import { requestIdOf } from './request-id.ts';

/** A public route whose answers are kept ready: `/{prefix}/{name}`. */
export interface KeptRoute {
  /** The path up to the name, with its slashes: `/status/`. */
  prefix: string;
  /** hono's name for the route, which the request histogram labels it with. */
  route: string;
  /** Whether the route reads nothing of this query (plain, PLAIN_QUERY), so a request with it gets the kept answer. */
  ignoresQuery(query: string): boolean;
  /** The answer kept for this name, at once; undefined when the app is to work it out. */
  kept(name: string): EncodedBody | undefined;
}

// A query the app ignores, left as it is by @hono/node-server's URL and with no %-escape, so it
// cannot decode to the text the app's rule for paths and queries refuses (U+0000, a lone surrogate).
const PLAIN_QUERY = /^[!$&-;=?-[\]_a-z~]*$/;

/**
 * GET and HEAD of a status page or a badge whose answer is kept, answered without hono: here it is
 * a cache lookup, the client's budget and one writeHead/end of the kept bytes. A kept 20-component
 * page at 1,000 requests a second cost the engine ~154 µs of CPU each through the app (hono's
 * dispatch and middleware ~33 µs of it, @hono/node-server's Request and Response wrappers more) and
 * ~67 µs this way, most of it node:http's writev (process.cpuUsage less idle, alternated, load 2.5-8).
 *
 * It takes a request only when the app would answer it from the cache: the path exactly
 * `{prefix}{name}` with a name the cache holds now (no %-escapes, no dot segments: only what the
 * app's router reads as that same name can be a kept key), a query only where the route ignores
 * it, a Host the app's request wrapper uses as it is, no body, and room in the client address's
 * public budget (spent here, as the app's middleware would, from the same address rule). Anything
 * else, a refusal of the budget included, is left to the app unread. HEAD is answered as hono
 * answers it: the GET's status and headers, without the bytes (node:http drops them).
 */
export function fastPublic(deps: Pick<AppDeps, 'metrics'>, admit: (incoming: IncomingMessage) => void, routes: KeptRoute[]): FastPath {
  return (incoming, outgoing) => {
    const method = incoming.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = incoming.url ?? '';
    const r = routes.find((x) => url.startsWith(x.prefix));
    if (!r) return false;
    const started = performance.now();
    const q = url.indexOf('?');
    if (q !== -1 && !(PLAIN_QUERY.test(url.slice(q + 1)) && r.ignoresQuery(url.slice(q + 1)))) return false;
    const h = incoming.headers;
    if (h['content-length'] !== undefined || h['transfer-encoding'] !== undefined || !SIMPLE_HOST.test(h.host ?? '')) return false;
    const body = r.kept(url.slice(r.prefix.length, q === -1 ? undefined : q));
    if (!body) return false;
    try {
      // Spends nothing when it refuses: the app asks again and answers the 429.
      admit(incoming);
    } catch {
      return false;
    }
    const a = answerFor(body, h['if-none-match'], h['accept-encoding']);
    // Set apart as the app's request naming does, so the kept header object is not copied.
    outgoing.setHeader('x-request-id', requestIdOf(headerOf(incoming, 'x-request-id')));
    outgoing.writeHead(a.status, a.headers);
    outgoing.end(method === 'HEAD' ? undefined : a.body);
    deps.metrics.http.observe({ method, route: r.route, status: String(a.status) }, (performance.now() - started) / 1000);
    return true;
  };
}
