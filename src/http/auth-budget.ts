// The failed-authentication budget of a client address, one rule for the three ways a secret
// arrives: the API's Bearer secret (auth.ts), the console's session cookie on GET /v1/events
// (session.ts) and the console's sign-in form (console/pages/sign-in.tsx).
//
// - A secret this process has already verified (one the identity cache holds, or found valid at
//   its last lookup) is looked up free: never refused, never counted, and no client address is
//   even worked out for it. Found revoked or rotated, it gets the 401 an agent stops on (it retries
//   on 429), and is unseen from then on.
// - Any other secret (a session always: nothing remembers one) is unseen. Each window of an
//   address keeps two counts: `pending`, unseen secrets whose query is under way (charged before
//   it, given back when it settles, to the window that was charged), and `failed`, those found
//   wrong (counted in the window they are found in). A wrong one gets 401 while `failed` is within
//   the budget and 429 past it; lookups under way decide nothing, so a valid agent or person
//   behind one address (a NAT, a proxy not trusted for X-Forwarded-For) gets in, even just after a
//   restart, however many wrong secrets a neighbour sent, and a wrong secret within the budget
//   gets its 401 however many others are being looked up. A lookup that throws (Postgres away) is
//   no failed authentication.
// - The hard cap, HARD_CAP times the budget, bounds `failed + pending`: one address never has more
//   than 1,000 unseen secrets looked up at once (at the default budget of 100: one batched query
//   of the identity cache), nor more than 1,000 wrong ones looked up a window. Past it, with
//   `failed` past the budget too, an unseen secret is refused (429) before its query, valid or not.
//   With `failed` within the budget it is the address's own lookups under way that fill the cap
//   (1,000 valid heartbeats of as many nodes behind one NAT, just after a restart): then the
//   secret waits until they have all settled, about one query's latency, and is looked up then.
//   Waiting, not refusing: a 429 there marked those nodes down for the restart of their engine.
//   The wait is bounded, since the database client has no statement timeout and a stalled lookup
//   would otherwise hold every waiting request's socket for good: at most WAIT_MS (5 s, some
//   hundred times one lookup's latency) and never past the window's end (a waiter is tied to the
//   window it was charged in), then 429 with Retry-After 1, which the agent retries. At most the
//   hard cap of secrets wait at once per window (2,000 nodes behind one NAT are all taken after a
//   restart); one more is refused (429, Retry-After 1) at once, rather than hold a socket.
//   Session cookies are exempt (never refused or made to wait by the cap, never counted pending):
//   every console page looks any well-shaped cookie up without a budget, so refusing the live
//   feed's lookup would save no query and only stop a signed-in person's live regions.
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
import { KeyedWindows, retryAfterSeconds } from './rate-limit.ts';

/** The hard cap on an address's wrong and pending unseen secrets per window, as a multiple of its budget. */
export const HARD_CAP = 10;

/** The longest an unseen secret waits for the address's lookups under way before its 429. */
export const WAIT_MS = 5_000;

/** Calls `fire` after `ms`; returns what cancels it. A parameter so tests need no real sleeps. */
export type Timer = (ms: number, fire: () => void) => () => void;

const realTimer: Timer = (ms, fire) => {
  const t = setTimeout(fire, ms);
  return () => clearTimeout(t);
};

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
   * verified, and not for one it has. `charge` may throw: BudgetSpent past the hard cap, or, while
   * the address's lookups under way fill it, a signal on which `lookup` is called again once they
   * have settled, so nothing may be done before it. A lookup that returns undefined rather than a
   * promise had no secret to look up: it is counted as a wrong one. Throws BudgetSpent for a wrong
   * secret past the budget, and for one whose wait for the lookups under way ran out or found too
   * many waiting. `hardCap: false` (session cookies) leaves the lookup out of the cap.
   */
  authenticate<T>(c: Context, lookup: (charge: () => void) => Promise<T | null | undefined> | undefined, o?: { hardCap?: boolean }): Promise<T | undefined>;
}

interface AddressWindow {
  failed: number;
  pending: number;
  /** Settles when `pending` is next 0; set while secrets wait for it. */
  drained?: Promise<void>;
  drain?: () => void;
  /** Secrets waiting for `drained` now. */
  waiting: number;
}

/** Thrown by `charge` while the address's lookups under way fill the hard cap. */
class Busy extends Error {
  constructor(
    readonly w: AddressWindow & { endsMs: number },
    readonly drained: Promise<void>,
  ) {
    super('lookups under way fill the hard cap');
  }
}

export function authBudget(o: { limit: number; windowMs: number; key: (c: Context) => string; nowMs: () => number; timer?: Timer }): AuthBudget {
  const hardCap = o.limit * HARD_CAP;
  const timer = o.timer ?? realTimer;
  /** Whether `busy.drained` settled within the bound above; false when the wait ran out. */
  const waited = async (busy: Busy): Promise<boolean> => {
    const { w } = busy;
    if (w.waiting >= hardCap) return false;
    w.waiting += 1;
    let cancel = () => {};
    const ranOut = new Promise<false>((resolve) => (cancel = timer(Math.max(0, Math.min(w.endsMs - o.nowMs(), WAIT_MS)), () => resolve(false))));
    try {
      return await Promise.race([busy.drained.then(() => true), ranOut]);
    } finally {
      cancel();
      w.waiting -= 1;
    }
  };
  const windows = new KeyedWindows<AddressWindow>(o.windowMs, () => ({ failed: 0, pending: 0, waiting: 0 }));
  const refusal = (w: { endsMs: number }, nowMs: number) => new BudgetSpent(retryAfterSeconds(w.endsMs - nowMs));
  const settled = (w: AddressWindow) => {
    w.pending -= 1;
    if (w.pending > 0 || !w.drain) return;
    const drain = w.drain;
    w.drained = w.drain = undefined;
    drain();
  };
  const failure = (c: Context): undefined => {
    if (o.limit === 0) return undefined;
    const nowMs = o.nowMs();
    const w = windows.begin(o.key(c), nowMs);
    w.failed += 1;
    if (w.failed > o.limit) throw refusal(w, nowMs);
    return undefined;
  };
  return {
    async authenticate(c, lookup, { hardCap: capped = true } = {}) {
      for (;;) {
        let unseen = false;
        let charged: AddressWindow | undefined;
        const charge = () => {
          unseen = true;
          if (!capped || o.limit === 0) return;
          const nowMs = o.nowMs();
          const w = windows.begin(o.key(c), nowMs);
          const full = w.failed + w.pending >= hardCap;
          if (full && w.failed > o.limit) throw refusal(w, nowMs);
          // While some wait, a newcomer waits too: taking the room each settled lookup leaves, newcomers
          // could keep `pending` from ever reaching 0. Waiting begins only while `pending` > 0 (full
          // with `failed` within the budget means `pending` ≥ 9 times it), so the drain always comes;
          // then all retry, and those past the room wait for the next.
          if (full || w.drained) throw new Busy(w, (w.drained ??= new Promise((resolve) => (w.drain = resolve))));
          w.pending += 1;
          charged = w;
        };
        let found;
        try {
          const query = lookup(charge);
          if (query === undefined) return failure(c);
          found = await query;
        } catch (err) {
          if (charged) settled(charged);
          if (!(err instanceof Busy)) throw err;
          if (!(await waited(err))) throw new BudgetSpent(1);
          continue;
        }
        if (charged) settled(charged);
        if (found != null) return found;
        return unseen ? failure(c) : undefined;
      }
    },
  };
}
