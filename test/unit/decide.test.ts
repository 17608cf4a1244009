import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decide,
  downDeadline,
  missedHeartbeats,
  WATERMARK_RECHECK_MS,
  type Policy,
  type Snapshot,
} from '../../src/health/decide.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');
const at = (sec: number) => new Date(T0.getTime() + sec * 1000);

const policy: Policy = { heartbeatIntervalSeconds: 30, graceSeconds: 0, failuresForDown: 3, successesForRecovery: 1 };

/** A healthy node that beat at T0, with ingest watching since long before and flushed up to `now`. */
function snap(over: Partial<Snapshot> = {}, now = at(0)): Snapshot {
  return {
    state: 'healthy',
    since: at(-3600),
    receivedAtEntry: 0,
    lastHeartbeatAt: at(0),
    lastStatus: 'ok',
    checks: null,
    okStreak: 10,
    received: 10,
    maintenanceFrom: null,
    coverage: { since: at(-86_400), blindFrom: null, seenAt: now },
    ...over,
  };
}

/** Each transition with its reason. */
const reasons = (s: Snapshot, p: Policy, now: Date) =>
  decide(s, p, now).transitions.map((t) => [`${t.from}->${t.to}@${(t.at.getTime() - T0.getTime()) / 1000}`, t.reason]);

function summary(s: Snapshot, p: Policy, now: Date) {
  const d = decide(s, p, now);
  return d.transitions.map((t) => `${t.from}->${t.to}@${(t.at.getTime() - T0.getTime()) / 1000}`);
}

describe('decide: deadlines', () => {
  const cases: Array<{ name: string; p: Policy; now: number; want: string[] }> = [
    { name: 'stays healthy one ms before interval × failures', p: policy, now: 89.999, want: [] },
    { name: 'is down exactly at interval × failures, stamped at the deadline', p: policy, now: 90, want: ['healthy->down@90'] },
    { name: 'is stamped at the deadline even when noticed late', p: policy, now: 400, want: ['healthy->down@90'] },
    { name: 'grace extends the deadline', p: { ...policy, graceSeconds: 15 }, now: 104.9, want: [] },
    { name: 'grace deadline is interval × failures + grace', p: { ...policy, graceSeconds: 15 }, now: 105, want: ['healthy->down@105'] },
    { name: 'failures_for_down 1 is one interval', p: { ...policy, failuresForDown: 1 }, now: 30, want: ['healthy->down@30'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const now = at(c.now);
      assert.deepEqual(summary(snap({}, now), c.p, now), c.want);
    });
  }

  it('waits for the ingest watermark before calling a passed deadline down', () => {
    const now = at(90.2);
    const s = snap({ coverage: { since: at(-86_400), blindFrom: null, seenAt: at(89.9) } }, now);
    const d = decide(s, policy, now);
    assert.deepEqual(d.transitions, []);
    assert.equal(d.nextCheckAt?.getTime(), now.getTime() + WATERMARK_RECHECK_MS);
  });

  it('schedules the next check at the deadline', () => {
    const d = decide(snap(), policy, at(10));
    assert.deepEqual(d.transitions, []);
    assert.equal(d.nextCheckAt?.toISOString(), at(90).toISOString());
  });

  it('leaves a down node alone until a heartbeat arrives', () => {
    const now = at(500);
    const d = decide(snap({ state: 'down', since: at(90) }, now), policy, now);
    assert.deepEqual(d.transitions, []);
    assert.equal(d.nextCheckAt, null);
  });

  it('keeps a node that never sent a heartbeat unknown, with nothing scheduled', () => {
    const now = at(10_000);
    const d = decide(snap({ state: 'unknown', lastHeartbeatAt: null, lastStatus: null, okStreak: 0, received: 0 }, now), policy, now);
    assert.deepEqual(d.transitions, []);
    assert.equal(d.nextCheckAt, null);
  });

  it('derives deadline and missed heartbeats from the same origin', () => {
    assert.equal(downDeadline(at(0), at(-10), policy).toISOString(), at(90).toISOString());
    assert.equal(downDeadline(at(0), at(50), policy).toISOString(), at(140).toISOString());
    const table: Array<[number, number, number]> = [
      [29.9, 0, 0],
      [30, 0, 1],
      [59.9, 0, 1],
      [60, 0, 2],
      [90, 0, 3],
      [44.9, 15, 0],
      [45, 15, 1],
      [75, 15, 2],
    ];
    for (const [sec, grace, want] of table) {
      assert.equal(missedHeartbeats(at(0), at(-10), { ...policy, graceSeconds: grace }, at(sec)), want, `${sec}s grace ${grace}`);
    }
    assert.equal(missedHeartbeats(null, at(-10), policy, at(1000)), 0);
  });
});

