import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type Policy, type Snapshot } from '../../src/health/decide.ts';

// decide() for scheduled jobs: the same rules as heartbeat nodes, with the deadline from the
// schedule (cron-deadline.ts has the tables of the schedule arithmetic itself).

const T0 = new Date('2026-05-04T03:00:00.000Z');
const at = (sec: number) => new Date(T0.getTime() + sec * 1000);

const base = { heartbeatIntervalSeconds: 30, graceSeconds: 0, failuresForDown: 3, successesForRecovery: 1 };
const daily: Policy = { ...base, schedule: { cron: '0 3 * * *', time_zone: 'UTC', grace_seconds: 300 } };
const limited: Policy = { ...base, schedule: { cron: '0 3 * * *', time_zone: 'UTC', grace_seconds: 300, max_run_seconds: 3600 } };
const hourly: Policy = { ...base, schedule: { cron: '0 * * * *', time_zone: 'UTC', grace_seconds: 60 } };
const every2: Policy = { ...base, schedule: { cron: '*/2 * * * *', time_zone: 'UTC', grace_seconds: 30 } };
const everyTenSeconds: Policy = { ...base, schedule: { cron: '*/10 * * * * *', time_zone: 'UTC', grace_seconds: 2 } };

/** A healthy job whose last success came at `last` (seconds from T0), ingest flushed up to `seenAt`. */
function snap(last: number | null, over: Partial<Snapshot> = {}, seenAt = at(30 * 86_400)): Snapshot {
  return {
    state: last === null ? 'unknown' : 'healthy',
    since: at(-86_400 * 2),
    receivedAtEntry: 0,
    lastHeartbeatAt: last === null ? null : at(last),
    lastStatus: last === null ? null : 'ok',
    checks: null,
    okStreak: last === null ? 0 : 1,
    received: last === null ? 0 : 1,
    maintenanceFrom: null,
    coverage: { since: at(-86_400 * 30), blindFrom: null, seenAt },
    scheduleSince: at(-86_400 * 30),
    ...over,
  };
}

const brief = (s: Snapshot, p: Policy, nowSec: number) => {
  const d = decide(s, p, at(nowSec));
  return {
    transitions: d.transitions.map((t) => `${t.from}->${t.to}@${(t.at.getTime() - T0.getTime()) / 1000} ${t.reason}`),
    next: d.nextCheckAt === null ? null : (d.nextCheckAt.getTime() - T0.getTime()) / 1000,
  };
};

