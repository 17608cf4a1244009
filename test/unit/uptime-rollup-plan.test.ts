import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intervalsFromLog, msInWindow } from '../../src/uptime/intervals.ts';
import { exactUntil, type DayRow, type HourRow, type Progress, type Span } from '../../src/uptime/model.ts';
import { retentionHorizons, type Retention } from '../../src/uptime/retention.ts';
import { planRollup, rollUp } from '../../src/uptime/rollup-plan.ts';
import { combine, emptyStateMs } from '../../src/uptime/state-time.ts';
import { MINUTE, HOUR, at, stateMs, move, progressOf } from '../helpers/uptime-history.ts';

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
  type Plan = { read: Span; hourDays: Span; days: Span; baseDay: string | null; next: [string, string, string] };
  // Everything from the day of creation up to the current hour (10:xx on the 21st), with no running
  // totals to continue: a new node's plan, and that of one whose pending change reaches back to its
  // first stored day, which has no day before it.
  const fromCreation: Plan = {
    read: spanOf('2026-11-19T00:00:00.000Z', '2026-11-21T10:00:00.000Z'),
    hourDays: spanOf('2026-11-19T00:00:00.000Z', '2026-11-22T00:00:00.000Z'),
    days: spanOf('2026-11-19T00:00:00.000Z', '2026-11-21T00:00:00.000Z'),
    baseDay: null,
    next: ['2026-11-21T10:00:00.000Z', '2026-11-19T00:00:00.000Z', '2026-11-19T00:00:00.000Z'],
  };
  const cases: Array<{
    name: string;
    progress: Progress | null;
    pending?: string;
    now: string;
    retention?: Retention;
    expected: Plan;
  }> = [
    {
      name: 'rolls a new node up from the hour it was created to the current hour',
      progress: null,
      now: '2026-11-21T10:15:00.000Z',
      expected: fromCreation,
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
      expected: fromCreation,
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
