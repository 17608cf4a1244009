import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketStart, type Bucket } from '../../src/uptime/buckets.ts';
import type { Progress } from '../../src/uptime/model.ts';
import { emptyStateMs, subtractStateMs, type StateMs } from '../../src/uptime/state-time.ts';
import { breakdown, fromProgress, piecesFromProgress, planWindow, runningBefore, type Segment } from '../../src/uptime/window-plan.ts';
import { MINUTE, HOUR, DAY, at, stateMs, prng, randomInt } from '../helpers/uptime-history.ts';

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

  it('gives the same answers bucket by bucket, the quiet time split at the bucket size', () => {
    const quiet = { ...progress, closedUntil: at('2026-11-19T22:00:00.000Z'), lastAt: at('2026-11-19T08:00:00.000Z') };
    const tail = seg('log', '2026-11-19T22:00:00.000Z', '2026-11-21T10:40:00.000Z');
    assert.deepEqual(piecesFromProgress(tail, quiet, null, created, now, 'day'), [
      { start: at('2026-11-19T00:00:00.000Z'), ms: stateMs({ down: 2 * HOUR }) },
      { start: at('2026-11-20T00:00:00.000Z'), ms: stateMs({ down: DAY }) },
      { start: at('2026-11-21T00:00:00.000Z'), ms: stateMs({ down: 10 * HOUR + 40 * MINUTE }) },
    ]);
    assert.equal(piecesFromProgress(tail, quiet, null, created, now, 'hour')!.length, 37);
    const hours = seg('hour', '2026-11-21T00:00:00.000Z', '2026-11-21T10:00:00.000Z');
    assert.deepEqual(piecesFromProgress(hours, progress, null, created, now, 'day'), [{ start: hours.start, ms: progress.today }]);
    assert.equal(piecesFromProgress(hours, progress, null, created, now, 'hour'), null, 'the row keeps those hours summed');
    assert.equal(piecesFromProgress(hours, progress, at('2026-11-21T10:20:00.000Z'), created, now, 'day'), null);
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