describe('decide: self-reported status and checks', () => {
  const cases: Array<{ name: string; over: Partial<Snapshot>; want: string[]; reason?: RegExp }> = [
    { name: 'failing is down at once, at the heartbeat', over: { lastStatus: 'failing', okStreak: 0 }, want: ['healthy->down@0'], reason: /agent reported failing/ },
    { name: 'degraded is degraded at the heartbeat', over: { lastStatus: 'degraded', okStreak: 0 }, want: ['healthy->degraded@0'] },
    {
      name: 'an ok status with a warn check is degraded, naming the check',
      over: { checks: { disk: { status: 'warn' } }, okStreak: 0 },
      want: ['healthy->degraded@0'],
      reason: /warning checks: disk/,
    },
    {
      name: 'a fail check on an ok status is degraded, not down',
      over: { checks: { db: { status: 'fail' }, cpu: { status: 'ok' } }, okStreak: 0 },
      want: ['healthy->degraded@0'],
      reason: /failing checks: db/,
    },
    {
      name: 'failing with a failing check names the check',
      over: { lastStatus: 'failing', checks: { db: { status: 'fail' } }, okStreak: 0 },
      want: ['healthy->down@0'],
      reason: /failing checks: db/,
    },
    { name: 'degraded to down on failing', over: { state: 'degraded', since: at(-10), lastStatus: 'failing', okStreak: 0 }, want: ['degraded->down@0'] },
    { name: 'down (missed) to degraded when a degraded report arrives', over: { state: 'down', since: at(-10), lastStatus: 'degraded', okStreak: 0 }, want: ['down->degraded@0'] },
    { name: 'an ok report with ok checks keeps a healthy node healthy', over: { checks: { disk: { status: 'ok' } } }, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = snap(c.over);
      const d = decide(s, policy, at(1));
      assert.deepEqual(summary(s, policy, at(1)), c.want);
      if (c.reason) assert.match(d.transitions[0]!.reason, c.reason);
    });
  }
});

describe('decide: recovery', () => {
  const p3 = { ...policy, successesForRecovery: 3 };
  const cases: Array<{ name: string; p: Policy; over: Partial<Snapshot>; want: string[] }> = [
    { name: 'unknown to healthy on the first ok heartbeat by default', p: policy, over: { state: 'unknown', since: at(-5), okStreak: 1, received: 1 }, want: ['unknown->healthy@0'] },
    { name: 'needs successes_for_recovery ok heartbeats', p: p3, over: { state: 'down', since: at(-5), receivedAtEntry: 10, okStreak: 2, received: 12 }, want: [] },
    { name: 'recovers on the last of them', p: p3, over: { state: 'down', since: at(-5), receivedAtEntry: 10, okStreak: 3, received: 13 }, want: ['down->healthy@0'] },
    {
      name: 'ok heartbeats from before the outage do not count',
      p: p3,
      over: { state: 'down', since: at(-5), receivedAtEntry: 10, okStreak: 12, received: 11 },
      want: [],
    },
    { name: 'degraded recovers on ok', p: policy, over: { state: 'degraded', since: at(-5), receivedAtEntry: 10, okStreak: 1, received: 11 }, want: ['degraded->healthy@0'] },
    { name: 'a broken streak does not recover', p: p3, over: { state: 'degraded', since: at(-5), receivedAtEntry: 0, okStreak: 1, received: 20 }, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(summary(snap(c.over), c.p, at(1)), c.want);
    });
  }

  it('stores the entry count so later heartbeats are counted from the transition', () => {
    const d = decide(snap({ lastStatus: 'failing', okStreak: 0, received: 42 }), policy, at(1));
    assert.equal(d.receivedAtEntry, 42);
  });
});

