import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'hono';
import { setImmediate as tick } from 'node:timers/promises';
import { authBudget, BudgetSpent, HARD_CAP, WAIT_MS } from '../../src/http/auth-budget.ts';

// The one failed-authentication rule of the API's Bearer secrets, the console's session and its
// sign-in: a secret verified before is never refused, counted or even given an address; any other
// is charged before its query and given back when it settles, and only those found wrong decide
// 401 or 429; the hard cap bounds wrong and pending ones together.

const request = {} as Context;
const ADDRESS = '192.0.2.1';
const WINDOW_MS = 60_000;

function budgetOf(limit: number) {
  const clock = { nowMs: 0 };
  const addresses: Context[] = [];
  // Timers the budget set, fired by hand: a wait runs out when the test says so, never by a sleep.
  const timers: { ms: number; fire: () => void; cancelled: boolean }[] = [];
  const budget = authBudget({
    limit,
    windowMs: WINDOW_MS,
    key: (c) => {
      addresses.push(c);
      return ADDRESS;
    },
    nowMs: () => clock.nowMs,
    timer: (ms, fire) => {
      const t = { ms, fire, cancelled: false };
      timers.push(t);
      return () => (t.cancelled = true);
    },
  });
  return { budget, clock, addresses, timers };
}

/** A lookup through a cache: `verified` secrets need no charge; the others cost a query, held until `release` when `held`. */
function lookups(result: () => unknown, o: { held?: boolean } = {}) {
  const counts = { queries: 0 };
  let release!: () => void;
  const released = o.held ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  const unseen = async (charge: () => void) => {
    charge();
    counts.queries += 1;
    await released;
    return result();
  };
  const verified = async () => {
    counts.queries += 1;
    return result();
  };
  return { counts, unseen, verified, release: () => release() };
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    (found) => (found === undefined ? 'unauthorized' : found),
    (err: unknown) => (err instanceof BudgetSpent ? 'limited' : err),
  );

/** Whether `p` has settled once the work queued so far has run. */
const settledYet = (p: Promise<unknown>) => Promise.race([p.then(() => true, () => true), tick().then(() => false)]);

/** Sends wrong unseen secrets one after another until the address is past the hard cap. */
async function pastTheHardCap(budget: ReturnType<typeof budgetOf>['budget'], limit: number) {
  const wrong = lookups(() => undefined);
  for (let i = 0; i < limit * HARD_CAP; i++) await outcome(budget.authenticate(request, wrong.unseen));
}

