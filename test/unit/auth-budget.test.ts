import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'hono';
import { authBudget, BudgetSpent } from '../../src/http/auth-budget.ts';
import { FixedWindow } from '../../src/http/rate-limit.ts';

// The one failed-authentication rule of the API's Bearer secrets, the console's session and its
// sign-in: a found secret is never refused, counted or even given an address.

const request = {} as Context;

function budgetOf(limit: number) {
  const window = new FixedWindow(limit, 60_000);
  const addresses: Context[] = [];
  const budget = authBudget({
    budget: window,
    key: (c) => {
      addresses.push(c);
      return '192.0.2.1';
    },
    nowMs: () => 0,
  });
  return { budget, window, addresses };
}

const found = async () => 'principal';
const unknown = async () => undefined;

describe('authBudget', () => {
  it('takes a found secret without working out the address or spending anything', async () => {
    const { budget, window, addresses } = budgetOf(2);
    for (let i = 0; i < 5; i++) assert.equal(await budget.authenticate(request, found), 'principal');
    assert.equal(addresses.length, 0, 'no client address was worked out');
    assert.equal(window.waitMs('192.0.2.1', 2, 0), 0, 'the whole budget is left');
  });

  it('counts unknown secrets, refuses them past the budget, and still takes a found one there', async () => {
    const { budget } = budgetOf(2);
    for (let i = 0; i < 2; i++) assert.equal(await budget.authenticate(request, unknown), undefined);
    const refused = await budget.authenticate(request, unknown).then(
      () => assert.fail('not refused'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof BudgetSpent);
    assert.equal(refused.status, 429);
    assert.equal(refused.retryAfterSeconds, 60);
    assert.deepEqual(refused.headers, { 'retry-after': '60' });
    assert.equal(await budget.authenticate(request, found), 'principal');
  });

  it('lets a lookup refuse before its query past the budget, and never before it', async () => {
    const { budget } = budgetOf(1);
    let queries = 0;
    const cacheMiss = async (refuseUnknown: () => void) => {
      refuseUnknown();
      queries += 1;
      return undefined;
    };
    assert.equal(await budget.authenticate(request, cacheMiss), undefined);
    await assert.rejects(budget.authenticate(request, cacheMiss), BudgetSpent);
    assert.equal(queries, 1, 'the refused secret cost no query');
  });

  it('counts nothing when the lookup itself fails', async () => {
    const { budget, window } = budgetOf(1);
    await assert.rejects(
      budget.authenticate(request, async () => {
        throw new Error('connect ECONNREFUSED');
      }),
      /ECONNREFUSED/,
    );
    assert.equal(window.waitMs('192.0.2.1', 1, 0), 0);
  });
});
