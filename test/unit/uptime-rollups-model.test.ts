import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketStart, splitIntoBuckets, type Bucket, type BucketSize } from '../../src/uptime/buckets.ts';
import { intervalsFromLog, msInWindow, type Transition } from '../../src/uptime/intervals.ts';
import type { DayRow, HourRow, Progress, Span } from '../../src/uptime/model.ts';
import { retentionHorizons, type Retention } from '../../src/uptime/retention.ts';
import { planRollup, rollUp } from '../../src/uptime/rollup-plan.ts';
import { combine, subtractStateMs, type StateMs } from '../../src/uptime/state-time.ts';
import { breakdown, fromProgress, piecesFromProgress, planWindow, runningBefore, storedSpans } from '../../src/uptime/window-plan.ts';
import type { Window } from '../../src/uptime/windows.ts';
import { MINUTE, HOUR, DAY, at, prng, randomInt, monotonicLog } from '../helpers/uptime-history.ts';

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
    const pending = pendingFrom(store, log);
    const pieces = segmentsFor(store, createdAt, log, window, size === 'day').flatMap((s): Bucket[] => {
      const known = store.progress && piecesFromProgress(s, store.progress, pending, createdAt, now, size);
      if (known) return known;
      if (s.source === 'day') {
        const rows: Bucket[] = [];
        for (let d = s.start; d < s.end; d += DAY) rows.push({ start: d, ms: store.days.get(d)!.ms });
        return rows;
      }
      if (s.source === 'hour') {
        const rows: Bucket[] = [];
        for (let t = s.start; t < s.end; t += HOUR) rows.push({ start: t, ms: store.hours.get(bucketStart(t, 'day'))!.hours[(t - bucketStart(t, 'day')) / HOUR]! });
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
