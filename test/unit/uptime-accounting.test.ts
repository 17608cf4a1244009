import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_RANGE_MS,
  NODE_STATES,
  UPTIME_WINDOWS,
  bucketEnd,
  bucketStart,
  combine,
  emptyStateMs,
  intervalsFromLog,
  msInWindow,
  resolveWindow,
  splitIntoBuckets,
  summarize,
} from '../../src/uptime/accounting.ts';
import type {
  BucketSize,
  Interval,
  NodeState,
  StateMs,
  Transition,
  WindowParams,
} from '../../src/uptime/accounting.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const at = (iso: string): number => Date.parse(iso);
const stateMs = (partial: Partial<StateMs>): StateMs => ({ ...emptyStateMs(), ...partial });
const totalMs = (ms: StateMs): number => NODE_STATES.reduce((sum, state) => sum + ms[state], 0);
const move = (from: NodeState, to: NodeState, iso: string): Transition => ({ from, to, at: at(iso) });

// Deterministic PRNG (mulberry32) so random cases are reproducible from their seed.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randomInt = (random: () => number, min: number, max: number): number =>
  min + Math.floor(random() * (max - min + 1));

// A state different from `current`, as the engine records only actual changes.
function nextState(random: () => number, current: NodeState): NodeState {
  const others = NODE_STATES.filter((state) => state !== current);
  return others[randomInt(random, 0, others.length - 1)]!;
}

function assertContiguous(intervals: readonly Interval[], start: number, end: number): void {
  if (end <= start) return assert.deepEqual(intervals, []);
  assert.equal(intervals[0]?.start, start);
  assert.equal(intervals.at(-1)?.end, end);
  intervals.forEach((interval, i) => {
    assert.ok(interval.end > interval.start, `interval ${i} has no length`);
    if (i > 0) assert.equal(interval.start, intervals[i - 1]!.end, `gap before interval ${i}`);
  });
}

describe('intervalsFromLog', () => {
  const created = '2026-11-21T10:00:00.000Z';
  const until = '2026-11-21T11:00:00.000Z';
  const cases: Array<{
    name: string;
    transitions: Transition[];
    until?: string;
    deletedAt?: string;
    expected: Array<[NodeState, string, string]>;
  }> = [
    {
      name: 'a node that never changed is unknown from creation until now',
      transitions: [],
      expected: [['unknown', created, until]],
    },
    {
      name: 'runs each interval from one transition to the next, the last one open until now',
      transitions: [
        move('unknown', 'healthy', '2026-11-21T10:05:00.000Z'),
        move('healthy', 'down', '2026-11-21T10:40:00.000Z'),
      ],
      expected: [
        ['unknown', created, '2026-11-21T10:05:00.000Z'],
        ['healthy', '2026-11-21T10:05:00.000Z', '2026-11-21T10:40:00.000Z'],
        ['down', '2026-11-21T10:40:00.000Z', until],
      ],
    },
    {
      name: 'drops the zero-length unknown piece of a transition at creation',
      transitions: [move('unknown', 'healthy', created)],
      expected: [['healthy', created, until]],
    },
    {
      name: 'clamps a transition stamped before creation to the creation time',
      transitions: [move('unknown', 'healthy', '2026-11-21T09:00:00.000Z')],
      expected: [['healthy', created, until]],
    },
    {
      name: 'clamps a transition stamped before the previous one to the previous one',
      transitions: [
        move('unknown', 'healthy', '2026-11-21T10:30:00.000Z'),
        move('healthy', 'down', '2026-11-21T10:10:00.000Z'),
      ],
      expected: [
        ['unknown', created, '2026-11-21T10:30:00.000Z'],
        ['down', '2026-11-21T10:30:00.000Z', until],
      ],
    },
    {
      name: 'ignores transitions after the end, keeping the state in force then',
      transitions: [
        move('unknown', 'healthy', '2026-11-21T10:30:00.000Z'),
        move('healthy', 'down', '2026-11-21T11:30:00.000Z'),
      ],
      expected: [
        ['unknown', created, '2026-11-21T10:30:00.000Z'],
        ['healthy', '2026-11-21T10:30:00.000Z', until],
      ],
    },
    {
      name: 'stops counting at deletion',
      transitions: [move('unknown', 'healthy', '2026-11-21T10:30:00.000Z')],
      deletedAt: '2026-11-21T10:45:00.000Z',
      expected: [
        ['unknown', created, '2026-11-21T10:30:00.000Z'],
        ['healthy', '2026-11-21T10:30:00.000Z', '2026-11-21T10:45:00.000Z'],
      ],
    },
    {
      name: 'starts in the first transition’s from state',
      transitions: [move('maintenance', 'healthy', '2026-11-21T10:30:00.000Z')],
      expected: [
        ['maintenance', created, '2026-11-21T10:30:00.000Z'],
        ['healthy', '2026-11-21T10:30:00.000Z', until],
      ],
    },
    {
      name: 'has no intervals when the end is not after creation',
      transitions: [move('unknown', 'healthy', '2026-11-21T09:00:00.000Z')],
      until: '2026-11-21T09:30:00.000Z',
      expected: [],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const intervals = intervalsFromLog({
        createdAt: at(created),
        transitions: c.transitions,
        until: at(c.until ?? until),
        deletedAt: c.deletedAt === undefined ? null : at(c.deletedAt),
      });
      assert.deepEqual(
        intervals,
        c.expected.map(([state, start, end]) => ({ state, start: at(start), end: at(end) })),
      );
    });
  }
});