describe('decide for a scheduled job', () => {
  const DAY = 86_400;
  const cases: Array<{ name: string; p: Policy; s: Snapshot; now: number; want: { transitions: string[]; next: number | null } }> = [
    {
      name: 'a success just after 03:00 counts for that run: next due tomorrow 03:05',
      p: daily, s: snap(1), now: 2,
      want: { transitions: [], next: DAY + 300 },
    },
    {
      name: 'a success just before 03:00 does not: due today 03:05',
      p: daily, s: snap(-1), now: 2,
      want: { transitions: [], next: 300 },
    },
    {
      name: 'still healthy one ms before the deadline',
      p: daily, s: snap(-1), now: 299.999,
      want: { transitions: [], next: 300 },
    },
    {
      name: 'down exactly at the scheduled time plus grace, stamped there',
      p: daily, s: snap(-1), now: 300,
      want: { transitions: ['healthy->down@300 no success ping for the run due at 2026-05-04 03:00:00 UTC (grace 300s); last run ended 2026-05-04 02:59:59 UTC (5m1s before the deadline)'], next: null },
    },
    {
      name: 'noticed late, still stamped at the deadline',
      p: daily, s: snap(-1), now: 5000,
      want: { transitions: ['healthy->down@300 no success ping for the run due at 2026-05-04 03:00:00 UTC (grace 300s); last run ended 2026-05-04 02:59:59 UTC (5m1s before the deadline)'], next: null },
    },
    {
      name: 'a passed deadline waits for the ingest watermark',
      p: daily, s: snap(-1, {}, at(299)), now: 300.05,
      want: { transitions: [], next: 300.15 },
    },
    {
      name: 'six fields: every ten seconds with 2 s grace, down at :10 + 2',
      p: everyTenSeconds, s: snap(0.5), now: 12,
      want: { transitions: ['healthy->down@12 no success ping for the run due at 2026-05-04 03:00:10 UTC (grace 2s); last run ended 2026-05-04 03:00:00 UTC (11s before the deadline)'], next: null },
    },
    {
      name: 'never pinged, created half an hour before 03:00: that run comes inside its hour of margin, the next day\'s is due',
      p: daily, s: snap(null, { scheduleSince: at(-1800) }), now: 300,
      want: { transitions: [], next: 86_400 + 300 },
    },
    {
      name: 'never pinged, created an hour before 03:00: that run is due',
      p: daily, s: snap(null, { scheduleSince: at(-3600) }), now: 299,
      want: { transitions: [], next: 300 },
    },
    {
      name: 'never pinged and past that run: down',
      p: daily, s: snap(null, { scheduleSince: at(-3600) }), now: 300,
      want: { transitions: ['unknown->down@300 no success ping for the run due at 2026-05-04 03:00:00 UTC (grace 300s); no run has ended since it was created'], next: null },
    },
    {
      name: 'a success before the expression was edited counts for nothing: an hourly expression set at 10:59:30 is first due at 12:00, not 11:00',
      p: hourly, s: snap(30, { scheduleSince: at(7 * 3600 + 3570) }), now: 7 * 3600 + 3571,
      want: { transitions: [], next: 9 * 3600 + 60 },
    },
    {
      name: 'a run in progress is judged by max_run_seconds, not the schedule',
      p: limited, s: snap(-DAY + 60, { runStartedAt: at(0) }), now: 600,
      want: { transitions: [], next: 3600 },
    },
    {
      name: 'a run past max_run_seconds: down at start + max',
      p: limited, s: snap(-DAY + 60, { runStartedAt: at(0) }), now: 3600,
      want: { transitions: ['healthy->down@3600 ran longer than 1h'], next: null },
    },
    {
      name: 'without max_run_seconds a start changes nothing but the reason, which says the run is going',
      p: daily, s: snap(-DAY + 60, { runStartedAt: at(0) }), now: 600,
      want: { transitions: ['healthy->down@300 no success ping for the run due at 2026-05-04 03:00:00 UTC (grace 300s); a run started 2026-05-04 03:00:00 UTC (5m before the deadline) is still going'], next: null },
    },
    {
      name: 'a run that started after its time and is still going at the deadline: the reason says so, not when the last run ended',
      p: every2, s: snap(-30, { runStartedAt: at(16) }), now: 31,
      want: { transitions: ['healthy->down@30 no success ping for the run due at 2026-05-04 03:00:00 UTC (grace 30s); a run started 2026-05-04 03:00:16 UTC (14s before the deadline) is still going'], next: null },
    },
    {
      name: 'a run that started just after the deadline, judged after it: still going, after the deadline',
      p: every2, s: snap(-30, { runStartedAt: at(35) }), now: 36,
      want: { transitions: ['healthy->down@30 no success ping for the run due at 2026-05-04 03:00:00 UTC (grace 30s); a run started 2026-05-04 03:00:35 UTC (5s after the deadline) is still going'], next: null },
    },
    {
      name: 'a failure ping is down at once, a reported failure where its run is gone',
      p: daily, s: snap(10, { lastStatus: 'failing', okStreak: 0, received: 2 }), now: 11,
      want: { transitions: ['healthy->down@10 reported failure'], next: DAY + 300 },
    },
    {
      name: 'an exit code says so, with the last line of the output',
      p: daily, s: snap(10, { lastStatus: 'failing', okStreak: 0, received: 2, failedRun: { exitCode: 3, tail: 'disk full' } }), now: 11,
      want: { transitions: ['healthy->down@10 exited with status 3: disk full'], next: DAY + 300 },
    },
    {
      name: 'a /fail without output is a reported failure',
      p: daily, s: snap(10, { lastStatus: 'failing', okStreak: 0, received: 2, failedRun: { exitCode: null, tail: null } }), now: 11,
      want: { transitions: ['healthy->down@10 reported failure'], next: DAY + 300 },
    },
    {
      name: 'a long last line is one line of 80 characters',
      p: daily, s: snap(10, { lastStatus: 'failing', okStreak: 0, received: 2, failedRun: { exitCode: 1, tail: `\terror:\r ${'x'.repeat(100)}` } }), now: 11,
      want: { transitions: [`healthy->down@10 exited with status 1: error: ${'x'.repeat(72)}…`], next: DAY + 300 },
    },
    {
      name: 'terminal sequences and format characters are no part of the line, nor a line of their own',
      p: daily, s: snap(10, { lastStatus: 'failing', okStreak: 0, received: 2, failedRun: { exitCode: 2, tail: '\x1b]0;backup\x07\x1b[1;31mdisk\u202E full\x1b[0m\n\x1b[0m\n \x1b[?25h\n' } }), now: 11,
      want: { transitions: ['healthy->down@10 exited with status 2: disk full'], next: DAY + 300 },
    },
    {
      name: 'a cut through a surrogate pair leaves neither half',
      p: daily, s: snap(10, { lastStatus: 'failing', okStreak: 0, received: 2, failedRun: { exitCode: 1, tail: `${'x'.repeat(78)}\u{1F525}${'y'.repeat(10)}` } }), now: 11,
      want: { transitions: [`healthy->down@10 exited with status 1: ${'x'.repeat(78)}…`], next: DAY + 300 },
    },
    {
      name: 'a success after down recovers it at the ping',
      p: daily, s: snap(20, { state: 'down', since: at(10), receivedAtEntry: 2, received: 3, okStreak: 1 }), now: 21,
      want: { transitions: ['down->healthy@20 1 consecutive success ping'], next: DAY + 300 },
    },
    {
      // A window 01:00-04:00 over the 03:00 run, which did not happen: excused, judged from 04:00.
      name: 'a run missed inside a window that has ended is excused: the next run is due',
      p: daily, s: snap(-DAY + 60, { state: 'maintenance', since: at(-7200), maintenanceEndedAt: at(3600) }), now: 3601,
      want: { transitions: ['maintenance->unknown@3600 maintenance ended; waiting for success pings'], next: DAY + 300 },
    },
    {
      // The same job still silent at the next run: down then, and the reason says for how long it
      // has been silent, not just the one run it was not excused.
      name: 'a job silent through a window says how long it has been silent when it goes down',
      p: daily, s: snap(-DAY + 60, { state: 'unknown', since: at(3600), receivedAtEntry: 1 }), now: DAY + 300,
      want: { transitions: ['unknown->down@86700 no success ping for the run due at 2026-05-05 03:00:00 UTC (grace 300s); last run ended 2026-05-03 03:01:00 UTC (48h4m before the deadline)'], next: null },
    },
    {
      name: 'after maintenance it waits for success pings',
      p: daily, s: snap(20, { state: 'maintenance', since: at(5), receivedAtEntry: 3, received: 3, okStreak: 1 }), now: 21,
      want: { transitions: ['maintenance->unknown@21 maintenance ended; waiting for success pings'], next: DAY + 300 },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(brief(c.s, c.p, c.now), c.want));

  it('daily 03:00 Europe/Berlin is due at 03:05 local across both DST changes', () => {
    const berlin: Policy = { ...base, schedule: { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 300 } };
    // 2026-03-29 (02:00 CET → 03:00 CEST): 03:05 CEST is 01:05Z. 2026-10-25 (03:00 CEST → 02:00 CET): 03:05 CET is 02:05Z.
    for (const [last, want] of [['2026-03-28T02:00:20Z', '2026-03-29T01:05:00.000Z'], ['2026-10-24T01:00:20Z', '2026-10-25T02:05:00.000Z']] as const) {
      const s = snap(null, { state: 'healthy', since: new Date('2026-01-01T00:00:00Z'), lastHeartbeatAt: new Date(last), lastStatus: 'ok', okStreak: 1, received: 1, scheduleSince: new Date('2026-01-01T00:00:00Z'), coverage: { since: new Date('2026-01-01T00:00:00Z'), blindFrom: null, seenAt: new Date(want) } });
      const d = decide(s, berlin, new Date(want));
      assert.equal(d.transitions[0]?.at.toISOString(), want);
      assert.equal(decide(s, berlin, new Date(new Date(want).getTime() - 1)).nextCheckAt?.toISOString(), want);
    }
  });

  it('the engine not watching before a gap keeps a job from being late for runs it could not hear', () => {
    // Success yesterday 03:00:30; ingest dark from 02:00 to 04:00 today: the 03:00 run is judged from 04:00.
    // Ingest zeroes ok streaks when it finds a gap (resetAfterGap).
    const s = snap(-DAY + 30, { okStreak: 0, coverage: { since: at(3600), blindFrom: at(-3600), seenAt: at(3601) }, since: at(-DAY) });
    const d = brief(s, daily, 3601);
    assert.deepEqual(d.transitions, ['healthy->unknown@-3600 engine could not observe pings']);
    assert.equal(d.next, DAY + 300);
  });

  // Ingest dark from 02:59:00 to 03:01:30; the flush that ended the gap stored the 03:00 run's one
  // ping, received at 03:00:20, and zeroed ok streaks after it.
  const gap = { since: at(90), blindFrom: at(-60), seenAt: at(91) };
  const failedRun = { exitCode: null, tail: '' };
  const darkCases: Array<{ name: string; over: Partial<Snapshot>; want: string[] }> = [
    {
      name: 'its one failure ping heard in the dark is judged when coverage resumed: down, not unknown for a day',
      over: { lastHeartbeatAt: at(20), lastStatus: 'failing', failedRun, okStreak: 0, received: 2 },
      want: ['healthy->unknown@-60 engine could not observe pings', 'unknown->down@90 reported failure'],
    },
    {
      name: 'its one success ping heard in the dark counts: healthy when coverage resumed',
      over: { lastHeartbeatAt: at(20), okStreak: 0, received: 2 },
      want: ['healthy->unknown@-60 engine could not observe pings', 'unknown->healthy@90 1 consecutive success ping'],
    },
    {
      name: 'a failure and its retry success both heard in the dark: down from the one to the other, at their own times',
      over: { lastHeartbeatAt: at(20), okStreak: 0, received: 3, hiddenFailure: { at: at(10), status: 'failing', checks: null, failedRun } },
      want: ['healthy->unknown@-60 engine could not observe pings', 'unknown->down@10 reported failure', 'down->healthy@20 1 consecutive success ping'],
    },
  ];
  it('a job healthy from a success heard in the dark is unknown from it once it reports after coverage resumed', () => {
    // Healthy since its 03:00:20 success, judged after the gap; a failure at 03:01:35, after coverage
    // resumed. The snapshot no longer tells that state from one a window's end in the dark began.
    const s = snap(95, { state: 'healthy', since: at(20), lastStatus: 'failing', failedRun, okStreak: 0, received: 4, coverage: gap });
    assert.deepEqual(brief(s, daily, 96).transitions, ['healthy->unknown@20 engine could not observe pings', 'unknown->down@95 reported failure']);
  });

  it('a healthy state a window ending in the dark began is unknown from the gap, whatever was heard after', () => {
    // Ingest dark from 10 s to 100 s; the window ended at 20 s and a pass that did not yet know of
    // the gap wrote healthy then. A beat heard in the dark (40 s) or after it (105 s) is stored.
    const dark = { since: at(100), blindFrom: at(10), seenAt: at(106) };
    for (const beat of [40, 105]) {
      const s = snap(beat, { since: at(20), okStreak: beat > 100 ? 1 : 0, received: 3, receivedAtEntry: 2, coverage: dark });
      // Stamped at the state's start, 20 s: the log never goes back before the state it leaves.
      assert.deepEqual(brief(s, base, 106).transitions[0], 'healthy->unknown@20 engine could not observe heartbeats', `heartbeat node, beat at ${beat}`);
      assert.deepEqual(brief(s, hourly, 106).transitions[0], 'healthy->unknown@20 engine could not observe pings', `job, ping at ${beat}`);
    }
  });
  for (const c of darkCases) {
    it(c.name, () => {
      const s = snap(-DAY + 30, { ...c.over, since: at(-DAY), coverage: gap });
      const d = brief(s, daily, 91);
      assert.deepEqual(d.transitions, c.want);
      // Written back and judged again: nothing more, and never back to unknown at the same instant.
      const last = decide(s, daily, at(91)).transitions.at(-1)!;
      assert.deepEqual(brief({ ...s, state: last.to, since: last.at }, daily, 92).transitions, []);
    });
  }
});

describe('decide for a scheduled job across a gap in which it can have sent nothing', () => {
  // An hourly job (grace 60 s) whose 03:00 run succeeded at 03:00:10; ingest dark from 03:40:00 to
  // 03:40:40 (an engine stopped and started again). Ingest zeroes ok streaks when it finds a gap.
  const quiet = { since: at(2440), blindFrom: at(2400), seenAt: at(2441) };
  const heartbeatPolicy: Policy = { ...base };
  const cases: Array<{ name: string; p: Policy; s: Snapshot; now: number; want: { transitions: string[]; next: number | null } }> = [
    {
      name: 'no run due and none under way: it stays healthy, due at 04:01 as before the gap',
      p: hourly, s: snap(10, { okStreak: 0, coverage: quiet }), now: 2441,
      want: { transitions: [], next: 3660 },
    },
    {
      name: 'its 04:00 run pinged after the gap: its last ping before the gap is no longer known, so unknown in it',
      p: hourly, s: snap(3610, { okStreak: 1, received: 2, coverage: quiet }), now: 3611,
      want: { transitions: ['healthy->unknown@2400 engine could not observe pings', 'unknown->healthy@3610 1 consecutive success ping'], next: 7260 },
    },
    {
      name: 'a job down for its failed run stays down: no run could have reported since',
      p: hourly, s: snap(10, { state: 'down', since: at(10), lastStatus: 'failing', failedRun: { exitCode: 3, tail: null }, okStreak: 0, coverage: quiet }), now: 2441,
      want: { transitions: [], next: 3660 },
    },
    {
      name: 'a run due in the gap could have ended in it: unknown from when it went dark',
      p: hourly, s: snap(10, { okStreak: 0, coverage: { since: at(3660), blindFrom: at(3570), seenAt: at(3661) } }), now: 3661,
      want: { transitions: ['healthy->unknown@3570 engine could not observe pings'], next: 7260 },
    },
    {
      name: 'the 03:00 run not yet ended when it went dark could have ended in it: unknown',
      p: hourly, s: snap(-3590, { okStreak: 0, coverage: { since: at(50), blindFrom: at(5), seenAt: at(51) } }), now: 51,
      want: { transitions: ['healthy->unknown@5 engine could not observe pings'], next: 3660 },
    },
    {
      name: 'a run under way when it went dark could have ended in it: unknown',
      p: hourly, s: snap(10, { okStreak: 0, runStartedAt: at(2000), coverage: quiet }), now: 2441,
      want: { transitions: ['healthy->unknown@2400 engine could not observe pings'], next: 3660 },
    },
    {
      name: 'a heartbeat node reports at any moment: unknown, whatever its interval',
      p: { ...heartbeatPolicy, heartbeatIntervalSeconds: 3600 }, s: snap(10, { okStreak: 0, coverage: quiet }), now: 2441,
      want: { transitions: ['healthy->unknown@2400 engine could not observe heartbeats'], next: 2440 + 3 * 3600 },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(brief(c.s, c.p, c.now), c.want));

  it('the 03:00 run that may have failed in the gap is unknown whichever pass comes first', () => {
    // Success 02:00:10; dark 03:00:05 to 03:00:50, while the 03:00 run could have ended with /fail.
    const gap = { since: at(50), blindFrom: at(5), seenAt: at(51) };
    assert.deepEqual(brief(snap(-3590, { okStreak: 0, coverage: gap }), hourly, 51).transitions, ['healthy->unknown@5 engine could not observe pings']);
    // The same gap judged only after the 04:00 success was stored.
    const after = snap(3610, { okStreak: 1, received: 2, coverage: { ...gap, seenAt: at(3611) } });
    assert.deepEqual(brief(after, hourly, 3611).transitions, ['healthy->unknown@5 engine could not observe pings', 'unknown->healthy@3610 1 consecutive success ping']);
  });

  it('a gap across clocks going back is unknown: cron runs a wildcard-hour job again in the repeated hour', () => {
    // New York, 2026-11-01: 02:00 EDT (06:00Z) becomes 01:00 EST; cronie runs */15 at 01:15 EST (06:15Z) too.
    const ny: Policy = { ...base, schedule: { cron: '*/15 * * * *', time_zone: 'America/New_York', grace_seconds: 60 } };
    const z = (iso: string) => new Date(`2026-11-01T${iso}Z`);
    const s = snap(null, {
      state: 'healthy', since: z('00:00:00'), lastHeartbeatAt: z('05:46:00'), lastStatus: 'ok', received: 1,
      coverage: { since: z('06:20:00'), blindFrom: z('06:10:00'), seenAt: z('06:20:01') },
    });
    const d = decide(s, ny, z('06:20:01'));
    assert.deepEqual(d.transitions.map((t) => `${t.from}->${t.to}@${t.at.toISOString()}`), ['healthy->unknown@2026-11-01T06:10:00.000Z']);
  });
});

describe('decide for a scheduled job already down: its reason follows the latest evidence', () => {
  // */2 with grace 60, created an hour before T0, never pinged: down for its first missed run.
  const every2g60: Policy = { ...base, schedule: { cron: '*/2 * * * *', time_zone: 'UTC', grace_seconds: 60 } };
  const NEVER = 'no success ping for the run due at 2026-05-04 02:00:00 UTC (grace 60s); no run has ended since it was created';
  const RSYNC = 'rsync: write failed on "/backup/db.tar": No space left on device (28)';
  const down = (over: Partial<Snapshot> = {}) =>
    snap(null, { state: 'down', since: at(-3540), reason: NEVER, scheduleSince: at(-7200), ...over });
  /** A failure ping at `sec`, its run's exit code 3 and output ending in `line`. */
  const failed = (sec: number, line = RSYNC, received = 1): Partial<Snapshot> => ({
    lastHeartbeatAt: at(sec), lastStatus: 'failing', okStreak: 0, received, failedRun: { exitCode: 3, tail: `sending incremental file list\n${line}\n` },
  });
  const judged = (s: Snapshot, p: Policy, nowSec: number) => {
    const d = decide(s, p, at(nowSec));
    const r = d.reasonChange;
    return { ...brief(s, p, nowSec), reasonChange: r ? `${r.state}@${(r.at.getTime() - T0.getTime()) / 1000} ${r.reason}` : null };
  };

  it('a failed run of a job down for its missed first run: the reason becomes the failure, with no transition', () => {
    assert.deepEqual(judged(down(failed(100)), every2g60, 101), {
      transitions: [],
      next: 180,
      reasonChange: `down@100 exited with status 3: ${RSYNC}`,
    });
  });

  it('the next failed run saying the same: nothing changes', () => {
    const s = down({ ...failed(220, RSYNC, 2), reason: `exited with status 3: ${RSYNC}` });
    assert.deepEqual(judged(s, every2g60, 221), { transitions: [], next: 300, reasonChange: null });
  });

  it('a failed run saying something else: the reason follows it', () => {
    const s = down({ ...failed(220, 'rsync error: timeout in data send/receive (code 30)', 2), reason: `exited with status 3: ${RSYNC}` });
    assert.deepEqual(judged(s, every2g60, 221).reasonChange, 'down@220 exited with status 3: rsync error: timeout in data send/receive (code 30)');
  });

  it('a job down for a failure that then misses a run: the reason says the run it missed', () => {
    const s = down({ ...failed(100), since: at(100), reason: `exited with status 3: ${RSYNC}` });
    assert.deepEqual(judged(s, every2g60, 181), {
      transitions: [],
      next: null,
      reasonChange: 'down@180 no success ping for the run due at 2026-05-04 03:02:00 UTC (grace 60s); last run ended 2026-05-04 03:01:40 UTC (1m20s before the deadline)',
    });
  });

  it('a failure that takes a healthy job down, then another in the same flush: the transition keeps the first, the node the latest', () => {
    const s = snap(-3600, {
      ...failed(100, 'rsync error: timeout in data send/receive (code 30)', 3),
      hiddenFailure: { at: at(40), status: 'failing', checks: null, failedRun: { exitCode: 3, tail: RSYNC } },
    });
    assert.deepEqual(judged(s, every2g60, 101), {
      transitions: [`healthy->down@40 exited with status 3: ${RSYNC}`],
      next: 180,
      reasonChange: 'down@100 exited with status 3: rsync error: timeout in data send/receive (code 30)',
    });
  });

  it('a failure ping whose run is no longer kept does not replace what its run said', () => {
    const s = down({ lastHeartbeatAt: at(100), lastStatus: 'failing', okStreak: 0, received: 1, failedRun: null, since: at(100), reason: `exited with status 3: ${RSYNC}` });
    assert.deepEqual(judged(s, every2g60, 101).reasonChange, null);
  });

  it('a job whose runs outlive their grace and then fail the same way: one reason change in four runs, not two a run', () => {
    // Each run starts on time (03:02, 03:04, …), is still going at the deadline (due + 60 s), and
    // fails 90 s after it started. The store keeps each change as the next judgement's reason.
    let s = down();
    const changes: string[] = [];
    const judge = (over: Partial<Snapshot>, nowSec: number) => {
      s = { ...s, ...over };
      const d = decide(s, every2g60, at(nowSec));
      assert.deepEqual(d.transitions, []);
      if (d.reasonChange) {
        changes.push(d.reasonChange.reason);
        s = { ...s, reason: d.reasonChange.reason };
      }
    };
    for (let run = 1; run <= 4; run++) {
      const start = 120 * run;
      judge({ runStartedAt: at(start) }, start + 61);
      judge({ ...failed(start + 90, RSYNC, run), runStartedAt: null }, start + 91);
    }
    assert.deepEqual(changes, [
      'no success ping for the run due at 2026-05-04 01:02:00 UTC (grace 60s); a run started 2026-05-04 03:02:00 UTC (1h59m after the deadline) is still going',
      `exited with status 3: ${RSYNC}`,
    ]);
  });

  it('a job down for a failure whose next run is still going at its deadline: the failure stays the reason', () => {
    const s = down({ ...failed(100), since: at(100), runStartedAt: at(240), reason: `exited with status 3: ${RSYNC}` });
    assert.deepEqual(judged(s, every2g60, 301).reasonChange, null);
  });

  it('without the stored reason nothing is compared: no change is made up', () => {
    assert.deepEqual(judged(down({ ...failed(100), reason: null }), every2g60, 101).reasonChange, null);
  });
});
