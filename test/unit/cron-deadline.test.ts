import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronTime } from 'cron';
import { DateTime } from 'luxon';
import { firstRunDue, jobDeadline, jobPings, nextRunAfter, runDeadline, validateCronSchedule, type CronSchedule } from '../../src/health/cron-deadline.ts';
import { offsetAt } from '../../src/local-time.ts';

const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
const LONG_AGO = at('2020-01-01T00:00:00Z');

const daily3 = (time_zone: string): CronSchedule => ({ cron: '0 3 * * *', time_zone, grace_seconds: 300 });
/** A silent job's deadline, with no run open. */
const deadline = (lastSuccessAt: Date | null, watchingSince: Date, s: CronSchedule) => jobDeadline({ lastSuccessAt, lastEndAt: lastSuccessAt, runTimedFrom: null, watchingSince }, s).at;

describe('cron deadline: the next scheduled time strictly after a success', () => {
  const cases: Array<{ name: string; cron: string; zone: string; after: string; want: string }> = [
    // Berlin, 2026-03-29: clocks go from 02:00 CET to 03:00 CEST.
    { name: 'daily 03:00 Berlin, the morning clocks go forward: 03:00 CEST', cron: '0 3 * * *', zone: 'Europe/Berlin', after: '2026-03-28T02:00:20Z', want: '2026-03-29T01:00:00Z' },
    { name: 'daily 03:00 Berlin, the day after: 03:00 CEST again', cron: '0 3 * * *', zone: 'Europe/Berlin', after: '2026-03-29T01:00:20Z', want: '2026-03-30T01:00:00Z' },
    { name: 'daily 02:30 Berlin, a time that morning skips: due at the jump', cron: '30 2 * * *', zone: 'Europe/Berlin', after: '2026-03-28T01:30:10Z', want: '2026-03-29T01:00:00Z' },
    // Berlin, 2026-10-25: clocks go from 03:00 CEST back to 02:00 CET.
    // The cron package alone answers 01:00Z (02:00 CET), then 02:00Z: two runs, the first an hour early.
    { name: 'daily 03:00 Berlin, the morning clocks go back: 03:00 CET, once', cron: '0 3 * * *', zone: 'Europe/Berlin', after: '2026-10-24T01:00:20Z', want: '2026-10-25T02:00:00Z' },
    { name: 'daily 03:00 Berlin, the day after', cron: '0 3 * * *', zone: 'Europe/Berlin', after: '2026-10-25T02:00:20Z', want: '2026-10-26T02:00:00Z' },
    { name: 'daily 02:30 Berlin, a time that morning shows twice: the first showing', cron: '30 2 * * *', zone: 'Europe/Berlin', after: '2026-10-24T00:30:10Z', want: '2026-10-25T00:30:00Z' },
    { name: 'daily 02:30 Berlin, after the first showing: not the second, the next day', cron: '30 2 * * *', zone: 'Europe/Berlin', after: '2026-10-25T00:30:10Z', want: '2026-10-26T01:30:00Z' },
    { name: 'every 15 minutes through the repeated hour: once, then 03:00 CET', cron: '*/15 * * * *', zone: 'Europe/Berlin', after: '2026-10-25T00:45:10Z', want: '2026-10-25T02:00:00Z' },
    { name: 'every 15 minutes before the jump forward: at the jump', cron: '*/15 * * * *', zone: 'Europe/Berlin', after: '2026-03-29T00:50:00Z', want: '2026-03-29T01:00:00Z' },
    // New York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
    { name: 'daily 02:15 New York, skipped on 03-08: at the jump, 03:00 EDT', cron: '15 2 * * *', zone: 'America/New_York', after: '2026-03-07T07:15:30Z', want: '2026-03-08T07:00:00Z' },
    { name: 'daily 02:15 New York, the day after: 02:15 EDT', cron: '15 2 * * *', zone: 'America/New_York', after: '2026-03-08T07:00:30Z', want: '2026-03-09T06:15:00Z' },
    { name: 'daily 01:30 New York, repeated on 11-01: the first, EDT', cron: '30 1 * * *', zone: 'America/New_York', after: '2026-10-31T05:30:30Z', want: '2026-11-01T05:30:00Z' },
    { name: 'daily 01:30 New York, asked from the second 01:00: the next day', cron: '30 1 * * *', zone: 'America/New_York', after: '2026-11-01T06:00:00Z', want: '2026-11-02T06:30:00Z' },
    { name: 'daily 02:00 New York on 11-01: 02:00 EST, not 01:00 EST', cron: '0 2 * * *', zone: 'America/New_York', after: '2026-11-01T05:00:10Z', want: '2026-11-01T07:00:00Z' },
    // Every 15 minutes, in UTC.
    { name: '*/15 from 10:07', cron: '*/15 * * * *', zone: 'UTC', after: '2026-05-04T10:07:00Z', want: '2026-05-04T10:15:00Z' },
    { name: '*/15 from 10:14:59.999', cron: '*/15 * * * *', zone: 'UTC', after: '2026-05-04T10:14:59.999Z', want: '2026-05-04T10:15:00Z' },
    { name: '*/15 from exactly 10:15 is strictly after: 10:30', cron: '*/15 * * * *', zone: 'UTC', after: '2026-05-04T10:15:00.000Z', want: '2026-05-04T10:30:00Z' },
    // No L in cron: the last days of each month by range.
    { name: '28–31: the 30th follows the 29th in April', cron: '0 0 28-31 * *', zone: 'UTC', after: '2026-04-29T00:00:05Z', want: '2026-04-30T00:00:00Z' },
    { name: '28–31: April has no 31st, so 28 May', cron: '0 0 28-31 * *', zone: 'UTC', after: '2026-04-30T00:00:05Z', want: '2026-05-28T00:00:00Z' },
    { name: '28–31: February 2026 ends on the 28th', cron: '0 0 28-31 * *', zone: 'UTC', after: '2026-01-31T00:00:05Z', want: '2026-02-28T00:00:00Z' },
    { name: '29 February, four years on', cron: '0 12 29 2 *', zone: 'Europe/Berlin', after: '2024-02-29T11:00:05Z', want: '2028-02-29T11:00:00Z' },
    // Six fields, seconds first.
    { name: 'six fields: second 30 of every tenth minute, asked just before', cron: '30 */10 * * * *', zone: 'UTC', after: '2026-05-04T10:00:29.999Z', want: '2026-05-04T10:00:30Z' },
    { name: 'six fields: asked just after', cron: '30 */10 * * * *', zone: 'UTC', after: '2026-05-04T10:00:30.001Z', want: '2026-05-04T10:10:30Z' },
    { name: 'weekdays by name', cron: '0 9 * * mon-fri', zone: 'Asia/Tokyo', after: '2026-05-08T00:00:30Z', want: '2026-05-11T00:00:00Z' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(iso(nextRunAfter({ cron: c.cron, time_zone: c.zone }, at(c.after))), c.want));
  }
});