describe('decide: a failure a later report replaced in the same flush', () => {
  // A failing report at 0.1 s, then an ok one at 0.2 s, both in one flush: the stored report is the
  // ok one, with the failure beside it and the streak the ok report started after it.
  const failedThenOk = (over: Partial<Snapshot> = {}) =>
    snap({
      lastHeartbeatAt: at(0.2),
      okStreak: 1,
      received: 12,
      receivedAtEntry: 10,
      hiddenFailure: { at: at(0.1), status: 'failing', checks: null, failedRun: { exitCode: 2, tail: 'disk full\n' } },
      ...over,
    });
  const p2 = { ...policy, successesForRecovery: 2 };

  it('is down from the failure and recovers at the report that replaced it', () => {
    assert.deepEqual(reasons(failedThenOk(), policy, at(1)), [
      ['healthy->down@0.1', 'exited with status 2: disk full'],
      ['down->healthy@0.2', '1 consecutive ok heartbeat'],
    ]);
  });

  it('counts only the ok reports after the failure towards recovery', () => {
    const d = decide(failedThenOk(), p2, at(1));
    assert.deepEqual(summary(failedThenOk(), p2, at(1)), ['healthy->down@0.1']);
    assert.equal(d.receivedAtEntry, 11, 'the ok report after the failure counts: one more recovers');
    assert.deepEqual(summary(failedThenOk({ state: 'down', since: at(0.1), receivedAtEntry: 11, lastHeartbeatAt: at(0.5), okStreak: 2, received: 13 }), p2, at(1)), [
      'down->healthy@0.5',
    ]);
  });

  it('is degraded from a hidden degraded report, with its checks named', () => {
    const s = failedThenOk({ hiddenFailure: { at: at(0.1), status: 'ok', checks: { disk: { status: 'warn' } }, failedRun: null } });
    assert.deepEqual(reasons(s, policy, at(1)), [
      ['healthy->degraded@0.1', 'warning checks: disk'],
      ['degraded->healthy@0.2', '1 consecutive ok heartbeat'],
    ]);
  });

  it('is judged once: not again once the state is newer than it, nor when the node is down already', () => {
    assert.deepEqual(summary(failedThenOk({ since: at(0.2), receivedAtEntry: 12 }), policy, at(1)), []);
    assert.deepEqual(summary(failedThenOk({ state: 'down', since: at(0.1), receivedAtEntry: 11 }), p2, at(1)), []);
    assert.deepEqual(summary(failedThenOk({ state: 'down', since: at(-5), receivedAtEntry: 10 }), p2, at(1)), []);
  });

  it('is not judged when it came inside a maintenance window and the latest report at its end', () => {
    // Window from -100 to 0; a failing report at -0.1 (inside it) replaced by an ok one at 0, its end.
    const s = failedThenOk({ state: 'maintenance', since: at(-100), maintenanceEndedAt: at(0), lastHeartbeatAt: at(0), okStreak: 1 });
    const hidden = { at: at(-0.1), status: 'failing' as const, checks: null, failedRun: null };
    assert.deepEqual(summary({ ...s, hiddenFailure: hidden }, policy, at(1)), ['maintenance->healthy@0']);
    assert.deepEqual(summary({ ...s, hiddenFailure: hidden }, p2, at(1)), ['maintenance->unknown@0'], 'not paged: waiting for a second ok report');
    assert.deepEqual(summary({ ...s, hiddenFailure: { ...hidden, at: at(0.05) }, lastHeartbeatAt: at(0.1) }, policy, at(1)), [
      'maintenance->unknown@0',
      'unknown->down@0.05',
      'down->healthy@0.1',
    ], 'one after the end is judged');
  });

  it('then the latest report, when it fails too', () => {
    const s = failedThenOk({ lastStatus: 'degraded', okStreak: 0 });
    assert.deepEqual(summary(s, policy, at(1)), ['healthy->down@0.1', 'down->degraded@0.2']);
  });
});

