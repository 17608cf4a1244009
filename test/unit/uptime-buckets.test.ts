import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketEnd, bucketStart, splitIntoBuckets, type BucketSize } from '../../src/uptime/buckets.ts';
import { intervalsFromLog, msInWindow, type Transition } from '../../src/uptime/intervals.ts';
import { combine, emptyStateMs, type NodeState, type StateMs } from '../../src/uptime/state-time.ts';
import { resolveWindow } from '../../src/uptime/windows.ts';
import { MINUTE, HOUR, DAY, at, stateMs, totalMs, move, prng, randomInt, nextState, assertContiguous, intervalsOfCase, type CaseLog } from '../helpers/uptime-history.ts';

describe('bucketStart and bucketEnd', () => {
  const cases: Array<[string, BucketSize, number, number, number]> = [
    ['inside an hour', 'hour', at('2026-11-21T10:40:00.001Z'), at('2026-11-21T10:00:00.000Z'), at('2026-11-21T11:00:00.000Z')],
    ['on an hour boundary', 'hour', at('2026-11-21T11:00:00.000Z'), at('2026-11-21T11:00:00.000Z'), at('2026-11-21T12:00:00.000Z')],
    ['just before an hour boundary', 'hour', at('2026-11-21T10:59:59.999Z'), at('2026-11-21T10:00:00.000Z'), at('2026-11-21T11:00:00.000Z')],
    ['the last moment of a year', 'day', at('2026-12-31T23:59:59.999Z'), at('2026-12-31T00:00:00.000Z'), at('2027-01-01T00:00:00.000Z')],
    ['a leap day', 'day', at('2028-02-29T05:00:00.000Z'), at('2028-02-29T00:00:00.000Z'), at('2028-03-01T00:00:00.000Z')],
    ['before 1970, hour', 'hour', -1, -HOUR, 0],
    ['before 1970, day', 'day', -DAY - 1, -2 * DAY, -DAY],
  ];
  for (const [name, size, t, start, end] of cases) {
    it(`aligns ${name}`, () => {
      assert.equal(bucketStart(t, size), start);
      assert.equal(bucketEnd(t, size), end);
    });
  }
});

describe('splitIntoBuckets', () => {
  const cases: Array<CaseLog & {
    name: string;
    size: BucketSize;
    from: string;
    to: string;
    expected: Array<[string, Partial<StateMs>]>;
  }> = [
    {
      name: 'splits an outage across an hour boundary into both hours',
      created: '2026-11-21T09:00:00.000Z',
      transitions: [
        move('unknown', 'healthy', '2026-11-21T09:00:00.000Z'),
        move('healthy', 'down', '2026-11-21T10:40:00.000Z'),
        move('down', 'healthy', '2026-11-21T11:10:00.000Z'),
      ],
      now: '2026-11-21T12:00:00.000Z',
      size: 'hour',
      from: '2026-11-21T10:00:00.000Z',
      to: '2026-11-21T12:00:00.000Z',
      expected: [
        ['2026-11-21T10:00:00.000Z', { healthy: 40 * MINUTE, down: 20 * MINUTE }],
        ['2026-11-21T11:00:00.000Z', { down: 10 * MINUTE, healthy: 50 * MINUTE }],
      ],
    },
    {
      name: 'splits days across a year boundary, clipped to the window',
      created: '2026-12-31T22:00:00.000Z',
      transitions: [
        move('unknown', 'healthy', '2026-12-31T22:00:00.000Z'),
        move('healthy', 'down', '2026-12-31T23:30:00.000Z'),
        move('down', 'healthy', '2027-01-01T00:30:00.000Z'),
      ],
      now: '2027-01-01T05:00:00.000Z',
      size: 'day',
      from: '2026-12-31T23:00:00.000Z',
      to: '2027-01-01T02:00:00.000Z',
      expected: [
        ['2026-12-31T00:00:00.000Z', { healthy: 30 * MINUTE, down: 30 * MINUTE }],
        ['2027-01-01T00:00:00.000Z', { down: 30 * MINUTE, healthy: 90 * MINUTE }],
      ],
    },
    {
      name: 'returns zeroed buckets before creation, across a leap day and a month boundary',
      created: '2028-02-29T12:00:00.000Z',
      transitions: [move('unknown', 'healthy', '2028-02-29T18:00:00.000Z')],
      now: '2028-03-02T00:00:00.000Z',
      size: 'day',
      from: '2028-02-28T12:00:00.000Z',
      to: '2028-03-01T12:00:00.000Z',
      expected: [
        ['2028-02-28T00:00:00.000Z', {}],
        ['2028-02-29T00:00:00.000Z', { unknown: 6 * HOUR, healthy: 6 * HOUR }],
        ['2028-03-01T00:00:00.000Z', { healthy: 12 * HOUR }],
      ],
    },
    {
      name: 'returns no buckets for an empty window',
      created: '2026-11-21T09:00:00.000Z',
      transitions: [],
      now: '2026-11-21T12:00:00.000Z',
      size: 'hour',
      from: '2026-11-21T10:30:00.000Z',
      to: '2026-11-21T10:30:00.000Z',
      expected: [],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(
        splitIntoBuckets(intervalsOfCase(c), c.size, at(c.from), at(c.to)),
        c.expected.map(([start, ms]) => ({ start: at(start), ms: stateMs(ms) })),
      );
    });
  }
});