describe("cron deadline: a new job's first due run, a margin after its creation", () => {
  // The margin is the longest gap among the next three scheduled times, at most an hour.
  const cases: Array<{ name: string; cron: string; zone?: string; since: string; want: string }> = [
    { name: '*/2 created 20:11:55: 20:12 is 5 s away, 20:14 is due', cron: '*/2 * * * *', since: '2026-12-06T20:11:55Z', want: '2026-12-06T20:14:00Z' },
    { name: '*/2 created 20:12:00 exactly: 20:14, two minutes on, is due', cron: '*/2 * * * *', since: '2026-12-06T20:12:00Z', want: '2026-12-06T20:14:00Z' },
    { name: 'hourly created 10:59:30: 12:00, not 11:00', cron: '0 * * * *', since: '2026-12-06T10:59:30Z', want: '2026-12-06T12:00:00Z' },
    { name: 'daily 09:00 created 10:00: tomorrow 09:00, not the day after', cron: '0 9 * * *', since: '2026-12-06T10:00:00Z', want: '2026-12-07T09:00:00Z' },
    { name: 'daily 09:00 created 08:30: tomorrow 09:00', cron: '0 9 * * *', since: '2026-12-06T08:30:00Z', want: '2026-12-07T09:00:00Z' },
    { name: 'daily 09:00 created 08:00: today 09:00, an hour on', cron: '0 9 * * *', since: '2026-12-06T08:00:00Z', want: '2026-12-06T09:00:00Z' },
    { name: 'weekly created after its time: next week, not the week after', cron: '0 9 * * mon', since: '2026-12-07T10:00:00Z', want: '2026-12-14T09:00:00Z' },
    { name: '0,1 3 created 02:59:59: its longest gap (a day) makes the margin an hour: next day 03:00', cron: '0,1 3 * * *', since: '2026-12-06T02:59:59Z', want: '2026-12-07T03:00:00Z' },
    { name: 'six fields, every 10 s, created 20:00:05: 20:00:20, two gaps on', cron: '*/10 * * * * *', since: '2026-12-06T20:00:05Z', want: '2026-12-06T20:00:20Z' },
    // Its third run (2036) lies past the cron package's 8-year search, which threw here.
    { name: '29 February created 2026-12-06: 2028-02-29', cron: '0 0 29 2 *', since: '2026-12-06T00:00:00Z', want: '2028-02-29T00:00:00Z' },
    { name: '29 February created 2027-03-01: 2028-02-29', cron: '0 0 29 2 *', since: '2027-03-01T00:00:00Z', want: '2028-02-29T00:00:00Z' },
    // Berlin, 2026-03-29: clocks go from 02:00 CET to 03:00 CEST; 02:30 is due at the jump.
    { name: 'daily 02:30 Berlin created 03:45 CET the day before the jump: due at the jump, 03:00 CEST', cron: '30 2 * * *', zone: 'Europe/Berlin', since: '2026-03-28T02:45:00Z', want: '2026-03-29T01:00:00Z' },
    { name: '*/30 Berlin created 01:45 CET on the night of the jump: the jump is 15 min on, 03:30 CEST is due', cron: '*/30 * * * *', zone: 'Europe/Berlin', since: '2026-03-29T00:45:00Z', want: '2026-03-29T01:30:00Z' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(iso(firstRunDue({ cron: c.cron, time_zone: c.zone ?? 'UTC' }, at(c.since))), c.want));
  }
});