describe('decide: a heartbeat judged only after its own deadline', () => {
  // Down since 90 (silence after the beat at 0); one late ok heartbeat at 100, whose own deadline
  // is 190. An evaluator that reads it only at 200 must still record what happened.
  const p3 = { ...policy, successesForRecovery: 3 };
  const lateOk: Partial<Snapshot> = { state: 'down', since: at(90), receivedAtEntry: 10, lastHeartbeatAt: at(100), okStreak: 1, received: 11 };
  const cases: Array<{ name: string; p: Policy; over: Partial<Snapshot>; now: number; seenAt?: number; want: string[] }> = [
    { name: 'a recovery at its receive time, then down at its deadline', p: policy, over: lateOk, now: 200, want: ['down->healthy@100', 'healthy->down@190'] },
    { name: 'only the recovery while the watermark has not passed the new deadline', p: policy, over: lateOk, now: 200, seenAt: 189, want: ['down->healthy@100'] },
    { name: 'only the recovery when judged before the new deadline', p: policy, over: lateOk, now: 150, want: ['down->healthy@100'] },
    { name: 'no recovery when successes_for_recovery is not met: nothing to record', p: p3, over: lateOk, now: 200, want: [] },
    {
      name: 'a recovery on the last of successes_for_recovery late ok heartbeats',
      p: p3,
      over: { ...lateOk, okStreak: 3, received: 13 },
      now: 200,
      want: ['down->healthy@100', 'healthy->down@190'],
    },
    {
      name: 'a late degraded report, then down',
      p: policy,
      over: { ...lateOk, lastStatus: 'degraded', okStreak: 0 },
      now: 200,
      want: ['down->degraded@100', 'degraded->down@190'],
    },
    {
      name: 'a healthy node whose last report was failing is down from that report, not from its deadline',
      p: policy,
      over: { lastStatus: 'failing', okStreak: 0 },
      now: 200,
      want: ['healthy->down@0'],
    },
    { name: 'a first heartbeat judged late: healthy at it, down at its deadline', p: policy, over: { state: 'unknown', since: at(-5), okStreak: 1, received: 1 }, now: 200, want: ['unknown->healthy@0', 'healthy->down@90'] },
    {
      name: 'a heartbeat older than the state was judged already: no repeat',
      p: policy,
      over: { ...lateOk, since: at(190), receivedAtEntry: 11 },
      now: 300,
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const now = at(c.now);
      const s = snap({ ...c.over, coverage: { since: at(-86_400), blindFrom: null, seenAt: at(c.seenAt ?? c.now) } }, now);
      assert.deepEqual(summary(s, c.p, now), c.want);
    });
  }

  it('stores the heartbeat count with the final down, and keeps the log monotonic', () => {
    const now = at(200);
    const d = decide(snap({ ...lateOk, coverage: { since: at(-86_400), blindFrom: null, seenAt: now } }, now), policy, now);
    assert.equal(d.receivedAtEntry, 11, 'a later ok heartbeat counts towards the next recovery');
    assert.equal(d.nextCheckAt, null, 'down for silence: only a heartbeat can change it');
    const times = [at(90), ...d.transitions.map((t) => t.at)].map((t) => t.getTime());
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.equal(d.transitions[1]!.reason, 'no heartbeat for 1m30s');
  });
});

describe('decide: a recovery judged after the evaluator was away', () => {
  // Down since 0; every evaluator gone from 4 s to 37 s; ok heartbeats every second from 7 s on, the
  // latest at 41 s when the evaluator is back. Ingest recorded when the streak met the threshold.
  const p1: Policy = { heartbeatIntervalSeconds: 1, graceSeconds: 0, failuresForDown: 3, successesForRecovery: 1 };
  const p3: Policy = { ...p1, successesForRecovery: 3 };
  const away: Partial<Snapshot> = { state: 'down', since: at(0), receivedAtEntry: 10, lastHeartbeatAt: at(41), okStreak: 35, received: 45 };
  const cases: Array<{ name: string; p: Policy; over: Partial<Snapshot>; want: string[] }> = [
    { name: 'is stamped when the first ok heartbeat met successes_for_recovery 1', p: p1, over: { ...away, streakMetAt: at(7) }, want: ['down->healthy@7'] },
    { name: 'is stamped at the third ok heartbeat with successes_for_recovery 3', p: p3, over: { ...away, streakMetAt: at(9) }, want: ['down->healthy@9'] },
    { name: 'an earlier streak (before the outage) says nothing: the latest heartbeat', p: p1, over: { ...away, streakMetAt: at(-5) }, want: ['down->healthy@41'] },
    { name: 'never at the outage start itself', p: p1, over: { ...away, streakMetAt: at(0) }, want: ['down->healthy@41'] },
    { name: 'never after the latest heartbeat', p: p1, over: { ...away, streakMetAt: at(42) }, want: ['down->healthy@41'] },
    { name: 'not recorded: the latest heartbeat, as before', p: p1, over: away, want: ['down->healthy@41'] },
    { name: 'not met yet: no recovery whatever is recorded', p: p3, over: { ...away, okStreak: 2, streakMetAt: at(7) }, want: [] },
    {
      // An earlier release's ingest (a rolling upgrade) left the time a streak before the failure met it.
      name: 'never before a kept failure newer than the state: that failure restarted the streak',
      p: p1,
      over: { ...away, streakMetAt: at(7), hiddenFailure: { at: at(20), status: 'failing', checks: null, failedRun: null }, okStreak: 21 },
      want: ['down->healthy@41'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const now = at(41.2);
      assert.deepEqual(summary(snap(c.over, now), c.p, now), c.want);
    });
  }

  it('a recovery read after its own deadline is stamped when met, then down at the deadline', () => {
    // Ok heartbeats 100..120 after a down at 90, silent since; read at 300.
    const now = at(300);
    const s = snap({ state: 'down', since: at(90), receivedAtEntry: 10, lastHeartbeatAt: at(120), okStreak: 3, received: 13, streakMetAt: at(100) }, now);
    assert.deepEqual(summary(s, policy, now), ['down->healthy@100', 'healthy->down@210']);
  });
});

