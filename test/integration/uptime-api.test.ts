import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { UptimeHousekeeping } from '../../src/uptime/housekeeping.ts';
import { rebuildUptime } from '../../src/uptime/rebuild.ts';
import type { StateMs } from '../../src/uptime/state-time.ts';
import { ADMIN_TOKEN, createHarness, expectInvalid, type Harness } from '../helpers/app.ts';
import type { FleetUptime as FleetBody, NodeUptime as UptimeBody } from '../../src/api/shapes.ts';
import { runningEngine } from '../helpers/running-engine.ts';
import { storedUptimeRows } from '../helpers/uptime-rows.ts';

// Transitions come from the real pipeline: heartbeats through POST /v1/heartbeats, the ingest
// flusher, the leader-elected evaluator (maintenance windows created through POST /v1/maintenances,
// which reach decide as its maintenance input), and the outbox dispatcher running the uptime
// handler. Answers
// are read through GET /v1/nodes/{id}/uptime and GET /v1/uptime and compared with figures worked
// out by hand from the scenario.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const RETENTION = { hourlyDays: 90, dailyDays: 1095 };
// Ingest counts a silence longer than this as the engine being blind. A day lets the scenarios
// move time in large steps; the gap scenario jumps further on purpose.
const GAP_MS = DAY;

type Seconds = Record<keyof StateMs, number>;

/** Hour `h` of a stored hour row's array (the arrays hold running totals through the day). */
const hourOf = (running: number[], h: number): number => running[h]! - (running[h - 1] ?? 0);

const seconds = (partial: Partial<Seconds>): Seconds => ({ healthy: 0, degraded: 0, down: 0, maintenance: 0, unknown: 0, ...partial });

/** The contract's figures for a window whose time per state is known (in minutes, for readability). */
function expected(nodeId: string, from: string, to: string, minutes: Partial<Seconds>): UptimeBody {
  const s = seconds(Object.fromEntries(Object.entries(minutes).map(([k, m]) => [k, m * 60])));
  const up = s.healthy + s.degraded;
  const monitored = up + s.down;
  return {
    node_id: nodeId,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    uptime_ratio: monitored === 0 ? null : up / monitored,
    up_seconds: up,
    monitored_seconds: monitored,
    seconds: s,
  };
}