describe('cron deadline: due by the next run plus grace', () => {
  const s = { cron: '0 3 * * *', time_zone: 'UTC', grace_seconds: 300 };
  const cases: Array<{ name: string; last: string | null; since?: string; want: string }> = [
    { name: 'a ping just before 03:00 does not count for the 03:00 run', last: '2026-05-04T02:59:59Z', want: '2026-05-04T03:05:00Z' },
    { name: 'a ping at 03:00 exactly counts for it', last: '2026-05-04T03:00:00Z', want: '2026-05-05T03:05:00Z' },
    { name: 'a ping just after 03:00 counts for it', last: '2026-05-04T03:00:01Z', want: '2026-05-05T03:05:00Z' },
    { name: 'before the first ping, the first run an hour or more after the node was created', last: null, since: '2026-05-04T10:00:00Z', want: '2026-05-05T03:05:00Z' },
    { name: 'before the first ping, a run exactly an hour after creation is due', last: null, since: '2026-05-04T02:00:00Z', want: '2026-05-04T03:05:00Z' },
    { name: 'a ping before a coverage gap does not start the clock: coverage does', last: '2026-05-04T03:00:30Z', since: '2026-05-05T04:00:00Z', want: '2026-05-06T03:05:00Z' },
    { name: 'coverage older than the ping changes nothing', last: '2026-05-04T03:00:30Z', since: '2026-05-01T00:00:00Z', want: '2026-05-05T03:05:00Z' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const since = c.since ? at(c.since) : LONG_AGO;
      assert.equal(iso(deadline(c.last === null ? null : at(c.last), since, s)), c.want);
    });
  }

  it('daily 03:00 in Berlin is due at 03:05 local on both DST mornings', () => {
    assert.equal(iso(deadline(at('2026-03-28T02:00:20Z'), LONG_AGO, daily3('Europe/Berlin'))), '2026-03-29T01:05:00Z');
    assert.equal(iso(deadline(at('2026-10-24T01:00:20Z'), LONG_AGO, daily3('Europe/Berlin'))), '2026-10-25T02:05:00Z');
  });

  it('gives a job created seconds before a run a margin: */2 made at 20:11:55 is first due at 20:14, not 20:12', () => {
    const every2 = { cron: '*/2 * * * *', time_zone: 'UTC', grace_seconds: 30 };
    const created = { lastSuccessAt: null, lastEndAt: null, runTimedFrom: null, watchingSince: at('2026-12-06T20:11:55Z') };
    const first = jobDeadline(created, every2);
    assert.equal(iso(first.at), '2026-12-06T20:14:30Z');
    assert.equal(first.reason(), 'no success ping for the run due at 2026-12-06 20:14:00 UTC (grace 30s); no run has ended since it was created');
    // Once it has pinged, the next run is due as usual, however soon.
    assert.equal(iso(jobDeadline({ ...created, lastSuccessAt: at('2026-12-06T20:13:59Z'), lastEndAt: at('2026-12-06T20:13:59Z') }, every2).at), '2026-12-06T20:14:30Z');
  });

  it('a run with no end is due to end max_run_seconds after it started', () => {
    assert.equal(iso(runDeadline(at('2026-05-04T03:00:00Z'), 3600)), '2026-05-04T04:00:00Z');
  });
});

