import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nowAndNext } from '../../src/cli/oncall.ts';

const T = (h: number) => new Date(Date.UTC(2026, 10, 21, 10 + h)).toISOString();
const shift = (user_id: string, from: number, to: number, layer = 'rota') => ({ user_id, starts_at: T(from), ends_at: T(to), layer });

describe('lifeline oncall: now and next from the shifts', () => {
  it('names who is on call until their turn ends, across layers, and who comes next', () => {
    const r = nowAndNext([shift('ana', 0, 2), shift('ana', 2, 5, 'office'), shift('ben', 5, 9)], T(0));
    assert.deepEqual(r, { now: { user_id: 'ana', starts_at: T(0), ends_at: T(5) }, next: { user_id: 'ben', starts_at: T(5), ends_at: T(9) } });
  });

  it('says nobody now when the first shift starts later, and that one is next', () => {
    assert.deepEqual(nowAndNext([shift('ben', 3, 4)], T(0)), { now: null, next: { user_id: 'ben', starts_at: T(3), ends_at: T(4) } });
  });

  it('keeps a gap between two turns of one person as two turns', () => {
    const r = nowAndNext([shift('ana', 0, 1), shift('ana', 2, 3)], T(0));
    assert.deepEqual(r.next, { user_id: 'ana', starts_at: T(2), ends_at: T(3) });
  });

  it('has nobody now and nobody next for an empty range', () => {
    assert.deepEqual(nowAndNext([], T(0)), { now: null, next: null });
  });
});