describe('milliseconds per state in a window', () => {
  const cases: Array<{
    name: string;
    created: string;
    transitions: Transition[];
    now: string;
    from: string;
    to: string;
    expected: StateMs;
    ratio: number | null;
  }> = [
    {
      name: 'unknown at creation is neither down nor monitored',
      created: '2026-11-21T10:00:00.000Z',
      transitions: [move('unknown', 'healthy', '2026-11-21T10:15:00.000Z')],
      now: '2026-11-21T11:00:00.000Z',
      from: '2026-11-21T10:00:00.000Z',
      to: '2026-11-21T11:00:00.000Z',
      expected: stateMs({ unknown: 15 * MINUTE, healthy: 45 * MINUTE }),
      ratio: 1,
    },
    {
      name: 'a window starting before creation counts nothing before it, not even unknown',
      created: '2026-11-21T10:00:00.000Z',
      transitions: [move('unknown', 'down', '2026-11-21T11:00:00.000Z')],
      now: '2026-11-21T12:00:00.000Z',
      from: '2026-11-21T08:00:00.000Z',
      to: '2026-11-21T12:00:00.000Z',
      expected: stateMs({ unknown: HOUR, down: HOUR }),
      ratio: 0,
    },
    {
      name: 'maintenance inside an outage is excluded from monitored time',
      created: '2026-11-21T00:00:00.000Z',
      transitions: [
        move('unknown', 'healthy', '2026-11-21T00:00:00.000Z'),
        move('healthy', 'down', '2026-11-21T01:00:00.000Z'),
        move('down', 'maintenance', '2026-11-21T01:20:00.000Z'),
        move('maintenance', 'down', '2026-11-21T01:40:00.000Z'),
        move('down', 'healthy', '2026-11-21T02:00:00.000Z'),
      ],
      now: '2026-11-21T03:00:00.000Z',
      from: '2026-11-21T00:00:00.000Z',
      to: '2026-11-21T03:00:00.000Z',
      expected: stateMs({ healthy: 2 * HOUR, down: 40 * MINUTE, maintenance: 20 * MINUTE }),
      ratio: 120 / 160,
    },
    {
      name: 'degraded time counts as up',
      created: '2026-11-21T00:00:00.000Z',
      transitions: [
        move('unknown', 'degraded', '2026-11-21T00:00:00.000Z'),
        move('degraded', 'down', '2026-11-21T00:45:00.000Z'),
      ],
      now: '2026-11-21T01:00:00.000Z',
      from: '2026-11-21T00:00:00.000Z',
      to: '2026-11-21T01:00:00.000Z',
      expected: stateMs({ degraded: 45 * MINUTE, down: 15 * MINUTE }),
      ratio: 0.75,
    },
    {
      name: 'only unknown and maintenance time gives no ratio',
      created: '2026-11-21T00:00:00.000Z',
      transitions: [move('unknown', 'maintenance', '2026-11-21T00:30:00.000Z')],
      now: '2026-11-21T01:00:00.000Z',
      from: '2026-11-21T00:00:00.000Z',
      to: '2026-11-21T01:00:00.000Z',
      expected: stateMs({ unknown: 30 * MINUTE, maintenance: 30 * MINUTE }),
      ratio: null,
    },
    {
      name: 'clips intervals at both ends of the window',
      created: '2026-11-21T00:00:00.000Z',
      transitions: [
        move('unknown', 'healthy', '2026-11-21T00:00:00.000Z'),
        move('healthy', 'down', '2026-11-21T01:00:00.000Z'),
        move('down', 'healthy', '2026-11-21T02:00:00.000Z'),
      ],
      now: '2026-11-21T04:00:00.000Z',
      from: '2026-11-21T01:30:00.000Z',
      to: '2026-11-21T02:30:00.001Z',
      expected: stateMs({ down: 30 * MINUTE, healthy: 30 * MINUTE + 1 }),
      ratio: (30 * MINUTE + 1) / (HOUR + 1),
    },
    {
      name: 'counts the open last interval only up to now',
      created: '2026-11-21T00:00:00.000Z',
      transitions: [move('unknown', 'down', '2026-11-21T00:00:00.000Z')],
      now: '2026-11-21T00:10:00.000Z',
      from: '2026-11-21T00:00:00.000Z',
      to: '2026-11-21T01:00:00.000Z',
      expected: stateMs({ down: 10 * MINUTE }),
      ratio: 0,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const intervals = intervalsFromLog({
        createdAt: at(c.created),
        transitions: c.transitions,
        until: at(c.now),
      });
      const ms = msInWindow(intervals, at(c.from), at(c.to));
      assert.deepEqual(ms, c.expected);
      assert.equal(summarize(ms).uptime_ratio, c.ratio);
    });
  }
});

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
  const cases: Array<{
    name: string;
    created: string;
    transitions: Transition[];
    now: string;
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
      const intervals = intervalsFromLog({
        createdAt: at(c.created),
        transitions: c.transitions,
        until: at(c.now),
      });
      assert.deepEqual(
        splitIntoBuckets(intervals, c.size, at(c.from), at(c.to)),
        c.expected.map(([start, ms]) => ({ start: at(start), ms: stateMs(ms) })),
      );
    });
  }
});