describe('authBudget', () => {
  it('takes a verified secret without working out the address or spending anything, past the hard cap too', async () => {
    const { budget, addresses } = budgetOf(2);
    const right = lookups(() => 'principal');
    for (let i = 0; i < 5; i++) assert.equal(await budget.authenticate(request, right.verified), 'principal');
    assert.equal(addresses.length, 0, 'no client address was worked out');
    const wrong = lookups(() => undefined);
    for (let i = 0; i < 2; i++) assert.equal(await budget.authenticate(request, wrong.unseen), undefined, 'the whole budget is left');
    await pastTheHardCap(budget, 2);
    assert.equal(await budget.authenticate(request, right.verified), 'principal');
  });

  it('gives back what an unseen secret that is found was charged, so valid ones never use the budget up', async () => {
    const { budget } = budgetOf(2);
    const right = lookups(() => 'principal');
    for (let i = 0; i < 5 * HARD_CAP; i++) assert.equal(await budget.authenticate(request, right.unseen), 'principal');
    const wrong = lookups(() => undefined);
    for (let i = 0; i < 2; i++) assert.equal(await budget.authenticate(request, wrong.unseen), undefined, 'the whole budget is left');
  });

  it('answers wrong secrets 401 within the budget and 429 past it, and still looks up and takes an unseen valid one there', async () => {
    const { budget } = budgetOf(2);
    const wrong = lookups(() => undefined);
    for (let i = 0; i < 2; i++) assert.equal(await budget.authenticate(request, wrong.unseen), undefined);
    const refused = await budget.authenticate(request, wrong.unseen).catch((err: unknown) => err);
    assert.ok(refused instanceof BudgetSpent);
    assert.equal(refused.status, 429);
    assert.equal(refused.retryAfterSeconds, 60);
    assert.deepEqual(refused.headers, { 'retry-after': '60' });
    assert.equal(wrong.counts.queries, 3, 'the one past the budget was looked up');
    const right = lookups(() => 'principal');
    assert.equal(await budget.authenticate(request, right.unseen), 'principal');
    assert.equal(right.counts.queries, 1);
  });

  it('treats null as not found', async () => {
    const { budget } = budgetOf(1);
    const nothing = lookups(() => null);
    assert.equal(await budget.authenticate(request, nothing.unseen), undefined);
    await assert.rejects(budget.authenticate(request, nothing.unseen), BudgetSpent);
  });

  it('counts a request without a secret as a wrong one', async () => {
    const { budget } = budgetOf(1);
    assert.equal(await budget.authenticate(request, () => undefined), undefined);
    await assert.rejects(budget.authenticate(request, () => undefined), BudgetSpent);
  });

  it('refuses unseen secrets without their query past the hard cap, valid or not, and never verified ones', async () => {
    const { budget } = budgetOf(1);
    const wrong = lookups(() => undefined);
    assert.equal(await budget.authenticate(request, wrong.unseen), undefined);
    for (let i = 1; i < HARD_CAP; i++) await assert.rejects(budget.authenticate(request, wrong.unseen), BudgetSpent);
    assert.equal(wrong.counts.queries, HARD_CAP, 'each was looked up up to the hard cap');
    await assert.rejects(budget.authenticate(request, wrong.unseen), BudgetSpent);
    const right = lookups(() => 'principal');
    await assert.rejects(budget.authenticate(request, right.unseen), BudgetSpent);
    assert.equal(wrong.counts.queries + right.counts.queries, HARD_CAP, 'past the hard cap nothing is looked up');
    assert.equal(await budget.authenticate(request, right.verified), 'principal');
  });

  it('looks session cookies up past the hard cap, still counting the wrong ones', async () => {
    const { budget } = budgetOf(1);
    await pastTheHardCap(budget, 1);
    const session = lookups(() => 'session');
    assert.equal(await budget.authenticate(request, session.unseen, { hardCap: false }), 'session');
    const wrong = lookups(() => undefined);
    await assert.rejects(budget.authenticate(request, wrong.unseen, { hardCap: false }), BudgetSpent);
    assert.equal(session.counts.queries + wrong.counts.queries, 2);
  });

  it('answers 401 to a verified secret found revoked past the budget, counting nothing', async () => {
    // The agent stops on 401 and retries on 429: a 429 would keep a revoked agent retrying.
    const { budget, addresses } = budgetOf(1);
    await pastTheHardCap(budget, 1);
    const seen = addresses.length;
    const revoked = lookups(() => undefined);
    assert.equal(await budget.authenticate(request, revoked.verified), undefined);
    assert.equal(addresses.length, seen);
  });

  it('answers wrong secrets sent at once 401 within the budget, and looks them up only up to the hard cap', async () => {
    const { budget } = budgetOf(2);
    const wrong = lookups(() => undefined, { held: true });
    const all = Array.from({ length: 3 * 2 * HARD_CAP }, () => outcome(budget.authenticate(request, wrong.unseen)));
    assert.equal(wrong.counts.queries, 2 * HARD_CAP, 'charged before their query: the others wait');
    wrong.release();
    const answers = await Promise.all(all);
    assert.equal(wrong.counts.queries, 2 * HARD_CAP, 'past the budget and the hard cap, those waiting were refused unread');
    assert.equal(answers.filter((a) => a === 'unauthorized').length, 2, 'lookups under way decide nothing: the first two found wrong get 401');
    assert.equal(answers.filter((a) => a === 'limited').length, 3 * 2 * HARD_CAP - 2);
  });

  it('takes valid unseen secrets sent at once past the hard cap: those past it wait for the lookups under way, none is refused', async () => {
    // Just after a restart, the heartbeats of twice as many nodes as the hard cap behind one NAT.
    const { budget } = budgetOf(1);
    const right = lookups(() => 'principal', { held: true });
    const all = Array.from({ length: 2 * HARD_CAP }, () => outcome(budget.authenticate(request, right.unseen)));
    assert.equal(right.counts.queries, HARD_CAP, 'no more than the hard cap looked up at once');
    right.release();
    assert.deepEqual(await Promise.all(all), Array(2 * HARD_CAP).fill('principal'));
    assert.equal(right.counts.queries, 2 * HARD_CAP);
  });

  it('answers 429 with Retry-After 1 to a secret whose wait for a stalled lookup runs out, after 5 s or at the window end', async () => {
    // The database client has no statement timeout: a stalled lookup must not hold the waiting sockets for good.
    const { budget, clock, timers } = budgetOf(1);
    const stalled = lookups(() => 'principal', { held: true });
    const filling = Array.from({ length: HARD_CAP }, () => budget.authenticate(request, stalled.unseen));
    const waiting = budget.authenticate(request, stalled.unseen).catch((err: unknown) => err);
    assert.equal(await settledYet(waiting), false, 'it waits for the lookups under way');
    assert.deepEqual(timers.map((t) => t.ms), [WAIT_MS]);
    timers[0]!.fire();
    const refused = await waiting;
    assert.ok(refused instanceof BudgetSpent);
    assert.equal(refused.retryAfterSeconds, 1);
    clock.nowMs = WINDOW_MS - 2_000;
    const late = outcome(budget.authenticate(request, stalled.unseen));
    assert.equal(await settledYet(late), false);
    assert.equal(timers[1]!.ms, 2_000, 'a waiter is tied to its window: it waits no longer than the window runs');
    timers[1]!.fire();
    assert.equal(await late, 'limited');
    assert.equal(stalled.counts.queries, HARD_CAP, 'neither was looked up');
    stalled.release();
    assert.deepEqual(await Promise.all(filling), Array(HARD_CAP).fill('principal'));
  });

  it('lets at most the hard cap of secrets wait for the lookups under way, refusing the next at once', async () => {
    const { budget, timers } = budgetOf(1);
    const stalled = lookups(() => 'principal', { held: true });
    const filling = Array.from({ length: HARD_CAP }, () => budget.authenticate(request, stalled.unseen));
    const waiting = Array.from({ length: HARD_CAP }, () => outcome(budget.authenticate(request, stalled.unseen)));
    const beyond = outcome(budget.authenticate(request, stalled.unseen));
    assert.equal(await settledYet(beyond), true, 'refused without waiting');
    assert.equal(await beyond, 'limited');
    stalled.release();
    await Promise.all(filling);
    assert.deepEqual(await Promise.all(waiting), Array(HARD_CAP).fill('principal'), 'those waiting were looked up once the lookups settled');
    assert.ok(timers.length >= HARD_CAP && timers.every((t) => t.cancelled), 'and their timers stopped');
  });

  it('gives back what a lookup charged to the window it was charged in, not to a later one', async () => {
    const { budget, clock } = budgetOf(1);
    const before = lookups(() => 'principal', { held: true });
    const first = budget.authenticate(request, before.unseen);
    clock.nowMs = WINDOW_MS;
    const now = lookups(() => 'principal', { held: true });
    const filling = Array.from({ length: HARD_CAP }, () => budget.authenticate(request, now.unseen));
    before.release();
    assert.equal(await first, 'principal');
    const next = lookups(() => 'principal');
    const waiting = budget.authenticate(request, next.unseen);
    assert.equal(next.counts.queries, 0, 'the new window is as full as before: the earlier window got its charge back');
    now.release();
    await Promise.all(filling);
    assert.equal(await waiting, 'principal');
    assert.equal(next.counts.queries, 1);
  });

  it('gives back what lookups that throw were charged', async () => {
    const { budget } = budgetOf(1);
    const down = lookups(
      () => {
        throw new Error('connect ECONNREFUSED');
      },
      { held: true },
    );
    const all = Array.from({ length: HARD_CAP }, () => budget.authenticate(request, down.unseen));
    down.release();
    for (const p of all) await assert.rejects(p, /ECONNREFUSED/);
    const wrong = lookups(() => undefined, { held: true });
    const again = Array.from({ length: HARD_CAP }, () => outcome(budget.authenticate(request, wrong.unseen)));
    assert.equal(wrong.counts.queries, HARD_CAP, 'the whole cap is free again');
    wrong.release();
    assert.equal((await Promise.all(again)).filter((a) => a === 'unauthorized').length, 1, 'and none counted as a failure');
  });
});
