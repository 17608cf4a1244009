import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_RANGE_MS,
  NODE_STATES,
  UPTIME_WINDOWS,
  breakdown,
  bucketEnd,
  bucketStart,
  combine,
  emptyStateMs,
  exactUntil,
  fromProgress,
  hoursOf,
  intervalsFromLog,
  msInWindow,
  planRollup,
  planWindow,
  resolveWindow,
  retentionHorizons,
  rollUp,
  runningBefore,
  splitIntoBuckets,
  storedSpans,
  subtractStateMs,
  summarize,
} from '../../src/uptime/accounting.ts';
import type {
  Bucket,
  BucketSize,
  DayRow,
  HourRow,
  Interval,
  NodeState,
  Progress,
  Retention,
  Segment,
  Span,
  StateMs,
  Transition,
  Window,
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

/** A progress row with the given stored runs and an end that says nothing more. */
function progressOf(runs: Pick<Progress, 'stateVersion' | 'closedUntil' | 'hoursFrom' | 'daysFrom'>): Progress {
  return { ...runs, lastAt: null, closedState: 'unknown', today: emptyStateMs(), daysRunning: null };
}

/** A log as the evaluator writes it: times never go back, each transition changes the state. */
function monotonicLog(random: () => number, createdAt: number, count: number, maxStep = 4 * HOUR): Transition[] {
  const transitions: Transition[] = [];
  let state: NodeState = 'unknown';
  let t = createdAt;
  for (let i = 0; i < count; i++) {
    t += randomInt(random, 0, maxStep);
    const to = nextState(random, state);
    transitions.push({ from: state, to, at: t });
    state = to;
  }
  return transitions;
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

describe('intervalsFromLog on a suffix of the log', () => {
  it('starts in the given initial state', () => {
    assert.deepEqual(
      intervalsFromLog({
        createdAt: at('2026-11-21T11:00:00.000Z'),
        initialState: 'down',
        transitions: [move('down', 'healthy', '2026-11-21T11:20:00.000Z')],
        until: at('2026-11-21T12:00:00.000Z'),
      }),
      [
        { state: 'down', start: at('2026-11-21T11:00:00.000Z'), end: at('2026-11-21T11:20:00.000Z') },
        { state: 'healthy', start: at('2026-11-21T11:20:00.000Z'), end: at('2026-11-21T12:00:00.000Z') },
      ],
    );
  });

  it('falls back to the first transition’s from state when there was none before', () => {
    assert.deepEqual(
      intervalsFromLog({ createdAt: 0, initialState: null, transitions: [move('unknown', 'healthy', '1970-01-01T00:00:01.000Z')], until: 2000 }),
      [
        { state: 'unknown', start: 0, end: 1000 },
        { state: 'healthy', start: 1000, end: 2000 },
      ],
    );
  });

  it('agrees with the whole log from any point on, for monotonic logs', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = prng(seed);
      const createdAt = at('2026-03-01T00:00:00.000Z');
      const transitions = monotonicLog(random, createdAt, randomInt(random, 0, 30));
      const until = createdAt + 3 * DAY;
      const cut = createdAt + randomInt(random, 0, 3 * DAY);
      const before = transitions.filter((t) => t.at < cut);
      const suffix = intervalsFromLog({
        createdAt: cut,
        initialState: before.at(-1)?.to ?? null,
        transitions: transitions.filter((t) => t.at >= cut),
        until,
      });
      const whole = intervalsFromLog({ createdAt, transitions, until });
      assert.deepEqual(msInWindow(suffix, cut, until), msInWindow(whole, cut, until), `seed ${seed}`);
      for (let from = cut; from < until; from += 7 * HOUR + 1) {
        assert.deepEqual(msInWindow(suffix, from, from + 5 * HOUR), msInWindow(whole, from, from + 5 * HOUR), `seed ${seed} at ${from}`);
      }
    }
  });
});