describe('uptime over the API, driven through the real pipeline', () => {
  let h: Harness;
  let engine: ReturnType<typeof runningEngine>;

  before(async () => {
    h = await createHarness();
    engine = runningEngine(h, { gapMs: GAP_MS });
  });

  after(async () => {
    await engine.close();
    await h.close();
  });

  const liveUntil = (t: string, stepMs = 5 * MINUTE) => engine.liveUntil(t, stepMs);

  /** A node that is down 10 minutes after its last heartbeat (agents report every 5 minutes). */
  async function node(name: string, extra: Record<string, unknown> = {}) {
    const body = await h.createNode(name, { heartbeat_interval_seconds: 600, failures_for_down: 1, ...extra });
    return { id: body.id, token: body.token };
  }

  /** A node created at `now` with a maintenance window ahead, its agent beating ok and judged once. */
  async function beatingWithWindow(name: string, now: string, startsAt: string, endsAt: string) {
    h.clock.set(now);
    const n = await node(name);
    const window = await h.admin('POST', '/v1/maintenances', { node_ids: [n.id], starts_at: startsAt, ends_at: endsAt, reason: 'hardware work' });
    assert.equal(window.status, 201, await window.text());
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step();
    return n;
  }

  const report = (path: string) => h.req('GET', path, { token: ADMIN_TOKEN });
  async function uptime(path: string): Promise<UptimeBody> {
    const res = await report(path);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as UptimeBody;
  }
  const withoutBuckets = ({ buckets: _, ...rest }: UptimeBody) => rest;

  beforeEach(() => engine.agents.clear());

  it('splits an outage across an hour boundary into both hours, from stored hour rows', async () => {
    h.clock.set('2026-11-22T10:00:00.000Z');
    const n = await node('edge-1');
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step(); // healthy at 10:00
    await liveUntil('2026-11-22T10:30:00.000Z'); // the last heartbeat; down at its deadline, 10:40
    engine.agents.delete(n.id);
    await liveUntil('2026-11-22T11:10:00.000Z');
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step(); // healthy again at 11:10
    await liveUntil('2026-11-22T12:30:00.000Z');

    const from = '2026-11-22T10:00:00.000Z';
    const to = '2026-11-22T12:00:00.000Z';
    const body = await uptime(`/v1/nodes/edge-1/uptime?from=${from}&to=${to}&bucket=hour`);
    assert.deepEqual(withoutBuckets(body), expected(n.id, from, to, { healthy: 90, down: 30 }));
    assert.deepEqual(body.buckets, [
      { start: '2026-11-22T10:00:00.000Z', uptime_ratio: 40 / 60, seconds: seconds({ healthy: 40 * 60, down: 20 * 60 }) },
      { start: '2026-11-22T11:00:00.000Z', uptime_ratio: 50 / 60, seconds: seconds({ healthy: 50 * 60, down: 10 * 60 }) },
    ]);
    assert.deepEqual(await uptime(`/v1/nodes/${n.id}/uptime?from=${from}&to=${to}`), withoutBuckets(body));

    // The two hours come from the node's stored hour row, not from the log.
    const [row] = await h.sql<{ healthy_ms: number[]; down_ms: number[] }[]>`
      select healthy_ms, down_ms from uptime_hourly where node_id = ${n.id} and day = '2026-11-22T00:00:00Z'`;
    assert.deepEqual(
      [hourOf(row!.healthy_ms, 10), hourOf(row!.down_ms, 10), hourOf(row!.healthy_ms, 11), hourOf(row!.down_ms, 11)],
      [40 * MINUTE, 20 * MINUTE, 50 * MINUTE, 10 * MINUTE],
    );
    const [progress] = await h.sql`select closed_until from uptime_progress where node_id = ${n.id}`;
    assert.equal(progress!.closed_until.toISOString(), '2026-11-22T12:00:00.000Z');
  });

  it('leaves maintenance inside an outage out of the monitored time', async () => {
    const n = await beatingWithWindow('maint-1', '2026-11-23T10:00:00.000Z', '2026-11-23T10:20:00.000Z', '2026-11-23T10:50:00.000Z');
    await liveUntil('2026-11-23T10:05:00.000Z');
    engine.agents.set(n.id, { token: n.token, status: 'failing' });
    await liveUntil('2026-11-23T10:10:00.000Z'); // down at 10:10
    await liveUntil('2026-11-23T10:50:00.000Z'); // maintenance 10:20-10:50, and the node still fails after it: down
    await liveUntil('2026-11-23T10:55:00.000Z');
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await liveUntil('2026-11-23T11:30:00.000Z'); // healthy from 11:00

    const transitions = await h.sql`select to_state, at from node_state_log where node_id = ${n.id} order by state_version`;
    assert.deepEqual(
      transitions.map((t) => `${t.to_state}@${t.at.toISOString().slice(11, 16)}`),
      ['healthy@10:00', 'down@10:10', 'maintenance@10:20', 'down@10:50', 'healthy@11:00'],
    );
    const from = '2026-11-23T10:00:00.000Z';
    const to = '2026-11-23T11:30:00.000Z';
    const body = await uptime(`/v1/nodes/maint-1/uptime?from=${from}&to=${to}`);
    assert.deepEqual(body, expected(n.id, from, to, { healthy: 40, down: 20, maintenance: 30 }));
    assert.equal(body.uptime_ratio, 2 / 3);
  });

  it('counts a new node as unknown from creation, and nothing before it', async () => {
    h.clock.set('2026-11-24T10:00:00.000Z');
    const n = await node('late-1');
    const silent = await node('silent-1');
    await liveUntil('2026-11-24T10:15:00.000Z');
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step(); // healthy at 10:15
    await liveUntil('2026-11-24T10:30:00.000Z');

    const to = '2026-11-24T10:30:00.000Z';
    const fromCreation = await uptime(`/v1/nodes/late-1/uptime?from=2026-11-24T10:00:00.000Z&to=${to}`);
    assert.deepEqual(fromCreation, expected(n.id, '2026-11-24T10:00:00.000Z', to, { unknown: 15, healthy: 15 }));
    assert.equal(fromCreation.uptime_ratio, 1);
    // A window reaching back a day before creation counts the same time.
    const wider = await uptime(`/v1/nodes/late-1/uptime?from=2026-11-23T10:00:00.000Z&to=${to}`);
    assert.deepEqual(wider.seconds, fromCreation.seconds);
    // A node that never reported has been monitored for nothing: no ratio, not 0 or 1.
    const never = await uptime(`/v1/nodes/silent-1/uptime?window=24h`);
    assert.deepEqual(never, expected(silent.id, '2026-11-23T10:30:00.000Z', to, { unknown: 30 }));
  });

  it('counts a window a silent host spent switched off as maintenance, then gives it a period to come back before it is down', async () => {
    const n = await beatingWithWindow('maint-2', '2026-11-25T10:00:00.000Z', '2026-11-25T10:10:00.000Z', '2026-11-25T12:10:00.000Z');
    await liveUntil('2026-11-25T10:05:00.000Z'); // the last heartbeat: the host goes off for the swap
    engine.agents.delete(n.id);
    await liveUntil('2026-11-25T12:30:00.000Z'); // and stays off after the window

    const transitions = await h.sql`select to_state, at from node_state_log where node_id = ${n.id} order by state_version`;
    assert.deepEqual(
      transitions.map((t) => `${t.to_state}@${t.at.toISOString().slice(11, 16)}`),
      ['healthy@10:00', 'maintenance@10:10', 'unknown@12:10', 'down@12:20'],
    );
    const from = '2026-11-25T10:00:00.000Z';
    const to = '2026-11-25T12:30:00.000Z';
    assert.deepEqual(await uptime(`/v1/nodes/maint-2/uptime?from=${from}&to=${to}`), expected(n.id, from, to, { healthy: 10, maintenance: 120, unknown: 10, down: 10 }));
  });

  it('counts the open interval exactly up to the moment of the request', async () => {
    h.clock.set('2026-11-25T10:00:00.000Z');
    const n = await node('open-1');
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step();
    await liveUntil('2026-11-25T10:30:00.000Z');
    engine.agents.delete(n.id);
    await liveUntil('2026-11-25T10:52:30.000Z'); // down since 10:40
    h.clock.set('2026-11-25T10:52:30.501Z');

    const body = await uptime('/v1/nodes/open-1/uptime?window=24h');
    const downMs = 12 * MINUTE + 30_501;
    assert.deepEqual(body.seconds, seconds({ healthy: 40 * 60, down: downMs / 1000 }));
    assert.equal(body.uptime_ratio, (40 * MINUTE) / (40 * MINUTE + downMs));
    assert.equal(body.to, '2026-11-25T10:52:30.501Z');
    h.clock.set('2026-11-25T10:52:30.502Z');
    assert.equal((await uptime('/v1/nodes/open-1/uptime?window=24h')).seconds.down, (downMs + 1) / 1000);
  });

  it('gives a node recreated under a deleted one’s name a fresh history, and leaves no rows behind', async () => {
    h.clock.set('2026-11-26T10:00:00.000Z');
    const old = await node('phoenix');
    engine.agents.set(old.id, { token: old.token, status: 'failing' });
    await engine.step();
    await liveUntil('2026-11-26T13:00:00.000Z'); // three hours down, rolled up
    const counts = async (id: string) => {
      const [row] = await h.sql<{ n: number }[]>`
        select (select count(*) from uptime_hourly where node_id = ${id})
             + (select count(*) from uptime_daily where node_id = ${id})
             + (select count(*) from uptime_progress where node_id = ${id}) as n`;
      return Number(row!.n);
    };
    assert.ok((await counts(old.id)) > 0);

    const res = await h.req('DELETE', '/v1/nodes/phoenix', { token: ADMIN_TOKEN });
    assert.equal(res.status, 204);
    engine.agents.clear();
    await engine.step();
    assert.equal(await counts(old.id), 0);

    await liveUntil('2026-11-26T14:00:00.000Z');
    const reborn = await node('phoenix');
    engine.agents.set(reborn.id, { token: reborn.token, status: 'ok' });
    await liveUntil('2026-11-26T14:20:00.000Z'); // first heartbeat at 14:05
    const body = await uptime('/v1/nodes/phoenix/uptime?window=24h');
    assert.equal(body.node_id, reborn.id);
    assert.deepEqual(body.seconds, seconds({ unknown: 5 * 60, healthy: 15 * 60 }));
    assert.equal(body.uptime_ratio, 1);
  });

  it('answers a quiet week from its stored days, not from the log', async () => {
    h.clock.set('2026-11-27T06:00:00.000Z');
    const n = await node('quiet-1', { heartbeat_interval_seconds: 86_400 });
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step(); // healthy at 06:00, then a report every 6 h for a week and a bit
    await liveUntil('2026-12-05T08:30:00.000Z', 6 * HOUR);
    await liveUntil('2026-12-05T09:45:00.000Z', 15 * MINUTE);

    const body = await uptime('/v1/nodes/quiet-1/uptime?window=7d');
    assert.deepEqual(body, expected(n.id, '2026-11-28T09:45:00.000Z', '2026-12-05T09:45:00.000Z', { healthy: 7 * 24 * 60 }));
    const [days] = await h.sql`select count(*)::int as n from uptime_daily where node_id = ${n.id}`;
    assert.equal(days!.n, 8, 'Nov 27 to Dec 4 are closed days');

    // Make an hour of Dec 1 down in the stored day (and the running totals after it, the last of
    // which the progress row keeps): the log says nothing of it, so only an answer read from the
    // day rows shows it.
    await h.sql`
      update uptime_daily set healthy_ms = healthy_ms - ${HOUR}, down_ms = down_ms + ${HOUR}
      where node_id = ${n.id} and day = '2026-12-01T00:00:00Z'`;
    await h.sql`
      update uptime_daily set healthy_running_ms = healthy_running_ms - ${HOUR}, down_running_ms = down_running_ms + ${HOUR}
      where node_id = ${n.id} and day >= '2026-12-01T00:00:00Z'`;
    await h.sql`
      update uptime_progress set days_running_ms[1] = days_running_ms[1] - ${HOUR}, days_running_ms[3] = days_running_ms[3] + ${HOUR}
      where node_id = ${n.id}`;
    const tampered = await uptime('/v1/nodes/quiet-1/uptime?window=7d');
    assert.deepEqual(tampered.seconds, seconds({ healthy: (7 * 24 - 1) * 3600, down: 3600 }));
    const byDay = await uptime('/v1/nodes/quiet-1/uptime?window=7d&bucket=day');
    assert.deepEqual(withoutBuckets(byDay), tampered);
    assert.equal(byDay.buckets!.length, 8);
    assert.deepEqual(byDay.buckets![0], { start: '2026-11-28T00:00:00.000Z', uptime_ratio: 1, seconds: seconds({ healthy: (14 * 60 + 15) * 60 }) });
    assert.deepEqual(byDay.buckets![3]!.seconds, seconds({ healthy: 23 * 3600, down: 3600 }));

    // A rebuild recomputes the rows from the log.
    await rebuildUptime(h.sql, { refs: ['quiet-1'] }, h.clock.now(), RETENTION);
    assert.deepEqual(await uptime('/v1/nodes/quiet-1/uptime?window=7d'), body);
  });

  it('stays exact while a late transition waits in the outbox, and the handler then rewrites the hours it reaches back into', async () => {
    h.clock.set('2026-12-06T10:00:00.000Z');
    const n = await node('blind-1', { heartbeat_interval_seconds: 3600 });
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step();
    await liveUntil('2026-12-06T11:00:00.000Z', 30 * MINUTE);
    // Ingest goes dark for 25 h while the evaluator's leader keeps closing hours as if all were
    // well; when ingest returns, the evaluator records the dark time as unknown from 11:00.
    engine.agents.clear();
    h.clock.set('2026-12-07T12:00:00.000Z');
    await engine.upkeep.runOnce();
    await engine.flusher.runOnce();
    await engine.evaluator.runOnce();
    const [event] = await h.sql`select payload from outbox where key = ${n.id}`;
    assert.equal(event!.payload.to, 'unknown');
    assert.equal(event!.payload.at, '2026-12-06T11:00:00.000Z');

    const exact = expected(n.id, '2026-12-06T10:00:00.000Z', '2026-12-07T12:00:00.000Z', { healthy: 60, unknown: 25 * 60 });
    const path = '/v1/nodes/blind-1/uptime?from=2026-12-06T10:00:00.000Z&to=2026-12-07T12:00:00.000Z';
    assert.deepEqual(await uptime(path), exact, 'before the handler ran');
    assert.deepEqual(await uptime(`${path}&bucket=hour`).then(withoutBuckets), exact);
    await engine.drain();
    assert.deepEqual(await uptime(path), exact, 'after the handler ran');
    const [row] = await h.sql<{ healthy_ms: number[]; unknown_ms: number[] }[]>`
      select healthy_ms, unknown_ms from uptime_hourly where node_id = ${n.id} and day = '2026-12-06T00:00:00Z'`;
    assert.deepEqual([hourOf(row!.healthy_ms, 10), hourOf(row!.healthy_ms, 11), hourOf(row!.unknown_ms, 11)], [HOUR, 0, HOUR]);
  });

  it('keeps answers exact when retention has removed old rows, reading the log there', async () => {
    h.clock.set('2026-12-08T10:00:00.000Z');
    const n = await node('old-1', { heartbeat_interval_seconds: 86_400 });
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step();
    await liveUntil('2026-12-12T10:00:00.000Z', 6 * HOUR);
    const path = '/v1/nodes/old-1/uptime?from=2026-12-08T09:00:00.000Z&to=2026-12-12T10:00:00.000Z';
    const before = await uptime(path);
    assert.deepEqual(before.seconds, seconds({ healthy: 4 * 24 * 3600 }));

    const short = new UptimeHousekeeping({ sql: h.sql, clock: h.clock, retention: { hourlyDays: 1, dailyDays: 2 } });
    const gone = await short.runOnce();
    assert.ok(gone.hourRowsDeleted > 0 && gone.dayRowsDeleted > 0, JSON.stringify(gone));
    const [{ first_hour, first_day }] = (await h.sql`
      select (select min(day) from uptime_hourly where node_id = ${n.id}) as first_hour,
             (select min(day) from uptime_daily where node_id = ${n.id}) as first_day`) as unknown as [{ first_hour: Date; first_day: Date }];
    assert.deepEqual([first_hour.toISOString(), first_day.toISOString()], ['2026-12-11T00:00:00.000Z', '2026-12-10T00:00:00.000Z']);
    assert.deepEqual(await uptime(path), before);
    assert.deepEqual(withoutBuckets(await uptime(`${path}&bucket=day`)), before);
    assert.deepEqual(withoutBuckets(await uptime(`${path}&bucket=hour`)), before);
    // The short retention reached every node; the rest of the file expects the configured one.
    await rebuildUptime(h.sql, { all: true }, h.clock.now(), RETENTION);
  });

  it('reports the fleet worst first or by name, filtered by label, a page at a time', async () => {
    h.clock.set('2026-12-20T10:00:00.000Z');
    const [a, b, c, d] = await Promise.all([
      node('fleet-a', { labels: { team: 'red' } }),
      node('fleet-b', { labels: { team: 'red' } }),
      node('fleet-c', { labels: { team: 'red' } }),
      node('fleet-d', { labels: { team: 'blue' } }),
    ]);
    for (const x of [a!, b!, d!]) engine.agents.set(x.id, { token: x.token, status: 'ok' });
    await engine.step(); // a, b and d healthy from 10:00; c never reports
    await liveUntil('2026-12-20T10:30:00.000Z');
    engine.agents.set(b!.id, { token: b!.token, status: 'failing' });
    await engine.step(); // b down from 10:30
    await liveUntil('2026-12-20T11:00:00.000Z');

    const window = 'from=2026-12-20T10:00:00.000Z&to=2026-12-20T11:00:00.000Z';
    const fleet = async (query: string): Promise<FleetBody> => {
      const res = await report(`/v1/uptime?${window}&label=team:red&${query}`);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as FleetBody;
    };
    const worst = await fleet('sort=worst');
    assert.deepEqual(worst, {
      from: '2026-12-20T10:00:00.000Z',
      to: '2026-12-20T11:00:00.000Z',
      uptime_ratio: 90 / 120, // a: 60 of 60 min up, b: 30 of 60, c: nothing monitored
      items: [
        // The seconds behind each ratio, as the node's own report has them, so a report can sum them.
        { node_id: b!.id, name: 'fleet-b', uptime_ratio: 0.5, seconds: seconds({ healthy: 1800, down: 1800 }) },
        { node_id: a!.id, name: 'fleet-a', uptime_ratio: 1, seconds: seconds({ healthy: 3600 }) },
        { node_id: c!.id, name: 'fleet-c', uptime_ratio: null, seconds: seconds({ unknown: 3600 }) },
      ],
      next_cursor: null,
    });
    const byName = await fleet('');
    assert.deepEqual(byName.items.map((i) => i.name), ['fleet-a', 'fleet-b', 'fleet-c']);

    for (const sort of ['worst', 'name']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const pageBody: FleetBody = await fleet(`sort=${sort}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(pageBody.items.length <= 1);
        seen.push(...pageBody.items.map((i) => i.name));
        assert.equal(pageBody.uptime_ratio, 90 / 120);
        cursor = pageBody.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, (sort === 'worst' ? worst : byName).items.map((i) => i.name), sort);
    }
  });

  it('counts a log written with microseconds (by SQL, not by the engine) in whole milliseconds', async () => {
    h.clock.set('2026-12-21T10:00:00.000Z');
    const n = await node('micro-1');
    engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step();
    await liveUntil('2026-12-21T12:00:00.000Z');
    await h.sql`update node_state_log set at = at + interval '0.7 milliseconds' where node_id = ${n.id}`;
    await h.sql`update nodes set created_at = created_at + interval '0.2 milliseconds' where id = ${n.id}`;
    await rebuildUptime(h.sql, { refs: [n.id] }, h.clock.now(), RETENTION);
    const body = await uptime('/v1/nodes/micro-1/uptime?from=2026-12-21T10:00:00.000Z&to=2026-12-21T12:00:00.000Z');
    assert.deepEqual(body.seconds, seconds({ unknown: 0, healthy: 2 * 3600 }));
    assert.deepEqual(withoutBuckets(await uptime('/v1/nodes/micro-1/uptime?from=2026-12-21T09:00:00.000Z&to=2026-12-21T12:00:00.000Z&bucket=hour')), {
      ...body,
      from: '2026-12-21T09:00:00.000Z',
    });
  });

  // Names hold only A-Z a-z 0-9 . _ : - so none needs quoting here (test/unit/uptime-csv.test.ts
  // quotes), but one may start with -, which a spreadsheet reads as a formula.
  it('answers CSV when Accept prefers it or format=csv: every selected node, a leading - defused', async () => {
    h.clock.set('2026-12-22T10:00:00.000Z');
    const [a, b, c] = await Promise.all([
      node('csv.a', { labels: { team: 'csv' } }),
      node('csv.b', { labels: { team: 'csv' } }),
      node('-2-3', { labels: { team: 'csv' } }),
    ]);
    for (const x of [a!, b!]) engine.agents.set(x.id, { token: x.token, status: 'ok' });
    await engine.step(); // a and b healthy from 10:00; c never reports
    await liveUntil('2026-12-22T10:30:00.000Z');
    engine.agents.set(b!.id, { token: b!.token, status: 'failing' });
    await engine.step(); // b down from 10:30
    await liveUntil('2026-12-22T11:00:00.000Z');

    const window = 'from=2026-12-22T10:00:00.000Z&to=2026-12-22T11:00:00.000Z';
    const header = 'node_id,name,uptime_ratio,healthy_seconds,degraded_seconds,down_seconds,maintenance_seconds,unknown_seconds';
    const fleetCsv = [
      header,
      `${c!.id},'-2-3,,0,0,0,0,3600`,
      `${a!.id},csv.a,1,3600,0,0,0,0`,
      `${b!.id},csv.b,0.5,1800,0,1800,0,0`,
      '',
    ].join('\r\n');
    for (const [query, headers] of [
      [`${window}&label=team:csv&format=csv`, {}],
      [`${window}&label=team:csv`, { accept: 'text/csv, application/json;q=0.5' }],
    ] as const) {
      const res = await h.req('GET', `/v1/uptime?${query}`, { token: ADMIN_TOKEN, headers });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8; header=present');
      assert.equal(await res.text(), fleetCsv, query);
    }
    // JSON stays the answer for whoever does not prefer CSV (a browser's */*, a tie).
    const json = await h.req('GET', `/v1/uptime?${window}&label=team:csv`, { token: ADMIN_TOKEN, headers: { accept: 'application/json, text/csv' } });
    assert.match(json.headers.get('content-type')!, /^application\/json/);
    // A CSV answer is the whole selection: no page of it to ask for.
    await expectInvalid(await h.req('GET', `/v1/uptime?${window}&format=csv&limit=1`, { token: ADMIN_TOKEN }), ['limit']);

    const byDay = await h.req('GET', `/v1/nodes/${b!.id}/uptime?${window}&bucket=hour&format=csv`, { token: ADMIN_TOKEN });
    assert.equal(await byDay.text(), 'start,uptime_ratio,healthy_seconds,degraded_seconds,down_seconds,maintenance_seconds,unknown_seconds\r\n2026-12-22T10:00:00.000Z,0.5,1800,0,1800,0,0\r\n');
    const whole = await h.req('GET', `/v1/nodes/${c!.id}/uptime?${window}`, { token: ADMIN_TOKEN, headers: { accept: 'text/csv' } });
    assert.equal(await whole.text(), 'from,to,uptime_ratio,healthy_seconds,degraded_seconds,down_seconds,maintenance_seconds,unknown_seconds\r\n2026-12-22T10:00:00.000Z,2026-12-22T11:00:00.000Z,,0,0,0,0,3600\r\n');
  });

  it('rejects bad parameters with validation_failed naming each field', async () => {
    const cases: Array<[string, string[]]> = [
      ['/v1/nodes/edge-1/uptime?window=1w', ['window']],
      ['/v1/nodes/edge-1/uptime?window=7d&from=2026-11-20T00:00:00Z', ['window']],
      ['/v1/nodes/edge-1/uptime?from=2026-11-22T00:00:00Z&to=2026-11-21T00:00:00Z', ['from']],
      ['/v1/nodes/edge-1/uptime?from=2023-01-01T00:00:00Z&to=2026-11-21T00:00:00Z', ['from']],
      ['/v1/nodes/edge-1/uptime?from=yesterday&to=2026-11-21T00:00:00Z', ['from']],
      ['/v1/nodes/edge-1/uptime?from=2026-11-20T00:00:00Z', ['to']],
      ['/v1/nodes/edge-1/uptime?bucket=week', ['bucket']],
      ['/v1/nodes/edge-1/uptime?bucket=minute&window=2d', ['bucket', 'window']],
      ['/v1/uptime?window=forever', ['window']],
      ['/v1/uptime?sort=best&limit=0', ['sort', 'limit']],
      ['/v1/uptime?cursor=nonsense', ['cursor']],
      ['/v1/uptime?label=nocolon', ['label.0']],
    ];
    for (const [path, fields] of cases) {
      await expectInvalid(await report(path), fields);
    }
    const missing = await report('/v1/nodes/no-such-node/uptime');
    assert.equal(missing.status, 404);
    const ingest = await h.createKey('ingest');
    assert.equal((await h.req('GET', '/v1/uptime', { token: ingest.secret })).status, 403);
    const read = await h.createKey('read');
    assert.equal((await h.req('GET', '/v1/nodes/edge-1/uptime', { token: read.secret })).status, 200);
  });

  it('keeps the rows it maintained equal to a rebuild from the log', async () => {
    const ids = (await h.sql<{ id: string }[]>`select id from nodes order by id`).map((r) => r.id);
    await engine.upkeep.runOnce();
    const kept = await storedUptimeRows(h.sql);
    assert.ok(kept.length > 0);
    await rebuildUptime(h.sql, { refs: ids }, h.clock.now(), RETENTION);
    assert.deepEqual(await storedUptimeRows(h.sql), kept);
  });
});
