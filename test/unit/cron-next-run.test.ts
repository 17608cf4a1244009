import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronTime } from 'cron';
import { CronError } from 'cron/dist/errors.js';
import { nextRunAfter } from '../../src/health/cron-deadline.ts';
import { fromLocal, localHighWater, offsetAt } from '../../src/local-time.ts';
import { prng, randomInt } from '../helpers/uptime-history.ts';

// nextRunAfter answers from spans of earlier searches (cron-deadline.ts). Every answer here is
// checked against a fresh search by the cron package, made the same way but remembering nothing:
// the highest local time the clock has shown, the package's next time after it (in UTC, clock
// arithmetic), and the first instant the clock shows that.

// A parsed expression keeps no state between searches, so the oracle parses each once, and its
// answer for an instant is the same every time it is asked: each is searched once (instants are
// asked twice, in two orders, of the code under test).
const parsed = new Map<string, CronTime>();
const answers = new Map<string, number | CronError>();

/** The package's answer, or the CronError it gives up with. */
function fresh(cron: string, zone: string, t: number): number | CronError {
  const key = `${cron}\t${zone}\t${t}`;
  let answer = answers.get(key);
  if (answer === undefined) answers.set(key, (answer = search(cron, zone, t)));
  return answer;
}

function search(cron: string, zone: string, t: number): number | CronError {
  let time = parsed.get(cron);
  if (time === undefined) parsed.set(cron, (time = new CronTime(cron, 'UTC')));
  try {
    const local = time.getNextDateFrom(new Date(localHighWater(zone, t)), 'UTC').toMillis();
    return fromLocal(zone, local);
  } catch (err) {
    if (err instanceof CronError) return err;
    throw err;
  }
}

function ours(cron: string, zone: string, t: number): number | CronError {
  try {
    return nextRunAfter({ cron, time_zone: zone }, new Date(t)).getTime();
  } catch (err) {
    if (err instanceof CronError) return err;
    throw err;
  }
}

const said = (x: number | CronError) => (x instanceof CronError ? 'CronError' : new Date(x).toISOString());

function agree(cron: string, zone: string, t: number): number | CronError {
  const want = fresh(cron, zone, t);
  assert.equal(said(ours(cron, zone, t)), said(want), `${cron} in ${zone} after ${new Date(t).toISOString()}`);
  return want;
}

// The nights clocks change in 2026 and 2027 (Lord Howe by half an hour), as instants; UTC is asked
// around Berlin's.
const BERLIN = ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2027-03-28T01:00:00Z', '2027-10-31T01:00:00Z'];
const CHANGES: Record<string, number[]> = Object.fromEntries(
  Object.entries({
    'Europe/Berlin': BERLIN,
    'America/New_York': ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', '2027-03-14T07:00:00Z', '2027-11-07T06:00:00Z'],
    'Australia/Lord_Howe': ['2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z', '2027-04-03T15:00:00Z', '2027-10-02T15:30:00Z'],
    UTC: BERLIN,
  }).map(([zone, changes]) => [zone, changes.map(Date.parse)]),
);

const FIXED = [
  '0 3 * * *', '30 2 * * *', '0 2 * * *', '30 1 * * *', '*/15 * * * *', '0 * * * *', '*/30 * * * * *', '15,45 1-3 * * *',
  '0 0 29 2 *', '0 12 29 2 *', '0 0 28-31 * *', '0 9 13 * 5', '0 0 1,15 * mon', '0 9 * * mon-fri', '@daily', '@hourly', '30 */10 * * * *',
];

/** A valid expression: each field a wildcard, a value, a range, a step or a list; days of the month up to 28, so every one matches. */
function expression(next: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
  const int = (lo: number, hi: number) => randomInt(next, lo, hi);
  const field = (lo: number, hi: number): string => {
    const a = int(lo, hi);
    const b = int(a, hi);
    return pick([
      () => '*',
      () => '*',
      () => String(a),
      () => `${a}-${b}`,
      () => `*/${int(2, Math.max(2, Math.ceil((hi - lo) / 2)))}`,
      () => `${a}-${b}/${int(2, 5)}`,
      () => [...new Set([a, b, int(lo, hi)])].sort((x, y) => x - y).join(','),
    ])();
  };
  // Seconds as a wildcard would make a search step through every second: a value, list or step.
  const seconds = next() < 0.4 ? `${pick(['0', '30', '*/20', '5,50', '10-15'])} ` : '';
  return `${seconds}${field(0, 59)} ${field(0, 23)} ${field(1, 28)} ${field(1, 12)} ${field(0, 6)}`;
}