describe('cron deadline: when a silent job is down, and why', () => {
  const s: CronSchedule = { ...daily3('UTC'), max_run_seconds: 3600 };
  const pings = (over: { lastSuccessAt?: Date | null; runStartedAt?: Date; scheduleSince?: Date; watchingFrom?: Date } = {}) =>
    jobPings(over.lastSuccessAt === undefined ? at('2026-05-04T03:00:30Z') : over.lastSuccessAt, over.runStartedAt ?? null, over.scheduleSince, over.watchingFrom ?? LONG_AGO);
  // Whether a job is down by now (and stamped at the deadline even when noticed late) is decide.ts's
  // question, answered in decide-jobs.test.ts; here, each deadline and its reason.
  const cases: Array<{ name: string; p: ReturnType<typeof pings>; sched?: CronSchedule; at: string; reason: string }> = [
    { name: 'silent: due at the next run plus grace', p: pings(), at: '2026-05-05T03:05:00Z', reason: 'no success ping for the run due at 2026-05-05 03:00:00 UTC (grace 300s); last run ended 2026-05-04 03:00:30 UTC (24h4m30s before the deadline)' },
    {
      name: 'a job that started is running, not late: due when it runs too long',
      p: pings({ runStartedAt: at('2026-05-05T03:00:10Z') }),
      at: '2026-05-05T04:00:10Z',
      reason: 'ran longer than 1h',
    },
    {
      name: 'without max_run_seconds a start changes nothing: still running at 03:05 is late, and the reason says a run is going',
      p: pings({ runStartedAt: at('2026-05-05T03:00:10Z') }),
      sched: daily3('UTC'),
      at: '2026-05-05T03:05:00Z',
      reason: 'no success ping for the run due at 2026-05-05 03:00:00 UTC (grace 300s); a run started 2026-05-05 03:00:10 UTC (4m50s before the deadline) is still going',
    },
    {
      name: 'the run still going is named on the schedule’s clock too',
      p: pings({ lastSuccessAt: at('2026-05-03T01:00:30Z'), runStartedAt: at('2026-05-04T01:00:05Z') }),
      sched: daily3('Europe/Berlin'),
      at: '2026-05-04T01:05:00Z',
      reason:
        'no success ping for the run due at 2026-05-04 01:00:00 UTC (03:00 in Europe/Berlin; grace 300s); a run started 2026-05-04 01:00:05 UTC (03:00:05 in Europe/Berlin; 4m55s before the deadline) is still going',
    },
    {
      name: 'a run that started early and runs too long: down at start + max_run_seconds',
      p: pings({ runStartedAt: at('2026-05-04T20:00:00Z') }),
      at: '2026-05-04T21:00:00Z',
      reason: 'ran longer than 1h',
    },
    { name: 'a start followed by a success is a finished run', p: pings({ runStartedAt: at('2026-05-04T03:00:00Z') }), at: '2026-05-05T03:05:00Z', reason: 'no success ping for the run due at 2026-05-05 03:00:00 UTC (grace 300s); last run ended 2026-05-04 03:00:30 UTC (24h4m30s before the deadline)' },
    {
      name: 'a run is timed from when ingest could hear its end',
      p: pings({ runStartedAt: at('2026-05-04T20:00:00Z'), watchingFrom: at('2026-05-04T20:30:00Z') }),
      sched: { ...s, max_run_seconds: 5400 },
      at: '2026-05-04T22:00:00Z',
      reason: 'ran longer than 1h30m',
    },
    {
      name: 'a run that ended before a schedule edit is over: the edit gives a new job margin, not a run limit',
      p: pings({ runStartedAt: at('2026-05-04T03:00:00Z'), scheduleSince: at('2026-05-04T10:00:00Z') }),
      at: '2026-05-05T03:05:00Z',
      reason: 'no success ping for the run due at 2026-05-05 03:00:00 UTC (grace 300s); last run ended 2026-05-04 03:00:30 UTC (24h4m30s before the deadline)',
    },
    {
      name: 'a run open across a schedule edit is timed from its start, not from the edit',
      p: pings({ runStartedAt: at('2026-05-04T09:30:00Z'), scheduleSince: at('2026-05-04T10:00:00Z') }),
      at: '2026-05-04T10:30:00Z',
      reason: 'ran longer than 1h',
    },
    {
      name: 'the reason says the limit in hours, minutes and seconds',
      p: pings({ runStartedAt: at('2026-05-04T20:00:00Z') }),
      sched: { ...s, max_run_seconds: 5430 },
      at: '2026-05-04T21:30:30Z',
      reason: 'ran longer than 1h30m30s',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = jobDeadline(c.p, c.sched ?? s);
      assert.equal(iso(got.at), c.at);
      assert.equal(got.reason(), c.reason);
    });
  }

  it('names the due time in UTC and on the schedule’s clock', () => {
    const got = jobDeadline(pings({ lastSuccessAt: at('2026-10-24T01:00:20Z') }), daily3('Europe/Berlin'));
    assert.equal(got.reason(), 'no success ping for the run due at 2026-10-25 02:00:00 UTC (03:00 in Europe/Berlin; grace 300s); last run ended 2026-10-24 01:00:20 UTC (03:00:20 in Europe/Berlin; 25h4m40s before the deadline)');
  });
  const reasonOf = (cron: string, time_zone: string, lastSuccessAt: string) =>
    jobDeadline(pings({ lastSuccessAt: at(lastSuccessAt) }), { cron, time_zone, grace_seconds: 30 }).reason();
  it('names the local date when it is not the UTC one', () => {
    assert.equal(reasonOf('0 22 * * *', 'America/New_York', '2026-12-06T12:00:00Z'), 'no success ping for the run due at 2026-12-07 03:00:00 UTC (2026-12-06 22:00 in America/New_York; grace 30s); last run ended 2026-12-06 12:00:00 UTC (07:00:00 in America/New_York; 15h30s before the deadline)');
  });
  it('keeps the seconds on the local clock when the expression has a seconds field', () => {
    assert.equal(reasonOf('30 0 3 * * *', 'Europe/Berlin', '2026-12-06T12:00:00Z'), 'no success ping for the run due at 2026-12-07 02:00:30 UTC (03:00:30 in Europe/Berlin; grace 30s); last run ended 2026-12-06 12:00:00 UTC (13:00:00 in Europe/Berlin; 14h1m before the deadline)');
  });
  it('does not repeat a zone that is UTC by another name', () => {
    for (const zone of ['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT0', 'Etc/Zulu', 'Universal', 'utc', 'etc/utc', 'ZULU']) {
      assert.equal(reasonOf('0 3 * * *', zone, '2026-12-06T12:00:00Z'), 'no success ping for the run due at 2026-12-07 03:00:00 UTC (grace 30s); last run ended 2026-12-06 12:00:00 UTC (15h30s before the deadline)', zone);
    }
  });
});

