// The limits that keep one caller from costing everyone else, all in one place: failed
// authentications per client address (API and console sign-in share one count), requests per node
// token, nodes an ingest key may register, pings per ping key, and requests per client address to
// the public pages. Each is a documented variable (README, "Configuration"); 0 turns one off.

import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { Principal } from '../access/model.ts';
import { clientKey } from './client-address.ts';
import { LIMIT_DEFAULTS } from '../config.ts';
import type { AppDeps } from './deps.ts';
import { authBudget, type AuthBudget } from './auth-budget.ts';
import { admission, FixedWindow, rateLimited, retryAfterSeconds } from './rate-limit.ts';

export type { RequestLimits } from '../config.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface Limits {
  /** Failed authentications per client address: the API's Bearer secrets and sessions, the console's sign-in. */
  authBudget: AuthBudget;
  /** After authentication: throws 429 when a node token is past its requests a minute. */
  admitRequest(principal: Principal): void;
  /** Throws 429 unless the ingest key may register `count` more nodes now, then counts them. */
  admitRegistrations(keyId: string, count: number): void;
  /** Throws 429 when a ping key is past its pings a minute; counts the ping otherwise. */
  admitPing(pingKey: string): void;
  /** Status pages, badges and notification links: one budget per client address for all of them. */
  perPublicClient: MiddlewareHandler;
  /** The same budget spent from node:http's request (fast-public.ts): throws 429, spending nothing, when it is used up. */
  admitPublic(incoming: IncomingMessage): void;
}

export function requestLimits(deps: AppDeps): Limits {
  const o = { ...LIMIT_DEFAULTS, ...deps.limits };
  const hops = deps.publicPages?.trustProxyHops ?? 0;
  const nowMs = () => deps.clock.now().getTime();
  const byClient = (from: Context | IncomingMessage) => clientKey(from, hops);
  const registrations = new FixedWindow(o.registrationsPerHour, HOUR);
  const perNodeToken = admission({ limit: o.nodeTokenPerMinute, windowMs: MINUTE, who: 'this node token', nowMs });
  const perPingKey = admission({ limit: o.pingsPerMinute, windowMs: MINUTE, who: 'this ping key', nowMs });
  const perPublicClient = admission({ limit: o.publicRequestsPerMinute, windowMs: MINUTE, nowMs });
  return {
    authBudget: authBudget({ limit: o.authFailuresPerMinute, windowMs: MINUTE, key: byClient, nowMs }),
    admitRequest(principal) {
      if (principal.kind === 'node') perNodeToken(principal.nodeId);
    },
    admitRegistrations(keyId, count) {
      const wait = registrations.waitMs(keyId, count, nowMs());
      if (wait > 0) {
        // The wait is in the words, not only in Retry-After: this message is also each refused
        // name's in a 202 that stores the batch's other heartbeats, and a 202 has no Retry-After.
        throw rateLimited(`This ingest key may register at most ${o.registrationsPerHour} nodes an hour (LIFELINE_AUTO_REGISTER_LIMIT); create them with POST /v1/nodes, or try again in ${retryAfterSeconds(wait)} seconds.`, wait);
      }
      registrations.spend(keyId, count, nowMs());
    },
    admitPing: perPingKey,
    // A limit of 0 is off: no client address is worked out for it on every public request.
    perPublicClient: o.publicRequestsPerMinute === 0 ? (_c, next) => next() : async (c, next) => {
      perPublicClient(byClient(c));
      await next();
    },
    admitPublic: o.publicRequestsPerMinute === 0 ? () => {} : (incoming) => perPublicClient(byClient(incoming)),
  };
}