describe('summarize', () => {
  const cases: Array<{
    name: string;
    ms: Partial<StateMs>;
    expected: ReturnType<typeof summarize>;
  }> = [
    {
      name: 'reports no ratio when nothing was counted',
      ms: {},
      expected: {
        uptime_ratio: null,
        up_seconds: 0,
        monitored_seconds: 0,
        seconds: { healthy: 0, degraded: 0, down: 0, maintenance: 0, unknown: 0 },
      },
    },
    {
      name: 'reports no ratio when only unknown and maintenance were counted',
      ms: { unknown: 5000, maintenance: 7000 },
      expected: {
        uptime_ratio: null,
        up_seconds: 0,
        monitored_seconds: 0,
        seconds: { healthy: 0, degraded: 0, down: 0, maintenance: 7, unknown: 5 },
      },
    },
    {
      name: 'reports seconds with millisecond precision',
      ms: { healthy: 1234, degraded: 1, down: 5, maintenance: 999, unknown: 1 },
      expected: {
        uptime_ratio: 1235 / 1240,
        up_seconds: 1.235,
        monitored_seconds: 1.24,
        seconds: { healthy: 1.234, degraded: 0.001, down: 0.005, maintenance: 0.999, unknown: 0.001 },
      },
    },
    {
      name: 'takes the ratio from milliseconds, not from whole seconds',
      ms: { healthy: 1400, down: 600 },
      expected: {
        uptime_ratio: 0.7,
        up_seconds: 1.4,
        monitored_seconds: 2,
        seconds: { healthy: 1.4, degraded: 0, down: 0.6, maintenance: 0, unknown: 0 },
      },
    },
    {
      // 0.001 / 0.009 is not the double closest to 1/9; integer milliseconds give the exact one.
      name: 'takes the ratio from integer milliseconds, not from fractional seconds',
      ms: { healthy: 1, down: 8 },
      expected: {
        uptime_ratio: 1 / 9,
        up_seconds: 0.001,
        monitored_seconds: 0.009,
        seconds: { healthy: 0.001, degraded: 0, down: 0.008, maintenance: 0, unknown: 0 },
      },
    },
  ];

  for (const c of cases) {
    it(c.name, () => assert.deepEqual(summarize(stateMs(c.ms)), c.expected));
  }

  it('lists seconds in the contract order', () => {
    assert.deepEqual(Object.keys(summarize(emptyStateMs()).seconds), [
      'healthy', 'degraded', 'down', 'maintenance', 'unknown',
    ]);
  });
});