describe('cron deadline: through DST nights, answer by answer', () => {
  const EXPRESSIONS = ['0 3 * * *', '30 2 * * *', '0 2 * * *', '30 1 * * *', '*/15 * * * *', '0 * * * *', '*/30 * * * * *', '59 1 * * *', '0 0 * * *'];
  // Two hours before each change; each night is checked for four hours. Lord Howe goes back by
  // half an hour, Havana changes at midnight.
  const NIGHTS: Array<[string, string]> = [
    ['Europe/Berlin', '2026-03-28T23:00:00Z'],
    ['Europe/Berlin', '2026-10-24T23:00:00Z'],
    ['America/New_York', '2026-03-08T05:00:00Z'],
    ['America/New_York', '2026-11-01T04:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T13:00:00Z'],
    ['America/Havana', '2026-11-01T03:00:00Z'],
  ];
  const SPAN = 4 * 3_600_000;
  const fields = (cron: string) =>
    new CronTime(cron, 'UTC')
      .toJSON()
      .slice(0, 3)
      .map((f) => (f === '*' ? null : new Set(f.split(',').map(Number))));

  for (const [zone, start] of NIGHTS) {
    it(`every answer is later than asked, at a time the expression names or at a jump, each local time once (${zone}, ${start.slice(0, 10)})`, () => {
      for (const cron of EXPRESSIONS) {
        const [second, minute, hour] = fields(cron);
        const t0 = at(start).getTime();
        let last = -Infinity;
        for (let t = t0; t < t0 + SPAN; t += 307_000) {
          const next = nextRunAfter({ cron, time_zone: zone }, new Date(t)).getTime();
          const what = `${cron} in ${zone} after ${new Date(t).toISOString()}: ${new Date(next).toISOString()}`;
          assert.ok(next > t, what);
          const local = DateTime.fromMillis(next, { zone });
          const named = (!second || second.has(local.second)) && (!minute || minute.has(local.minute)) && (!hour || hour.has(local.hour));
          const atJump = offsetAt(zone, next - 1) < offsetAt(zone, next);
          assert.ok(named || atJump, what);
          assert.ok(next >= last, `answers never go backwards: ${what}`);
          last = next;
        }
        // Chained from run to run, no local time comes twice.
        const seen = new Set<string>();
        for (let d = nextRunAfter({ cron, time_zone: zone }, new Date(t0)); d.getTime() < t0 + SPAN; d = nextRunAfter({ cron, time_zone: zone }, d)) {
          const local = DateTime.fromJSDate(d, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
          assert.ok(!seen.has(local), `${cron} in ${zone}: ${local} twice`);
          seen.add(local);
        }
      }
    });
  }

  it('agrees with the cron package itself away from the hours clocks go back (2026, every 77 hours 13 minutes)', () => {
    for (const zone of ['Europe/Berlin', 'America/New_York']) {
      for (const cron of ['0 3 * * *', '30 2 * * *', '*/15 * * * *', '0 0 28-31 * *', '30 */10 * * * *']) {
        const time = new CronTime(cron, zone);
        for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += (77 * 60 + 13) * 60_000) {
          const ours = nextRunAfter({ cron, time_zone: zone }, new Date(t)).getTime();
          const theirs = time.getNextDateFrom(new Date(t), zone).toMillis();
          // Within two hours after a fall-back change the package is known to differ (see the module).
          const nearFallBack = (x: number) => [0, 3_600_000, 7_200_000].some((d) => offsetAt(zone, x - d - 3_600_000) > offsetAt(zone, x - d));
          if (nearFallBack(ours) || nearFallBack(theirs)) continue;
          assert.equal(ours, theirs, `${cron} in ${zone} after ${new Date(t).toISOString()}`);
        }
      }
    }
  });
});

