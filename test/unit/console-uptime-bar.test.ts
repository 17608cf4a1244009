import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daySegments, dayDetail } from '../../src/console/uptime-bar.tsx';
import { duration, percent } from '../../src/console/format.ts';
import { DAY_MS } from '../../src/uptime/buckets.ts';
import { emptyStateMs, type StateMs } from '../../src/uptime/state-time.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const day0 = Date.UTC(2026, 10, 20);
const bucket = (ms: Partial<StateMs>) => ({ start: day0, ms: { ...emptyStateMs(), ...ms } });
const heights = (b: ReturnType<typeof bucket>, now = day0 + 2 * DAY_MS) =>
  Object.fromEntries(daySegments(b, now).map((s) => [s.state, Math.round(s.height * 100) / 100]));

describe('the 90-day bar', () => {
  it('stacks a day by the share of it spent in each state, filling the column', () => {
    assert.deepEqual(heights(bucket({ healthy: 18 * HOUR, maintenance: 6 * HOUR })), { healthy: 30, maintenance: 10 });
  });

  it('keeps a short outage visible without changing which state dominates', () => {
    const h = heights(bucket({ healthy: DAY_MS - 10 * MIN, down: 10 * MIN }));
    assert.equal(h.down, 3, 'ten minutes of 24 h would be 0.28 units; it is drawn at the minimum');
    assert.equal(h.healthy, 37);
  });

  it('leaves time nothing was recorded for empty: before the node existed, and the rest of today', () => {
    assert.deepEqual(heights(bucket({ unknown: 6 * HOUR, healthy: 6 * HOUR })), { healthy: 10, unknown: 10, none: 20 });
    // Today, six hours in: the column stands for the six hours that happened.
    assert.deepEqual(heights(bucket({ down: 3 * HOUR }), day0 + 6 * HOUR), { down: 20, none: 20 });
  });

  it('describes a day in words for its tooltip and table', () => {
    assert.equal(dayDetail(bucket({ healthy: DAY_MS - 10 * MIN, down: 10 * MIN })), '99.30 % up · down 10 min');
    assert.equal(dayDetail(bucket({ maintenance: DAY_MS })), 'nothing monitored · maintenance 1 d');
  });
});

describe('console figures', () => {
  it('writes uptime with the precision that tells a difference near 100 %', () => {
    assert.deepEqual([1, 0.99995, 0.9991, 0.5, 0, null].map(percent), ['100 %', '99.995 %', '99.910 %', '50.00 %', '0.00 %', 'no data']);
  });

  it('writes durations in at most two units', () => {
    assert.deepEqual([0, 59_999, 60_000, 3 * HOUR + 5 * MIN, 2 * DAY_MS + 4 * HOUR + 59 * MIN].map(duration), ['0 s', '59 s', '1 min', '3 h 5 min', '2 d 4 h']);
  });
});