describe('decide: honest restarts', () => {
  // Ingest went dark at 100 and resumed at 700 (ten minutes blind).
  const coverage = { since: at(700), blindFrom: at(100), seenAt: at(700) };

  it('records the blind time as unknown and does not call a node down for it', () => {
    const now = at(700);
    const s = snap({ lastHeartbeatAt: at(60), okStreak: 0, received: 10, coverage: { ...coverage, seenAt: now } }, now);
    const d = decide(s, policy, now);
    assert.deepEqual(summary(s, policy, now), ['healthy->unknown@100']);
    assert.equal(d.nextCheckAt?.toISOString(), at(790).toISOString(), 'deadline counts from when ingest came back');
  });

  it('judges a silent node only after a full period since coverage resumed', () => {
    const now = at(790);
    const s = snap({ state: 'unknown', since: at(100), lastHeartbeatAt: at(60), okStreak: 0, coverage: { ...coverage, seenAt: now } }, now);
    assert.deepEqual(summary(s, policy, now), ['unknown->down@790']);
  });

  it('says how long the node had been silent when it went down, not the period counted from coverage', () => {
    const now = at(790);
    const s = snap({ state: 'unknown', since: at(100), lastHeartbeatAt: at(59.6), okStreak: 0, coverage: { ...coverage, seenAt: now } }, now);
    // 730.4 s since the last heartbeat, in whole seconds rounded down: never more than it was.
    assert.deepEqual(reasons(s, policy, now), [['unknown->down@790', 'no heartbeat for 12m10s']]);
  });

  it('heals through unknown when the node beats after the restart', () => {
    const now = at(705);
    const s = snap({ lastHeartbeatAt: at(703), okStreak: 1, received: 11, coverage: { ...coverage, seenAt: now } }, now);
    assert.deepEqual(summary(s, policy, now), ['healthy->unknown@100', 'unknown->healthy@703']);
  });

  it('still records an outage whose deadline passed while ingest was watching', () => {
    const now = at(705);
    const s = snap({ lastHeartbeatAt: at(0), okStreak: 0, coverage: { ...coverage, seenAt: now } }, now);
    assert.deepEqual(summary(s, policy, now), ['healthy->down@90', 'down->unknown@100']);
  });

  // The flush that ends a gap stores heartbeats buffered in the dark (received before 700).
  const dark: Partial<Snapshot> = { state: 'unknown', since: at(100), receivedAtEntry: 10, lastHeartbeatAt: at(699.5), okStreak: 1, received: 11 };
  const darkCases: Array<{ name: string; over: Partial<Snapshot>; want: string[] }> = [
    { name: 'stays unknown on an ok report heard before coverage resumed', over: dark, want: [] },
    // Heard in the dark, a failure is judged when coverage resumed: dropped, it was never paged.
    { name: 'is down from when coverage resumed on a failing report heard in the dark', over: { ...dark, lastStatus: 'failing', okStreak: 0 }, want: ['unknown->down@700'] },
    {
      name: 'is down from when coverage resumed on a replaced failure heard in the dark, an ok after it not counting',
      over: { ...dark, okStreak: 0, hiddenFailure: { at: at(699.2), status: 'failing', checks: null, failedRun: null } },
      want: ['unknown->down@700'],
    },
    {
      name: 'goes unknown at the gap, then down when coverage resumed, on a failing report heard in it',
      over: { ...dark, state: 'healthy', since: at(-3600), lastStatus: 'failing', okStreak: 0 },
      want: ['healthy->unknown@100', 'unknown->down@700'],
    },
    { name: 'does not judge a failing report stored before the gap went dark', over: { ...dark, lastHeartbeatAt: at(60), lastStatus: 'failing', okStreak: 0 }, want: [] },
    { name: 'goes unknown at the gap, not healthy again from a report heard in it', over: { ...dark, state: 'healthy', since: at(-3600) }, want: ['healthy->unknown@100'] },
    { name: 'recovers on an ok report after coverage resumed', over: { ...dark, lastHeartbeatAt: at(701) }, want: ['unknown->healthy@701'] },
    {
      name: 'a streak recorded as met in the dark does not stamp the recovery there',
      over: { ...dark, lastHeartbeatAt: at(701), streakMetAt: at(699.5) },
      want: ['unknown->healthy@701'],
    },
  ];
  for (const c of darkCases) {
    it(c.name, () => {
      const now = at(701.2);
      assert.deepEqual(summary(snap({ ...c.over, coverage: { ...coverage, seenAt: now } }, now), policy, now), c.want);
    });
  }

  for (const [name, over, want] of [
    ['an ok report', {}, [100]],
    ['a failing report', { lastStatus: 'failing', okStreak: 0 }, [100, 700]],
  ] as const) {
    it(`never makes a state that lasts no time, pass after pass, on ${name} heard in the dark`, () => {
      // Judged, written back, judged again: the second pass must not undo the first at its instant.
      let s = snap({ ...dark, ...over, state: 'healthy', since: at(-3600), coverage: { ...coverage, seenAt: at(701.2) } }, at(701.2));
      const stamps: number[] = [];
      for (let pass = 0; pass < 3; pass++) {
        const d = decide(s, policy, at(701.2));
        for (const t of d.transitions) stamps.push(t.at.getTime());
        const last = d.transitions.at(-1);
        if (last) s = { ...s, state: last.to, since: last.at, receivedAtEntry: d.receivedAtEntry };
      }
      assert.deepEqual(stamps, want.map((sec) => at(sec).getTime()));
    });
  }

  it('does not repeat the blind transition once recorded', () => {
    const now = at(710);
    const s = snap({ since: at(703), lastHeartbeatAt: at(709), coverage: { ...coverage, seenAt: now } }, now);
    assert.deepEqual(summary(s, policy, now), []);
  });
});