describe('retentionHorizons and exactUntil', () => {
  it('keeps whole days: the horizons fall on day boundaries', () => {
    assert.deepEqual(retentionHorizons(at('2026-11-21T10:30:00.000Z'), { hourlyDays: 90, dailyDays: 1095 }), {
      hours: at('2026-08-23T00:00:00.000Z'),
      days: at('2023-11-22T00:00:00.000Z'),
    });
    assert.deepEqual(retentionHorizons(at('2026-11-21T00:00:00.000Z'), { hourlyDays: 1, dailyDays: 2 }), {
      hours: at('2026-11-20T00:00:00.000Z'),
      days: at('2026-11-19T00:00:00.000Z'),
    });
  });

  const progress = progressOf({ stateVersion: 4, closedUntil: at('2026-11-21T10:00:00.000Z'), hoursFrom: at('2026-11-01T00:00:00.000Z'), daysFrom: at('2026-11-01T00:00:00.000Z') });
  const cases: Array<[string, string | null, string]> = [
    ['is the stored end when nothing is pending', null, '2026-11-21T10:00:00.000Z'],
    ['is the stored end when the pending transition is after it', '2026-11-21T10:00:00.001Z', '2026-11-21T10:00:00.000Z'],
    ['stops at the hour of a pending transition before the stored end', '2026-11-21T08:59:59.999Z', '2026-11-21T08:00:00.000Z'],
  ];
  for (const [name, pending, exact] of cases) {
    it(`exactUntil ${name}`, () => assert.equal(exactUntil(progress, pending === null ? null : at(pending)), at(exact)));
  }
});