describe('a year-long history', () => {
  it('sums exactly to the window length, in total, per state and per bucket', () => {
    const random = prng(2026);
    const createdAt = at('2026-01-01T00:00:00.123Z');
    const now = createdAt + 365 * DAY;
    // Independent oracle: the generator knows how long each state lasted.
    const expected = emptyStateMs();
    const transitions: Transition[] = [];
    let state: NodeState = 'unknown';
    let t = createdAt;
    while (transitions.length < 5000) {
      const next = Math.min(now, t + randomInt(random, 1, 2 * HOUR + 12_345));
      expected[state] += next - t;
      t = next;
      if (t === now) break;
      const to = nextState(random, state);
      transitions.push({ from: state, to, at: t });
      state = to;
    }
    expected[state] += now - t;
    assert.ok(transitions.length >= 4000, `only ${transitions.length} transitions`);

    const window = resolveWindow({ window: '365d' }, now);
    assert.ok(!('error' in window));
    const intervals = intervalsFromLog({ createdAt, transitions, until: now });
    const ms = msInWindow(intervals, window.from, window.to);
    assert.deepEqual(ms, expected);
    assert.equal(totalMs(ms), 365 * DAY);

    const hours = splitIntoBuckets(intervals, 'hour', window.from, window.to);
    assert.equal(hours.length, 365 * 24 + 1);
    assert.deepEqual(combine(hours.map((bucket) => bucket.ms)), expected);
    assert.deepEqual(combine(splitIntoBuckets(intervals, 'day', window.from, window.to).map((b) => b.ms)), expected);
  });
});

describe('buckets agree with the window total for random histories', () => {
  const runs = 300;
  it(`holds for ${runs} seeded random histories`, () => {
    for (let seed = 1; seed <= runs; seed++) {
      const random = prng(seed);
      const createdAt = at('2026-03-01T00:00:00.000Z') + randomInt(random, 0, 300 * DAY);
      const until = createdAt + randomInt(random, -HOUR, 5 * DAY);
      const transitions: Transition[] = [];
      let state: NodeState = 'unknown';
      // Mostly forward steps, with some transitions stamped before creation or before their
      // predecessor, to exercise the clamping as well.
      let t = createdAt - randomInt(random, 0, HOUR);
      for (let n = randomInt(random, 0, 60); n > 0; n--) {
        t += randomInt(random, -20 * MINUTE, 4 * HOUR);
        const to = nextState(random, state);
        transitions.push({ from: state, to, at: t });
        state = to;
      }
      const from = createdAt + randomInt(random, -2 * DAY, 3 * DAY);
      const to = from + randomInt(random, 0, 4 * DAY);
      const context = `seed ${seed}`;

      const intervals = intervalsFromLog({ createdAt, transitions, until });
      assertContiguous(intervals, createdAt, until);

      const window = msInWindow(intervals, from, to);
      const counted = Math.max(0, Math.min(to, until) - Math.max(from, createdAt));
      assert.equal(totalMs(window), counted, context);

      const hours = splitIntoBuckets(intervals, 'hour', from, to);
      assert.deepEqual(combine(hours.map((bucket) => bucket.ms)), window, context);

      for (const day of splitIntoBuckets(intervals, 'day', from, to)) {
        const inDay = hours.filter((hour) => bucketStart(hour.start, 'day') === day.start);
        assert.deepEqual(combine(inDay.map((hour) => hour.ms)), day.ms, `${context}, day ${day.start}`);
      }
    }
  });
});
