// The failed-authentication budget of a client address, one rule for the three ways a secret
// arrives: the API's Bearer secret (auth.ts), the console's session cookie on GET /v1/events
// (session.ts) and the console's sign-in form (console/pages/sign-in.tsx).
//
// - A secret this process has already verified (one the identity cache holds, or found valid at
//   its last lookup) is looked up free: never refused, never counted, and no client address is
//   even worked out for it. Found revoked or rotated, it gets the 401 an agent stops on (it retries
//   on 429), and is unseen from then on.
// - Any other secret (a session always: nothing remembers one) is charged 1 against the address
//   before its query, and refunded when it is found or the lookup throws (Postgres away is no
//   failed authentication). So a valid agent or person behind one address (a NAT, a proxy not
//   trusted for X-Forwarded-For) gets in, even just after a restart, however many wrong secrets a
//   neighbour sent; a wrong one gets 401 within the budget and 429 past it.
// - Past HARD_CAP times the budget, an unseen secret is refused (429) before its query, valid or
//   not. Charged after the query, as it once was, any number of secrets sent at once all passed.
//
// Guessing is stopped by the length of the secrets, not by the budget: keys and node tokens are
// 256 random bits, and the hard cap lets one address try at most 1,000 a minute per api process at
// the default budget of 100 (LIFELINE_ADMIN_TOKEN, the one secret a person chooses, is warned
// about at start below 32 characters). Why 10 times: a neighbour's misconfigured agents would have
// to send 17 wrong secrets a second from the address (agents stop at their first 401) before the
// valid secrets of the others, unseen after a restart, are refused; and 1,000 indexed selects a
// minute is a cost one address may put on the database.

import type { Context } from 'hono';
import { ApiError } from './errors.ts';
import { retryAfterSeconds, type FixedWindow } from './rate-limit.ts';

/** Wrong secrets an address may send per window, as a multiple of its budget, before unseen ones are not looked up. */
export const HARD_CAP = 10;

const MESSAGE = 'Too many failed authentications from this address; try again after Retry-After seconds.';

/** The 429 of an address past its budget; the console reads the wait to say it on the sign-in page. */
export class BudgetSpent extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'rate_limited', MESSAGE, undefined, { 'retry-after': String(retryAfterSeconds) });
  }
}

export interface AuthBudget {
  /**
   * What `lookup` finds for the request's secret (undefined when nothing, null included), by the
   * rule above. `lookup` calls `charge` right before the query for a secret this process has not
   * verified (`charge` throws BudgetSpent past the hard cap), and not for one it has. A lookup that
   * returns undefined rather than a promise had no secret to look up: it is charged as a wrong one.
   * Throws BudgetSpent for a wrong secret that was charged past the budget.
   */
  authenticate<T>(c: Context, lookup: (charge: () => void) => Promise<T | null | undefined> | undefined): Promise<T | undefined>;
}

export function authBudget(o: { budget: FixedWindow; key: (c: Context) => string; nowMs: () => number }): AuthBudget {
  const hardCap = o.budget.limit * HARD_CAP;
  return {
    async authenticate(c, lookup) {
      let charged: string | undefined;
      const charge = () => {
        const address = o.key(c);
        const nowMs = o.nowMs();
        const wait = o.budget.reachedMs(address, hardCap, nowMs);
        if (wait > 0) throw new BudgetSpent(retryAfterSeconds(wait));
        o.budget.spend(address, 1, nowMs);
        charged = address;
      };
      const refund = () => {
        if (charged !== undefined) o.budget.refund(charged, 1, o.nowMs());
      };
      let found;
      try {
        const pending = lookup(charge);
        if (pending === undefined) charge();
        else found = await pending;
      } catch (err) {
        refund();
        throw err;
      }
      if (found != null) {
        refund();
        return found;
      }
      if (charged === undefined) return undefined;
      // This one was past the budget: more than `limit` are spent.
      const wait = o.budget.reachedMs(charged, o.budget.limit + 1, o.nowMs());
      if (wait > 0) throw new BudgetSpent(retryAfterSeconds(wait));
      return undefined;
    },
  };
}
