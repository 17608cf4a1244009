// The failed-authentication budget of a client address, one rule for the three ways a secret
// arrives: the API's Bearer secret (auth.ts), the console's session cookie on GET /v1/events
// (session.ts) and the console's sign-in form (console/pages/sign-in.tsx). A secret that
// authenticates is never refused and never counted: no client address is even worked out for it,
// so a valid agent or person behind one address (a NAT, a proxy not trusted for X-Forwarded-For)
// is not locked out by a neighbour's wrong secrets. One that does not is counted against the
// address, and refused (429) once the address has spent its budget, looked up or not, so past the
// budget the answer tells a guesser nothing about its guess.

import type { Context } from 'hono';
import { ApiError } from './errors.ts';
import { retryAfterSeconds, type FixedWindow } from './rate-limit.ts';

const MESSAGE = 'Too many failed authentications from this address; try again after Retry-After seconds.';

/** The 429 of an address past its budget; the console reads the wait to say it on the sign-in page. */
export class BudgetSpent extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'rate_limited', MESSAGE, undefined, { 'retry-after': String(retryAfterSeconds) });
  }
}

export interface AuthBudget {
  /**
   * What `lookup` finds for the request's secret, or undefined once a failure is counted against
   * the client's address; throws BudgetSpent rather than count when the address is past its budget.
   * `lookup` may call `refuseUnknown` before a query for a secret it cannot vouch for without one
   * (the identity cache does), so a guesser past the budget costs no query there. A lookup that
   * throws (Postgres away) counts nothing: that is no failed authentication.
   */
  authenticate<T>(c: Context, lookup: (refuseUnknown: () => void) => Promise<T | undefined> | undefined): Promise<T | undefined>;
}

export function authBudget(o: { budget: FixedWindow; key: (c: Context) => string; nowMs: () => number }): AuthBudget {
  const refuseIfSpent = (address: string) => {
    const wait = o.budget.waitMs(address, 1, o.nowMs());
    if (wait > 0) throw new BudgetSpent(retryAfterSeconds(wait));
  };
  return {
    async authenticate(c, lookup) {
      const found = await lookup(() => refuseIfSpent(o.key(c)));
      if (found !== undefined) return found;
      const address = o.key(c);
      refuseIfSpent(address);
      o.budget.spend(address, 1, o.nowMs());
      return undefined;
    },
  };
}
