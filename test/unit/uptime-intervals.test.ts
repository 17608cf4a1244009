import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intervalsFromLog, msInWindow, type Transition } from '../../src/uptime/intervals.ts';
import type { NodeState, StateMs } from '../../src/uptime/state-time.ts';
import { summarize } from '../../src/uptime/summary.ts';
import { MINUTE, HOUR, DAY, at, stateMs, move, prng, randomInt, monotonicLog, intervalsOfCase, type CaseLog } from '../helpers/uptime-history.ts';

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
  const cases: Array<CaseLog & {
    name: string;
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
      const ms = msInWindow(intervalsOfCase(c), at(c.from), at(c.to));
      assert.deepEqual(ms, c.expected);
      assert.equal(summarize(ms).uptime_ratio, c.ratio);
    });
  }
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