describe('cron deadline: validating a schedule', () => {
  const now = at('2026-05-04T10:00:00Z');
  const cases: Array<{ name: string; cron: string; zone?: string; want: Array<[string, RegExp]> }> = [
    { name: 'accepts five fields', cron: '0 3 * * *', want: [] },
    { name: 'accepts six fields, seconds first', cron: '30 0 3 * * *', want: [] },
    { name: 'accepts names and presets', cron: '@daily', want: [] },
    { name: 'accepts 29 February', cron: '0 0 29 2 *', want: [] },
    { name: 'refuses words', cron: 'every day at three', want: [['schedule.cron', /^'every day at three' is not a cron expression: use five fields \(or six, seconds first\) like \*\/5 \* \* \* \* or @hourly$/]] },
    { name: 'refuses too few fields', cron: '0 3 *', want: [['schedule.cron', /^'0 3 \*' is not a cron expression: use five fields/]] },
    { name: 'refuses too many fields', cron: '0 0 3 * * * *', want: [['schedule.cron', /is not a cron expression: use five fields/]] },
    { name: 'refuses a minute out of range, with five fields\' ranges', cron: '61 * * * *', want: [['schedule.cron', /^'61 \* \* \* \*' is not a cron expression: a field is out of range or unreadable \(minute 0–59, hour 0–23, day 1–31, month 1–12, weekday 0–7, steps from 1\); use five fields \(or six, seconds first\)/]] },
    { name: 'refuses a weekday out of range, with six fields\' ranges', cron: '0 0 3 * * 9', want: [['schedule.cron', /^'0 0 3 \* \* 9' is not a cron expression: a field is out of range or unreadable \(second 0–59, minute 0–59, hour 0–23, day 1–31, month 1–12, weekday 0–7, steps from 1\); use five fields \(or six, seconds first\) like/]] },
    { name: 'refuses a step of zero', cron: '*/0 * * * *', want: [['schedule.cron', /out of range or unreadable .*steps from 1/]] },
    { name: 'refuses an unknown preset without the parser\'s words', cron: '@hourli', want: [['schedule.cron', /^'@hourli' is not a cron expression: use five fields \(or six, seconds first\) like \*\/5 \* \* \* \* or @hourly$/]] },
    { name: 'refuses a date that never comes', cron: '0 0 30 2 *', want: [['schedule.cron', /never matches/]] },
    { name: 'refuses an empty expression', cron: '  ', want: [['schedule.cron', /1 to 256 characters/]] },
    { name: 'refuses an endless expression', cron: `0 ${'1,'.repeat(200)}2 * * *`, want: [['schedule.cron', /1 to 256 characters/]] },
    { name: 'refuses an unknown zone', cron: '0 3 * * *', zone: 'Europe/Atlantis', want: [['schedule.time_zone', /IANA/]] },
    {
      name: 'names both fields when both are wrong',
      cron: '0 25 * * *',
      zone: 'Berlin',
      want: [
        ['schedule.time_zone', /IANA/],
        ['schedule.cron', /out of range/],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = validateCronSchedule({ cron: c.cron, time_zone: c.zone ?? 'Europe/Berlin' }, now);
      assert.deepEqual(
        got.map((e) => e.field),
        c.want.map(([field]) => field),
      );
      got.forEach((e, i) => assert.match(e.message, c.want[i]![1]));
    });
  }
});
