// The limits that keep one caller from costing everyone else: failed authentications per client
// address (API and console sign-in share one count), requests per node token, and nodes an ingest
// key may register. Each is a documented variable (README, "Security"); 0 turns one off.

import type { Context, MiddlewareHandler } from 'hono';
import type { AuthEnv } from './auth.ts';
import { clientAddress, limitKey } from './client-address.ts';
import { LIMIT_DEFAULTS } from '../config.ts';
import type { AppDeps } from './deps.ts';
import { failureLimit, FixedWindow, rateLimit, rateLimited } from './rate-limit.ts';

export type { RequestLimits } from '../config.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface Limits {
  /** Before anything that authenticates: refuses an address over its failures, counts each 401. */
  authFailures: MiddlewareHandler;
  /** After authentication: requests per node token. */
  perNodeToken: MiddlewareHandler<AuthEnv>;
  /** Throws 429 unless the ingest key may register `count` more nodes now, then counts them. */
  admitRegistrations(keyId: string, count: number): void;
}

export function requestLimits(deps: AppDeps): Limits {
  const o = { ...LIMIT_DEFAULTS, ...deps.limits };
  const hops = deps.publicPages?.trustProxyHops ?? 0;
  const nowMs = () => deps.clock.now().getTime();
  const registrations = new FixedWindow(o.registrationsPerHour, HOUR);
  return {
    authFailures: failureLimit({
      budget: new FixedWindow(o.authFailuresPerMinute, MINUTE),
      key: (c) => limitKey(clientAddress(c, hops)),
      failed: (c) => c.res.status === 401,
      message: 'Too many failed authentications from this address; try again after Retry-After seconds.',
      nowMs,
    }),
    perNodeToken: rateLimit<AuthEnv>({
      limit: o.nodeTokenPerMinute,
      windowMs: MINUTE,
      key: (c: Context<AuthEnv>) => {
        const p = c.get('principal');
        return p.kind === 'node' ? p.nodeId : '';
      },
      skip: (c: Context<AuthEnv>) => c.get('principal').kind !== 'node',
      who: 'this node token',
    }),
    admitRegistrations(keyId, count) {
      const wait = registrations.waitMs(keyId, count, nowMs());
      if (wait > 0) {
        throw rateLimited(`This ingest key may register at most ${o.registrationsPerHour} nodes an hour (LIFELINE_AUTO_REGISTER_LIMIT); create them with POST /v1/nodes, or try again after Retry-After seconds.`, wait);
      }
      registrations.spend(keyId, count, nowMs());
    },
  };
}