describe('planRollup', () => {
  const retention: Retention = { hourlyDays: 90, dailyDays: 1095 };
  const created = '2026-11-19T09:30:00.000Z';
  const stored = (closedUntil: string, hoursFrom = '2026-11-19T00:00:00.000Z', daysFrom = hoursFrom, stateVersion = 3): Progress =>
    progressOf({ stateVersion, closedUntil: at(closedUntil), hoursFrom: at(hoursFrom), daysFrom: at(daysFrom) });
  const spanOf = (start: string, end: string): Span => ({ start: at(start), end: at(end) });
  const cases: Array<{
    name: string;
    progress: Progress | null;
    pending?: string;
    now: string;
    retention?: Retention;
    expected: { read: Span; hourDays: Span; days: Span; baseDay: string | null; next: [string, string, string] };
  }> = [
    {
      name: 'rolls a new node up from the hour it was created to the current hour',
      progress: null,
      now: '2026-11-21T10:15:00.000Z',
      expected: {
        read: spanOf('2026-11-19T00:00:00.000Z', '2026-11-21T10:00:00.000Z'),
        hourDays: spanOf('2026-11-19T00:00:00.000Z', '2026-11-22T00:00:00.000Z'),
        days: spanOf('2026-11-19T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
        baseDay: null,
        next: ['2026-11-21T10:00:00.000Z', '2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'],
      },
    },
    {
      name: 'stores an empty run for a node whose first pass comes within its first hour',
      progress: null,
      now: '2026-11-19T09:45:00.000Z',
      expected: {
        read: spanOf('2026-11-19T09:00:00.000Z', '2026-11-19T09:00:00.000Z'),
        hourDays: spanOf('2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'),
        days: spanOf('2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'),
        baseDay: null,
        next: ['2026-11-19T09:00:00.000Z', '2026-11-19T09:00:00.000Z', '2026-11-19T00:00:00.000Z'],
      },
    },
    {
      name: 'rewrites nothing and reads nothing within an hour already closed',
      progress: stored('2026-11-21T10:00:00.000Z'),
      pending: '2026-11-21T10:20:00.000Z',
      now: '2026-11-21T10:30:00.000Z',
      expected: {
        read: spanOf('2026-11-21T10:00:00.000Z', '2026-11-21T10:00:00.000Z'),
        hourDays: spanOf('2026-11-21T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
        days: spanOf('2026-11-21T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
        baseDay: null,
        next: ['2026-11-21T10:00:00.000Z', '2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'],
      },
    },
    {
      name: 'closes the hours since the stored end by rewriting their day’s hour row',
      progress: stored('2026-11-21T10:00:00.000Z'),
      now: '2026-11-21T12:00:05.000Z',
      expected: {
        read: spanOf('2026-11-21T00:00:00.000Z', '2026-11-21T12:00:00.000Z'),
        hourDays: spanOf('2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z'),
        days: spanOf('2026-11-21T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
        baseDay: null,
        next: ['2026-11-21T12:00:00.000Z', '2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'],
      },
    },
    {
      name: 'closes the day that ended, continuing the running totals of the day before it',
      progress: stored('2026-11-21T23:00:00.000Z'),
      now: '2026-11-22T00:00:05.000Z',
      expected: {
        read: spanOf('2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z'),
        hourDays: spanOf('2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z'),
        days: spanOf('2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z'),
        baseDay: '2026-11-20T00:00:00.000Z',
        next: ['2026-11-22T00:00:00.000Z', '2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'],
      },
    },
    {
      name: 'reaches back to the hour of a pending transition stamped before the stored end',
      progress: stored('2026-11-21T10:00:00.000Z'),
      pending: '2026-11-20T22:10:00.000Z',
      now: '2026-11-21T10:05:00.000Z',
      expected: {
        read: spanOf('2026-11-20T00:00:00.000Z', '2026-11-21T10:00:00.000Z'),
        hourDays: spanOf('2026-11-20T00:00:00.000Z', '2026-11-22T00:00:00.000Z'),
        days: spanOf('2026-11-20T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
        baseDay: '2026-11-19T00:00:00.000Z',
        next: ['2026-11-21T10:00:00.000Z', '2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'],
      },
    },
    {
      name: 'starts the running totals over when the day before is not stored',
      progress: stored('2026-11-21T10:00:00.000Z'),
      pending: '2026-11-19T12:00:00.000Z',
      now: '2026-11-21T10:05:00.000Z',
      expected: {
        read: spanOf('2026-11-19T00:00:00.000Z', '2026-11-21T10:00:00.000Z'),
        hourDays: spanOf('2026-11-19T00:00:00.000Z', '2026-11-22T00:00:00.000Z'),
        days: spanOf('2026-11-19T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
        baseDay: null,
        next: ['2026-11-21T10:00:00.000Z', '2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'],
      },
    },
    {
      name: 'restarts a stored run at the retention horizon when that is above the first changed day',
      progress: stored('2026-11-20T05:00:00.000Z'),
      now: '2026-11-22T01:00:05.000Z',
      retention: { hourlyDays: 1, dailyDays: 2 },
      expected: {
        read: spanOf('2026-11-20T00:00:00.000Z', '2026-11-22T01:00:00.000Z'),
        hourDays: spanOf('2026-11-21T00:00:00.000Z', '2026-11-23T00:00:00.000Z'),
        days: spanOf('2026-11-20T00:00:00.000Z', '2026-11-22T00:00:00.000Z'),
        baseDay: '2026-11-19T00:00:00.000Z',
        next: ['2026-11-22T01:00:00.000Z', '2026-11-21T00:00:00.000Z', '2026-11-19T00:00:00.000Z'],
      },
    },
    {
      name: 'never moves the stored end back when the clock is behind it',
      progress: stored('2026-11-21T10:00:00.000Z'),
      now: '2026-11-21T08:30:00.000Z',
      expected: {
        read: spanOf('2026-11-21T10:00:00.000Z', '2026-11-21T10:00:00.000Z'),
        hourDays: spanOf('2026-11-21T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
        days: spanOf('2026-11-21T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
        baseDay: null,
        next: ['2026-11-21T10:00:00.000Z', '2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planRollup({
        createdAt: at(created),
        progress: c.progress,
        pendingFrom: c.pending === undefined ? null : at(c.pending),
        now: at(c.now),
        retention: c.retention ?? retention,
      });
      assert.deepEqual(plan, {
        read: c.expected.read,
        hourDays: c.expected.hourDays,
        days: c.expected.days,
        baseDay: c.expected.baseDay === null ? null : at(c.expected.baseDay),
        next: { closedUntil: at(c.expected.next[0]), hoursFrom: at(c.expected.next[1]), daysFrom: at(c.expected.next[2]) },
      });
    });
  }
});

describe('rollUp', () => {
  const createdAt = at('2026-11-19T09:30:00.000Z');
  const transitions = [
    move('unknown', 'healthy', '2026-11-19T10:00:00.000Z'),
    move('healthy', 'down', '2026-11-20T23:30:00.000Z'),
    move('down', 'healthy', '2026-11-21T00:30:00.000Z'),
  ];
  const plan = planRollup({
    createdAt,
    progress: null,
    pendingFrom: null,
    now: at('2026-11-21T10:15:00.000Z'),
    retention: { hourlyDays: 90, dailyDays: 1095 },
  });
  const intervals = intervalsFromLog({ createdAt, transitions, until: plan.next.closedUntil });

  it('writes whole days of hours, zero before creation and after the stored end', () => {
    const { hourRows } = rollUp(plan, intervals, null, null);
    assert.deepEqual(hourRows.map((r) => [new Date(r.day).toISOString(), r.hours.length]), [
      ['2026-11-19T00:00:00.000Z', 24],
      ['2026-11-20T00:00:00.000Z', 24],
      ['2026-11-21T00:00:00.000Z', 24],
    ]);
    const [first, second, third] = hourRows as [HourRow, HourRow, HourRow];
    assert.deepEqual(first.hours[8], emptyStateMs());
    assert.deepEqual(first.hours[9], stateMs({ unknown: 30 * MINUTE }));
    assert.deepEqual(first.hours[10], stateMs({ healthy: HOUR }));
    assert.deepEqual(second.hours[23], stateMs({ healthy: 30 * MINUTE, down: 30 * MINUTE }));
    assert.deepEqual(third.hours[0], stateMs({ down: 30 * MINUTE, healthy: 30 * MINUTE }));
    assert.deepEqual(third.hours[9], stateMs({ healthy: HOUR }));
    assert.deepEqual(third.hours[10], emptyStateMs());
    assert.deepEqual(combine(hourRows.flatMap((r) => r.hours)), msInWindow(intervals, createdAt, plan.next.closedUntil));
  });

  it('writes the closed days with running totals', () => {
    const { dayRows } = rollUp(plan, intervals, null, null);
    const nov19 = stateMs({ unknown: 30 * MINUTE, healthy: 14 * HOUR });
    const nov20 = stateMs({ healthy: 23.5 * HOUR, down: 30 * MINUTE });
    assert.deepEqual(dayRows, [
      { day: at('2026-11-19T00:00:00.000Z'), ms: nov19, running: nov19 },
      { day: at('2026-11-20T00:00:00.000Z'), ms: nov20, running: combine([nov19, nov20]) },
    ]);
  });

  it('continues the running totals of the base row', () => {
    const midnight = planRollup({
      createdAt,
      progress: progressOf({ stateVersion: 3, closedUntil: at('2026-11-20T23:00:00.000Z'), hoursFrom: at('2026-11-19T00:00:00.000Z'), daysFrom: at('2026-11-19T00:00:00.000Z') }),
      pendingFrom: at('2026-11-20T23:30:00.000Z'),
      now: at('2026-11-21T00:00:00.000Z'),
      retention: { hourlyDays: 90, dailyDays: 1095 },
    });
    const base: DayRow = { day: at('2026-11-19T00:00:00.000Z'), ms: stateMs({ healthy: 1 }), running: stateMs({ healthy: 1000, down: 7 }) };
    const { dayRows } = rollUp(midnight, intervals, base, null);
    assert.deepEqual(dayRows, [
      {
        day: at('2026-11-20T00:00:00.000Z'),
        ms: stateMs({ healthy: 23.5 * HOUR, down: 30 * MINUTE }),
        running: stateMs({ healthy: 1000 + 23.5 * HOUR, down: 7 + 30 * MINUTE }),
      },
    ]);
    assert.throws(() => rollUp(midnight, intervals, null, null), /base row/);
    assert.throws(() => rollUp(plan, intervals, base, null), /base row/);
  });
});

describe('the stored end a pass leaves in the progress row', () => {
  const createdAt = at('2026-11-19T09:30:00.000Z');
  const retention = { hourlyDays: 90, dailyDays: 1095 };
  const transitions = [move('unknown', 'healthy', '2026-11-19T10:00:00.000Z'), move('healthy', 'down', '2026-11-21T09:20:00.000Z')];
  const pass = (progress: Progress | null, now: string) => {
    const plan = planRollup({ createdAt, progress, pendingFrom: null, now: at(now), retention });
    const intervals = plan.read.start < plan.read.end ? intervalsFromLog({ createdAt, transitions, until: plan.next.closedUntil }) : [];
    const base = plan.baseDay === null ? null : { day: plan.baseDay, ms: emptyStateMs(), running: emptyStateMs() };
    return { plan, ...rollUp(plan, intervals, base, progress) };
  };

  it('holds the state before the end, the end day’s closed hours and the last running totals', () => {
    const { closing, dayRows } = pass(null, '2026-11-21T10:15:00.000Z');
    assert.deepEqual(closing, {
      closedState: 'down',
      today: stateMs({ healthy: 9 * HOUR + 20 * MINUTE, down: 40 * MINUTE }),
      daysRunning: dayRows.at(-1)!.running,
    });
    assert.deepEqual(closing.daysRunning, stateMs({ unknown: 30 * MINUTE, healthy: 14 * HOUR + 24 * HOUR }));
  });

  it('keeps what a pass that rewrites nothing does not change', () => {
    const first = pass(null, '2026-11-21T10:15:00.000Z');
    const progress: Progress = { stateVersion: 2, lastAt: transitions[1]!.at, ...first.plan.next, ...first.closing };
    assert.deepEqual(pass(progress, '2026-11-21T10:45:00.000Z').closing, first.closing);
  });

  it('starts a day with no closed hours at midnight', () => {
    const { closing } = pass(null, '2026-11-21T00:10:00.000Z');
    assert.deepEqual(closing.today, emptyStateMs());
    assert.equal(closing.closedState, 'healthy');
  });

  it('says nothing was monitored for a node not yet through its first hour', () => {
    assert.deepEqual(pass(null, '2026-11-19T09:45:00.000Z').closing, { closedState: 'unknown', today: emptyStateMs(), daysRunning: null });
  });
});

describe('fromProgress and runningBefore', () => {
  const progress: Progress = {
    stateVersion: 7,
    closedUntil: at('2026-11-21T10:00:00.000Z'),
    hoursFrom: at('2026-11-01T00:00:00.000Z'),
    daysFrom: at('2026-11-01T00:00:00.000Z'),
    lastAt: at('2026-11-21T08:15:00.000Z'),
    closedState: 'down',
    today: stateMs({ healthy: 8 * HOUR + 15 * MINUTE, down: HOUR + 45 * MINUTE }),
    daysRunning: stateMs({ healthy: 20 * DAY }),
  };
  const created = at('2026-11-01T00:00:00.000Z');
  const now = at('2026-11-21T10:40:00.000Z');
  const seg = (source: Segment['source'], start: string, end: string): Segment => ({ source, start: at(start), end: at(end) });

  const cases: Array<[string, Segment, Progress, number | null, StateMs | null]> = [
    ['answers the end day’s closed hours', seg('hour', '2026-11-21T00:00:00.000Z', '2026-11-21T10:00:00.000Z'), progress, null, progress.today],
    ['not part of them', seg('hour', '2026-11-21T03:00:00.000Z', '2026-11-21T10:00:00.000Z'), progress, null, null],
    ['answers the quiet time since the end', seg('log', '2026-11-21T10:00:00.000Z', '2026-11-21T10:40:00.000Z'), progress, null, stateMs({ down: 40 * MINUTE })],
    [
      'not when the last transition came after the end',
      seg('log', '2026-11-21T10:00:00.000Z', '2026-11-21T10:40:00.000Z'),
      { ...progress, lastAt: at('2026-11-21T10:05:00.000Z') },
      null,
      null,
    ],
    ['nothing while a transition is pending', seg('hour', '2026-11-21T00:00:00.000Z', '2026-11-21T10:00:00.000Z'), progress, at('2026-11-21T10:20:00.000Z'), null],
    ['no other log span', seg('log', '2026-11-20T10:20:00.000Z', '2026-11-20T11:00:00.000Z'), progress, null, null],
    ['no days', seg('day', '2026-11-10T00:00:00.000Z', '2026-11-21T00:00:00.000Z'), progress, null, null],
  ];
  for (const [name, segment, p, pending, expected] of cases) {
    it(`fromProgress ${name}`, () => assert.deepEqual(fromProgress(segment, p, pending, created, now), expected));
  }

  it('counts a node created after the end only from its creation', () => {
    const late = at('2026-11-21T10:30:00.000Z');
    assert.deepEqual(fromProgress(seg('log', '2026-11-21T10:00:00.000Z', '2026-11-21T10:40:00.000Z'), progress, null, late, now), stateMs({ down: 10 * MINUTE }));
  });

  it('gives the running totals before the end day only', () => {
    assert.deepEqual(runningBefore(at('2026-11-21T00:00:00.000Z'), progress, null), progress.daysRunning);
    assert.equal(runningBefore(at('2026-11-20T00:00:00.000Z'), progress, null), null);
    assert.equal(runningBefore(at('2026-11-21T00:00:00.000Z'), progress, at('2026-11-20T23:00:00.000Z')), null);
    assert.equal(runningBefore(at('2026-11-21T00:00:00.000Z'), { ...progress, daysRunning: null }, null), null);
  });

  it('subtracts running totals', () => {
    assert.deepEqual(subtractStateMs(stateMs({ healthy: 10, down: 3 }), stateMs({ healthy: 4 })), stateMs({ healthy: 6, down: 3 }));
  });
});

describe('planWindow', () => {
  const created = at('2026-11-10T09:30:00.000Z');
  const stored = {
    hours: { start: at('2026-11-18T00:00:00.000Z'), end: at('2026-11-21T10:00:00.000Z') },
    days: { start: at('2026-11-10T00:00:00.000Z'), end: at('2026-11-21T00:00:00.000Z') },
  };
  const seg = (source: Segment['source'], start: string, end: string): Segment => ({ source, start: at(start), end: at(end) });
  const cases: Array<{ name: string; from: string; to: string; stored?: typeof stored | null; useDays?: boolean; expected: Segment[] }> = [
    {
      name: 'reads stored days, stored hours beside them, and the partial hours from the log',
      from: '2026-11-15T10:20:00.000Z',
      to: '2026-11-21T10:40:00.000Z',
      expected: [
        seg('log', '2026-11-15T10:20:00.000Z', '2026-11-16T00:00:00.000Z'),
        seg('day', '2026-11-16T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
        seg('hour', '2026-11-21T00:00:00.000Z', '2026-11-21T10:00:00.000Z'),
        seg('log', '2026-11-21T10:00:00.000Z', '2026-11-21T10:40:00.000Z'),
      ],
    },
    {
      name: 'reads hours on both sides of a window with no whole day',
      from: '2026-11-19T10:20:00.000Z',
      to: '2026-11-20T05:40:00.000Z',
      expected: [
        seg('log', '2026-11-19T10:20:00.000Z', '2026-11-19T11:00:00.000Z'),
        seg('hour', '2026-11-19T11:00:00.000Z', '2026-11-20T05:00:00.000Z'),
        seg('log', '2026-11-20T05:00:00.000Z', '2026-11-20T05:40:00.000Z'),
      ],
    },
    {
      name: 'leaves day rows out when asked to',
      from: '2026-11-15T10:20:00.000Z',
      to: '2026-11-21T10:40:00.000Z',
      useDays: false,
      expected: [
        seg('log', '2026-11-15T10:20:00.000Z', '2026-11-18T00:00:00.000Z'),
        seg('hour', '2026-11-18T00:00:00.000Z', '2026-11-21T10:00:00.000Z'),
        seg('log', '2026-11-21T10:00:00.000Z', '2026-11-21T10:40:00.000Z'),
      ],
    },
    {
      name: 'starts a window reaching back past creation at the day of creation',
      from: '2026-11-09T00:00:00.000Z',
      to: '2026-11-12T06:00:00.000Z',
      expected: [seg('day', '2026-11-10T00:00:00.000Z', '2026-11-12T00:00:00.000Z'), seg('log', '2026-11-12T00:00:00.000Z', '2026-11-12T06:00:00.000Z')],
    },
    { name: 'reads nothing for a window before creation', from: '2026-11-01T00:00:00.000Z', to: '2026-11-10T09:30:00.000Z', expected: [] },
    {
      name: 'reads the log alone when nothing is stored',
      from: '2026-11-15T10:20:00.000Z',
      to: '2026-11-21T10:40:00.000Z',
      stored: null,
      expected: [seg('log', '2026-11-15T10:20:00.000Z', '2026-11-21T10:40:00.000Z')],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = c.stored === undefined ? stored : c.stored;
      assert.deepEqual(planWindow({ from: at(c.from), to: at(c.to) }, created, s, c.useDays ?? true), c.expected);
    });
  }

  it('covers the window without gaps or overlaps from the day of creation on', () => {
    const random = prng(7);
    for (let i = 0; i < 500; i++) {
      const from = created + randomInt(random, -3 * DAY, 12 * DAY);
      const window = { from, to: from + randomInt(random, 1, 6 * DAY) };
      const segments = planWindow(window, created, stored, random() < 0.5);
      if (window.to <= created) {
        assert.deepEqual(segments, []);
        continue;
      }
      assert.equal(segments[0]!.start, window.from > created ? window.from : bucketStart(created, 'day'));
      assert.equal(segments.at(-1)!.end, window.to);
      segments.forEach((s, k) => {
        assert.ok(s.start < s.end);
        if (k > 0) assert.equal(s.start, segments[k - 1]!.end);
        if (s.source !== 'log') assert.equal(bucketStart(s.start, s.source), s.start);
      });
    }
  });
});

describe('reading stored rows', () => {
  const day = at('2026-11-21T00:00:00.000Z');
  it('takes the whole hours of a row inside a span', () => {
    const row: HourRow = { day, hours: Array.from({ length: 24 }, (_, i) => stateMs({ healthy: i })) };
    assert.deepEqual(hoursOf(row, { start: day + 22 * HOUR, end: day + DAY + HOUR }), [
      { start: day + 22 * HOUR, ms: stateMs({ healthy: 22 }) },
      { start: day + 23 * HOUR, ms: stateMs({ healthy: 23 }) },
    ]);
    assert.deepEqual(hoursOf(row, { start: day + 30 * MINUTE, end: day + 2 * HOUR }), [{ start: day + HOUR, ms: stateMs({ healthy: 1 }) }]);
  });

  it('adds pieces into the window’s buckets and ignores those before it', () => {
    const window = { from: day + 10 * HOUR + 30 * MINUTE, to: day + 12 * HOUR };
    const pieces: Bucket[] = [
      { start: day + 9 * HOUR, ms: emptyStateMs() },
      { start: day + 10 * HOUR + 30 * MINUTE, ms: stateMs({ down: 30 * MINUTE }) },
      { start: day + 11 * HOUR, ms: stateMs({ healthy: HOUR }) },
    ];
    assert.deepEqual(breakdown(window, 'hour', pieces), [
      { start: day + 10 * HOUR, ms: stateMs({ down: 30 * MINUTE }) },
      { start: day + 11 * HOUR, ms: stateMs({ healthy: HOUR }) },
    ]);
    assert.deepEqual(breakdown(window, 'day', pieces), [{ start: day, ms: stateMs({ down: 30 * MINUTE, healthy: HOUR }) }]);
  });
});

// An in-memory model of the uptime tables, driven exactly as the database is: each pass plans,
// reads the log it is told to, rolls up and writes; retention deletes and moves the runs' starts;
// a query plans a window and reads rows and log. If the rules are right, every answer equals the
// log's own, whatever passes ran, whatever transitions are still pending and whatever retention
// removed.
describe('rollups kept pass by pass answer every window like the log itself', () => {
  interface Store {
    progress: Progress | null;
    hours: Map<number, HourRow>;
    days: Map<number, DayRow>;
  }
  type Committed = Transition & { commit: number };

  function readSpan(log: readonly Transition[], start: number, end: number) {
    const before = log.filter((t) => t.at < start);
    return { initialState: before.at(-1)?.to ?? null, transitions: log.filter((t) => t.at >= start && t.at < end) };
  }
  const pendingFrom = (store: Store, log: readonly Transition[]) => {
    const pending = log.slice(store.progress?.stateVersion ?? log.length).map((t) => t.at);
    return pending.length ? Math.min(...pending) : null;
  };
  function logIntervals(createdAt: number, log: readonly Transition[], span: Span, until: number) {
    return intervalsFromLog({ createdAt: Math.max(createdAt, span.start), ...readSpan(log, span.start, span.end), until });
  }

  function pass(store: Store, createdAt: number, log: readonly Transition[], now: number, retention: Retention) {
    const plan = planRollup({ createdAt, progress: store.progress, pendingFrom: store.progress ? pendingFrom(store, log) : null, now, retention });
    const intervals = plan.read.start < plan.read.end ? logIntervals(createdAt, log, plan.read, plan.next.closedUntil) : [];
    const base = plan.baseDay === null ? null : store.days.get(plan.baseDay);
    assert.ok(base !== undefined, 'the base day is stored');
    const { hourRows, dayRows, closing } = rollUp(plan, intervals, base, store.progress);
    for (const row of hourRows) store.hours.set(row.day, row);
    for (const row of dayRows) store.days.set(row.day, row);
    store.progress = { stateVersion: log.length, lastAt: log.at(-1)?.at ?? null, ...plan.next, ...closing };
  }

  function retain(store: Store, now: number, retention: Retention) {
    const horizon = retentionHorizons(now, retention);
    for (const day of store.hours.keys()) if (day < horizon.hours) store.hours.delete(day);
    for (const day of store.days.keys()) if (day < horizon.days) store.days.delete(day);
    if (store.progress) {
      store.progress.hoursFrom = Math.max(store.progress.hoursFrom, horizon.hours);
      store.progress.daysFrom = Math.max(store.progress.daysFrom, horizon.days);
    }
  }

  function segmentsFor(store: Store, createdAt: number, log: readonly Transition[], window: Window, useDays: boolean) {
    return planWindow(window, createdAt, storedSpans(store.progress, pendingFrom(store, log)), useDays);
  }

  // As report.ts reads them: the progress row where it answers, running totals for days.
  function query(store: Store, createdAt: number, log: readonly Transition[], window: Window, now: number): StateMs {
    const pending = pendingFrom(store, log);
    const progress = store.progress;
    return combine(
      segmentsFor(store, createdAt, log, window, true).flatMap((s) => {
        const known = progress && fromProgress(s, progress, pending, createdAt, now);
        if (known) return [known];
        if (s.source === 'day') {
          const first = store.days.get(s.start)!;
          const through = (progress && runningBefore(s.end, progress, pending)) ?? store.days.get(s.end - DAY)!.running;
          return [subtractStateMs(through, subtractStateMs(first.running, first.ms))];
        }
        if (s.source === 'hour') {
          const hours: StateMs[] = [];
          for (let t = s.start; t < s.end; t += HOUR) hours.push(store.hours.get(bucketStart(t, 'day'))!.hours[(t - bucketStart(t, 'day')) / HOUR]!);
          return hours;
        }
        return [msInWindow(logIntervals(createdAt, log, s, Math.min(now, s.end)), s.start, s.end)];
      }),
    );
  }

  function queryBuckets(store: Store, createdAt: number, log: readonly Transition[], window: Window, size: BucketSize, now: number): Bucket[] {
    const pieces = segmentsFor(store, createdAt, log, window, size === 'day').flatMap((s): Bucket[] => {
      if (s.source === 'day') {
        const rows: Bucket[] = [];
        for (let d = s.start; d < s.end; d += DAY) rows.push({ start: d, ms: store.days.get(d)!.ms });
        return rows;
      }
      if (s.source === 'hour') {
        const rows: Bucket[] = [];
        for (let d = bucketStart(s.start, 'day'); d < s.end; d += DAY) rows.push(...hoursOf(store.hours.get(d)!, s));
        assert.equal(rows.length, (s.end - s.start) / HOUR);
        return rows;
      }
      return splitIntoBuckets(logIntervals(createdAt, log, s, Math.min(now, s.end)), size, s.start, s.end);
    });
    return breakdown(window, size, pieces);
  }

  const runs = 150;
  it(`holds for ${runs} seeded histories with random passes, late transitions, rebuilds and retention`, () => {
    const retentions: Retention[] = [
      { hourlyDays: 90, dailyDays: 1095 },
      { hourlyDays: 1, dailyDays: 3 },
      { hourlyDays: 2, dailyDays: 2 },
    ];
    for (let seed = 1; seed <= runs; seed++) {
      const random = prng(seed);
      const createdAt = at('2026-10-01T00:00:00.000Z') + randomInt(random, 0, 40 * DAY);
      const retention = retentions[randomInt(random, 0, retentions.length - 1)]!;
      // Mostly committed within a second of their stamp; one in ten hours late (a coverage gap).
      let commit = createdAt;
      const history: Committed[] = monotonicLog(random, createdAt, randomInt(random, 0, 60), 5 * HOUR).map((t) => {
        commit = Math.max(commit, t.at + (random() < 0.1 ? randomInt(random, 0, 30 * HOUR) : randomInt(random, 0, 1000)));
        return { ...t, commit };
      });
      const store: Store = { progress: null, hours: new Map(), days: new Map() };
      let now = createdAt;
      for (let step = 0; step < 40; step++) {
        now += randomInt(random, MINUTE, 9 * HOUR);
        const log = history.filter((t) => t.commit <= now);
        const action = random();
        if (action < 0.1) {
          store.progress = null;
          store.hours.clear();
          store.days.clear();
          pass(store, createdAt, log, now, retention);
        } else if (action < 0.6) pass(store, createdAt, log, now, retention);
        else if (action < 0.7) retain(store, now, retention);

        const truth = intervalsFromLog({ createdAt, transitions: log, until: now });
        for (let k = 0; k < 3; k++) {
          const from = randomInt(random, createdAt - 2 * DAY, now - 1);
          const window = { from, to: randomInt(random, from + 1, now) };
          const context = `seed ${seed}, step ${step}, window ${new Date(window.from).toISOString()}..${new Date(window.to).toISOString()}`;
          assert.deepEqual(query(store, createdAt, log, window, now), msInWindow(truth, window.from, window.to), context);
          const size: BucketSize = random() < 0.5 ? 'hour' : 'day';
          if (window.to - window.from < 10 * DAY) {
            assert.deepEqual(queryBuckets(store, createdAt, log, window, size, now), splitIntoBuckets(truth, size, window.from, window.to), `${context} by ${size}`);
          }
        }
      }
    }
  });
});