const ZONES = Object.keys(CHANGES);

describe('next run: the same answer as a fresh search by the cron package', () => {
  // A fixed seed, so a failure can be run again.
  const next = prng(20261206);
  const expressions = [...FIXED, ...Array.from({ length: 10 }, () => expression(next))];

  // Where an answer can go wrong is at the ends of a span and across a change of offset, not in
  // its middle: each expression is asked from an instant near each night the clocks change and two
  // anywhere in the two years, and from each answer N at N − 1 ms, N and N + 1 ms (the last instant
  // a span covers, the first it does not). 24 instants, asked twice: 2 × 24 × 27 × 4 zones, about
  // 5,200 answers, where a sweep of every span took three minutes of CPU on a loaded machine.
  for (const zone of ZONES) {
    it(`generated and fixed expressions in ${zone}, asked in mixed order, again and again`, () => {
      for (const cron of expressions) {
        const starts = CHANGES[zone]!.map((change) => change + Math.floor((next() - 0.5) * 7200) * 1000);
        for (let i = 0; i < 2; i++) starts.push(Date.UTC(2026, 0, 1) + Math.floor(next() * 2 * 365 * 86_400) * 1000);
        const times = [...starts];
        for (const t of starts) {
          const run = fresh(cron, zone, t);
          if (typeof run === 'number') times.push(run - 1, run, run + 1);
        }
        // Shuffled, then asked again in another order: first mostly searches, then mostly spans.
        for (let round = 0; round < 2; round++) {
          for (let i = times.length - 1; i > 0; i--) {
            const j = Math.floor(next() * (i + 1));
            [times[i], times[j]] = [times[j]!, times[i]!];
          }
          for (const t of times) agree(cron, zone, t);
        }
      }
    });
  }

  it('walks from run to run through a night clocks change, and back from each run', () => {
    for (const zone of ZONES) {
      for (const cron of ['*/15 * * * *', '30 2 * * *', '30 */5 * * * *']) {
        for (const change of CHANGES[zone]!) {
          const runs: number[] = [];
          for (let t = change - 3_600_000; t < change + 3_600_000; ) {
            const run = agree(cron, zone, t);
            assert.ok(typeof run === 'number');
            runs.push(run);
            t = run;
          }
          for (const run of runs) for (const t of [run - 1, run - 1000, run - 60_000]) agree(cron, zone, t);
        }
      }
    }
  });

  it('gives up past the package’s 8 years as the package does, and does not remember that', () => {
    // 29 February, run to run from today: a run more than 8 years after today is beyond the search.
    for (const zone of ZONES) {
      let t = Date.now();
      for (let i = 0; i < 4; i++) {
        const run = agree('0 0 29 2 *', zone, t);
        if (run instanceof CronError) {
          agree('0 0 29 2 *', zone, t);
          break;
        }
        t = run;
      }
      assert.ok(ours('0 0 29 2 *', zone, t) instanceof CronError, zone);
    }
  });

  it('answers from a span only inside it', () => {
    const cron = '0 3 * * *';
    const zone = 'Europe/Berlin';
    // 03:00 on the morning clocks go back is 02:00Z; the run before it, 01:00Z the day before.
    const cases: Array<[string, string]> = [
      ['2026-10-24T01:00:20Z', '2026-10-25T02:00:00.000Z'],
      ['2026-10-25T01:59:59.999Z', '2026-10-25T02:00:00.000Z'],
      ['2026-10-25T02:00:00Z', '2026-10-26T02:00:00.000Z'],
      ['2026-10-24T01:00:00Z', '2026-10-25T02:00:00.000Z'],
      ['2026-10-24T00:59:59.999Z', '2026-10-24T01:00:00.000Z'],
      ['2026-10-25T00:30:00Z', '2026-10-25T02:00:00.000Z'],
      ['2026-10-26T01:59:59Z', '2026-10-26T02:00:00.000Z'],
      ['2026-10-23T12:00:00Z', '2026-10-24T01:00:00.000Z'],
      ['2026-10-25T02:00:00.001Z', '2026-10-26T02:00:00.000Z'],
    ];
    for (const [after, want] of cases) assert.equal(said(ours(cron, zone, Date.parse(after))), want, after);
    for (const [after, want] of cases) assert.equal(said(ours(cron, zone, Date.parse(after))), want, `${after}, again`);
    // The first answer was a real change of offset in between: CEST before, CET at the run.
    assert.ok(offsetAt(zone, Date.parse('2026-10-24T01:00:20Z')) > offsetAt(zone, Date.parse('2026-10-25T02:00:00Z')));
  });
});