describe('decide: maintenance', () => {
  it('enters maintenance at the window start whatever the heartbeats say', () => {
    const s = snap({ lastStatus: 'failing', maintenanceFrom: at(-20) });
    const d = decide(s, policy, at(1));
    assert.deepEqual(summary(s, policy, at(1)), ['healthy->maintenance@-20']);
    assert.equal(d.nextCheckAt, null);
  });

  // The window ends when the evaluator judges the node (it is due at the window's end): nothing it
  // finds may be stamped inside the window, or uptime and incidents would count the window as down.
  it('is judged afresh when the window ends: ok heartbeats make it healthy at the end', () => {
    assert.deepEqual(summary(snap({ state: 'maintenance', since: at(-100), receivedAtEntry: 5, okStreak: 8, received: 10 }), policy, at(1)), ['maintenance->healthy@1']);
  });

  it('is judged afresh when the window ends: a node silent past its deadline gets a full period from the end', () => {
    const now = at(200);
    const s = snap({ state: 'maintenance', since: at(-100) }, now);
    assert.deepEqual(summary(s, policy, now), ['maintenance->unknown@200']);
    assert.equal(decide(s, policy, now).nextCheckAt?.getTime(), at(290).getTime());
    // Still silent a period later: down then, not back at the window's end.
    const later = snap({ state: 'unknown', since: at(200), receivedAtEntry: 10 }, at(290));
    assert.deepEqual(summary(later, policy, at(289.999)), []);
    assert.deepEqual(summary(later, policy, at(290)), ['unknown->down@290']);
  });

  // A node beating every 5 s, down after 2 missed, silent from 0 through a window ended early
  // ("End now") at 316: 5 min 16 s of silence.
  const fast: Policy = { ...policy, heartbeatIntervalSeconds: 5, failuresForDown: 2 };
  const endedEarly = { state: 'maintenance' as const, since: at(60), maintenanceEndedAt: at(316), receivedAtEntry: 10 };

  it('gives a node already late when its window ends a full period from the end, as after a coverage gap', () => {
    assert.deepEqual(summary(snap(endedEarly, at(316.5)), fast, at(316.5)), ['maintenance->unknown@316']);
    assert.equal(decide(snap(endedEarly, at(316.5)), fast, at(316.5)).nextCheckAt?.getTime(), at(326).getTime());
    const unknown = snap({ state: 'unknown', since: at(316), receivedAtEntry: 10 }, at(326));
    assert.deepEqual(summary(unknown, fast, at(325.999)), []);
    assert.deepEqual(summary(unknown, fast, at(326)), ['unknown->down@326']);
  });

  it('says how long the node had been silent when it went down after a window, not the period from its end', () => {
    const unknown = snap({ state: 'unknown', since: at(316), receivedAtEntry: 10 }, at(326));
    assert.deepEqual(reasons(unknown, fast, at(326)), [['unknown->down@326', 'no heartbeat for 5m26s']]);
    // Judged in one pass by an evaluator that came late: the same.
    assert.deepEqual(reasons(snap(endedEarly, at(400)), fast, at(400)), [
      ['maintenance->unknown@316', 'maintenance ended; waiting for ok heartbeats'],
      ['unknown->down@326', 'no heartbeat for 5m26s'],
    ]);
  });

  it('is judged from the real end of its window when the evaluator comes late: what came after it is not maintenance', () => {
    const now = at(3600);
    const left = { state: 'maintenance' as const, since: at(-100), maintenanceEndedAt: at(0), receivedAtEntry: 5, lastHeartbeatAt: at(600) };
    // Beat ok until 600 after a window that ended at 0, then silent.
    assert.deepEqual(summary(snap(left, now), policy, now), ['maintenance->unknown@0', 'unknown->healthy@600', 'healthy->down@690']);
    assert.deepEqual(summary(snap({ ...left, lastStatus: 'failing', okStreak: 0 }, now), policy, now), ['maintenance->unknown@0', 'unknown->down@600']);
    // Silent from before the end: a full period from the end, so down at 90.
    assert.deepEqual(summary(snap({ ...left, lastHeartbeatAt: at(-200) }, now), policy, now), ['maintenance->unknown@0', 'unknown->down@90']);
  });

  it('is judged afresh when the window ends: a failing report from inside the window is not judged, the next one is', () => {
    const now = at(30);
    const s = snap({ state: 'maintenance', since: at(-100), lastHeartbeatAt: at(20), lastStatus: 'failing', okStreak: 0 }, now);
    assert.deepEqual(summary(s, policy, now), ['maintenance->unknown@30']);
    // Later, still unknown with nothing new: the old report is still not judged.
    const after = { state: 'unknown' as const, since: at(30), receivedAtEntry: 10, lastStatus: 'failing' as const, okStreak: 0 };
    assert.deepEqual(summary(snap({ ...after, lastHeartbeatAt: at(20) }, at(60)), policy, at(60)), []);
    // A failing report after the end is judged at its time.
    assert.deepEqual(summary(snap({ ...after, lastHeartbeatAt: at(40), received: 11 }, at(41)), policy, at(41)), ['unknown->down@40']);
  });

  it('is judged afresh when the window ends: silence not yet past the ingest watermark waits', () => {
    // The deadline (90) passed before the end (200), but ingest has flushed only to 80: a heartbeat
    // could still be in a buffer, so nothing is decided yet.
    const s = snap({ state: 'maintenance', since: at(-100), coverage: { since: at(-86_400), blindFrom: null, seenAt: at(80) } }, at(200));
    const d = decide(s, policy, at(200));
    assert.deepEqual(d.transitions, []);
    assert.equal(d.nextCheckAt?.getTime(), at(200).getTime() + WATERMARK_RECHECK_MS);
  });

  it('is judged afresh when the window ends: a window that ended while ingest was dark is unknown from when it came back', () => {
    // Window ended at 100 during a gap (dark from 50 to 300); the last beat, failing, at 20.
    const coverage = { since: at(300), blindFrom: at(50), seenAt: at(301) };
    const s = snap({ state: 'maintenance', since: at(-100), maintenanceEndedAt: at(100), lastHeartbeatAt: at(20), lastStatus: 'failing', okStreak: 0, coverage }, at(301));
    assert.deepEqual(summary(s, policy, at(301)), ['maintenance->unknown@300']);
    assert.equal(decide(s, policy, at(301)).nextCheckAt?.getTime(), at(390).getTime());
    // Woken again before that (an edit, say), nothing new heard: the report from the window is still not judged.
    const after = snap({ state: 'unknown', since: at(300), receivedAtEntry: 10, lastHeartbeatAt: at(20), lastStatus: 'failing', okStreak: 0, coverage }, at(310));
    assert.deepEqual(summary(after, policy, at(310)), []);
  });

  it('keeps a report from inside the window unjudged when the window ended exactly as coverage began', () => {
    const coverage = { since: at(100), blindFrom: null, seenAt: at(110) };
    const s = snap({ state: 'unknown', since: at(100), receivedAtEntry: 10, lastHeartbeatAt: at(20), lastStatus: 'failing', okStreak: 0, coverage }, at(110));
    assert.deepEqual(summary(s, policy, at(110)), []);
  });

  it('takes an exit time from before its maintenance began (an older window) as now', () => {
    const s = snap({ state: 'maintenance', since: at(-100), maintenanceEndedAt: at(-5000), lastHeartbeatAt: at(-10) }, at(50));
    assert.deepEqual(summary(s, policy, at(50)), ['maintenance->healthy@50']);
  });

  it('keeps the instant of a report for a node that is not leaving a window', () => {
    const s = snap({ state: 'healthy', since: at(-100), lastStatus: 'failing', okStreak: 0, lastHeartbeatAt: at(20) });
    assert.deepEqual(summary(s, policy, at(30)), ['healthy->down@20']);
  });

  it('becomes unknown after a window when it never sent a heartbeat', () => {
    const s = snap({ state: 'maintenance', since: at(-100), lastHeartbeatAt: null, lastStatus: null, okStreak: 0, received: 0 });
    assert.deepEqual(summary(s, policy, at(1)), ['maintenance->unknown@1']);
  });
});

