import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'hono';
import { authBudget, BudgetSpent, HARD_CAP } from '../../src/http/auth-budget.ts';
import { FixedWindow } from '../../src/http/rate-limit.ts';

// The one failed-authentication rule of the API's Bearer secrets, the console's session and its
// sign-in: a secret verified before is never refused, counted or even given an address; any other
// is charged before its query and refunded when found; past the hard cap it is not looked up.

const request = {} as Context;
const ADDRESS = '192.0.2.1';

function budgetOf(limit: number) {
  const window = new FixedWindow(limit, 60_000);
  const addresses: Context[] = [];
  const budget = authBudget({
    budget: window,
    key: (c) => {
      addresses.push(c);
      return ADDRESS;
    },
    nowMs: () => 0,
  });
  return { budget, window, addresses };
}

/** A lookup through a cache: `verified` secrets need no charge; the others cost a query. */
function lookups(result: () => unknown) {
  const counts = { queries: 0 };
  const unseen = async (charge: () => void) => {
    charge();
    counts.queries += 1;
    return result();
  };
  const verified = async () => {
    counts.queries += 1;
    return result();
  };
  return { counts, unseen, verified };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('not refused'),
    (err: unknown) => err,
  );

describe('authBudget', () => {
  it('takes a verified secret without working out the address or spending anything, past the hard cap too', async () => {
    const { budget, window, addresses } = budgetOf(2);
    const right = lookups(() => 'principal');
    for (let i = 0; i < 5; i++) assert.equal(await budget.authenticate(request, right.verified), 'principal');
    assert.equal(addresses.length, 0, 'no client address was worked out');
    assert.equal(window.waitMs(ADDRESS, 2, 0), 0, 'the whole budget is left');
    window.spend(ADDRESS, 2 * HARD_CAP, 0);
    assert.equal(await budget.authenticate(request, right.verified), 'principal');
  });

  it('refunds an unseen secret that is found, so valid ones never use the budget up', async () => {
    const { budget, window } = budgetOf(2);
    const right = lookups(() => 'principal');
    for (let i = 0; i < 5 * HARD_CAP; i++) assert.equal(await budget.authenticate(request, right.unseen), 'principal');
    assert.equal(window.waitMs(ADDRESS, 2, 0), 0, 'the whole budget is left');
  });

  it('answers wrong secrets 401 within the budget and 429 past it, and still looks up and takes an unseen valid one there', async () => {
    const { budget } = budgetOf(2);
    const wrong = lookups(() => undefined);
    for (let i = 0; i < 2; i++) assert.equal(await budget.authenticate(request, wrong.unseen), undefined);
    const refused = await refusal(budget.authenticate(request, wrong.unseen));
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

  it('answers 401 to a verified secret found revoked past the budget, counting nothing', async () => {
    // The agent stops on 401 and retries on 429: a 429 would keep a revoked agent retrying.
    const { budget, window, addresses } = budgetOf(1);
    window.spend(ADDRESS, 5, 0);
    const revoked = lookups(() => undefined);
    assert.equal(await budget.authenticate(request, revoked.verified), undefined);
    assert.equal(addresses.length, 0);
  });

  it('charges before the query, so secrets sent at once are looked up only up to the hard cap', async () => {
    const { budget } = budgetOf(1);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let queries = 0;
    const slow = async (charge: () => void) => {
      charge();
      queries += 1;
      await released;
      return undefined;
    };
    const all = Array.from({ length: 3 * HARD_CAP }, () => budget.authenticate(request, slow).then(() => 'unauthorized', (err: unknown) => (err instanceof BudgetSpent ? 'limited' : err)));
    release();
    const answers = await Promise.all(all);
    assert.equal(queries, HARD_CAP);
    assert.equal(answers.filter((a) => a === 'limited').length, 3 * HARD_CAP, 'past the budget once all were charged');
  });

  it('refunds what a lookup that throws was charged', async () => {
    const { budget, window } = budgetOf(1);
    await assert.rejects(
      budget.authenticate(request, async (charge) => {
        charge();
        throw new Error('connect ECONNREFUSED');
      }),
      /ECONNREFUSED/,
    );
    assert.equal(window.waitMs(ADDRESS, 1, 0), 0);
  });
});