describe('resolveWindow', () => {
  const now = at('2026-11-21T10:00:00.000Z');
  const iso = (t: number): string => new Date(t).toISOString();

  const valid: Array<[string, WindowParams, number, number]> = [
    ['defaults to 30 days', {}, now - 30 * DAY, now],
    ...Object.entries(UPTIME_WINDOWS).map(
      ([window, length]): [string, WindowParams, number, number] => [
        `accepts window ${window}`, { window }, now - length, now,
      ],
    ),
    [
      'accepts an explicit range',
      { from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T00:00:00.000Z' },
      at('2026-11-01T00:00:00.000Z'),
      at('2026-11-02T00:00:00.000Z'),
    ],
    [
      'applies offsets and fractions',
      { from: '2026-11-20T02:00:00+02:00', to: '2026-11-20T19:30:00.5-04:30' },
      at('2026-11-20T00:00:00.000Z'),
      at('2026-11-21T00:00:00.500Z'),
    ],
    [
      'accepts lower-case separators and truncates sub-millisecond fractions',
      { from: '2026-11-20t00:00:00.123999z', to: '2026-11-20 01:00:00Z' },
      at('2026-11-20T00:00:00.123Z'),
      at('2026-11-20T01:00:00.000Z'),
    ],
    [
      'clips a future end to now',
      { from: '2026-11-20T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' },
      at('2026-11-20T00:00:00.000Z'),
      now,
    ],
    ['accepts a range of exactly 3 × 366 days', { from: iso(now - 3 * 366 * DAY), to: iso(now) }, now - MAX_RANGE_MS, now],
    [
      'bounds the range after clipping to now',
      { from: iso(now - 1000 * DAY), to: iso(now + 500 * DAY) },
      now - 1000 * DAY,
      now,
    ],
  ];
  for (const [name, params, from, to] of valid) {
    it(name, () => assert.deepEqual(resolveWindow(params, now), { from, to }));
  }

  const invalid: Array<[string, WindowParams, 'window' | 'from' | 'to']> = [
    ['rejects an unknown window', { window: '1w' }, 'window'],
    ['rejects an empty window', { window: '' }, 'window'],
    ['rejects a window inherited from Object.prototype', { window: 'toString' }, 'window'],
    ['rejects window together with from', { window: '7d', from: '2026-11-01T00:00:00Z' }, 'window'],
    ['rejects window together with to', { window: '7d', to: '2026-11-01T00:00:00Z' }, 'window'],
    ['rejects from without to', { from: '2026-11-01T00:00:00Z' }, 'to'],
    ['rejects to without from', { to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects words', { from: 'yesterday', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects a date without a time', { from: '2026-10-01', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects a time without an offset', { from: '2026-10-01T00:00:00', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects an impossible day', { from: '2026-10-01T00:00:00Z', to: '2026-02-30T00:00:00Z' }, 'to'],
    ['rejects hour 24', { from: '2026-10-01T00:00:00Z', to: '2026-11-01T24:00:00Z' }, 'to'],
    ['rejects a leap second', { from: '2026-10-01T00:00:00Z', to: '2026-11-01T23:59:60Z' }, 'to'],
    ['rejects an impossible offset', { from: '2026-10-01T00:00:00+24:00', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects from equal to to', { from: '2026-11-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects from after to', { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects a range wholly in the future', { from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' }, 'from'],
    ['rejects a range over 3 × 366 days', { from: iso(now - MAX_RANGE_MS - 1), to: iso(now) }, 'from'],
  ];
  for (const [name, params, field] of invalid) {
    it(name, () => {
      const result = resolveWindow(params, now);
      assert.ok('error' in result, `expected an error, got ${JSON.stringify(result)}`);
      assert.equal(result.error.field, field);
      assert.match(result.error.message, /\S/);
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