describe('decide: monotonic log', () => {
  it('never stamps a transition before the state it leaves', () => {
    const s = snap({ since: at(5), lastStatus: 'failing', okStreak: 0 });
    assert.deepEqual(summary(s, policy, at(6)), ['healthy->down@5']);
  });

  it('is pure: the same input gives the same output', () => {
    const s = snap({ lastStatus: 'degraded' });
    assert.deepEqual(decide(s, policy, at(3)), decide(s, policy, at(3)));
  });
});

describe('decide: a node that stays down or degraded for a new reason', () => {
  const change = (s: Snapshot, now: Date) => {
    const d = decide(s, policy, now);
    const r = d.reasonChange;
    return { transitions: d.transitions.length, reasonChange: r ? `${r.state}@${(r.at.getTime() - T0.getTime()) / 1000} ${r.reason}` : null };
  };
  const failingDisk = { disk: { status: 'fail' as const } };

  it('an agent back from silence still failing: the reason says what it reports, not the silence', () => {
    const s = snap({ state: 'down', since: at(-60), reason: 'no heartbeat for 1m30s', lastStatus: 'failing', checks: failingDisk, okStreak: 0, received: 11 });
    assert.deepEqual(change(s, at(1)), { transitions: 0, reasonChange: 'down@0 agent reported failing (failing checks: disk)' });
  });

  it('the same report again changes nothing', () => {
    const s = snap({ state: 'down', since: at(-60), reason: 'agent reported failing (failing checks: disk)', lastStatus: 'failing', checks: failingDisk, okStreak: 0 });
    assert.deepEqual(change(s, at(1)), { transitions: 0, reasonChange: null });
  });

  it('a node down for failing that then goes silent: the reason says the silence', () => {
    const s = snap({ state: 'down', since: at(0), reason: 'agent reported failing (failing checks: disk)', lastStatus: 'failing', checks: failingDisk, okStreak: 0 }, at(95));
    assert.deepEqual(change(s, at(95)), { transitions: 0, reasonChange: 'down@90 no heartbeat for 1m30s' });
  });

  it('degraded for another warning check: the reason names the checks it reports now', () => {
    const s = snap({ state: 'degraded', since: at(-60), reason: 'warning checks: disk', checks: { disk: { status: 'warn' }, mem: { status: 'warn' } } });
    assert.deepEqual(change(s, at(1)), { transitions: 0, reasonChange: 'degraded@0 warning checks: disk, mem' });
  });

  it('a healthy node is never given a new reason without a transition', () => {
    assert.deepEqual(change(snap({ reason: 'ok' }), at(1)), { transitions: 0, reasonChange: null });
  });
});
