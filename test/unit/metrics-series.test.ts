import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Sql } from '../../src/db/client.ts';
import { Events } from '../../src/events.ts';
import { STATES } from '../../src/health/decide.ts';
import { FLEET_READ_MS, countEvents, createMetrics } from '../../src/metrics.ts';
import { withPatience } from '../helpers/wait.ts';
import { ManualClock } from '../helpers/clock.ts';
import { testLog } from '../helpers/log.ts';

/** A freshly started process's metrics: the registry /metrics renders, with the engine's events counted. */
function started() {
  const metrics = createMetrics();
  const events = new Events();
  countEvents(metrics, events);
  return { metrics, events, scrape: async () => (await metrics.registry.metrics()).split('\n') };
}

// Prometheus's increase() needs a sample before the first count: a series first scraped at 1 reads
// an increase of 0, so alerts on `increase(...) > 0` miss a single burst unless it was there at 0.
describe('a freshly started process', () => {
  it('shows every labelled counter at 0 for each value its labels can take', async () => {
    const lines = await started().scrape();
    for (const series of [
      'lifeline_ingest_rows_rejected_total{reason="invalid_data"} 0',
      'lifeline_ingest_rows_rejected_total{reason="constraint"} 0',
      'lifeline_evaluator_node_errors_total{kind="other"} 0',
      'lifeline_outbox_events_total{type="node.state_changed",result="dead"} 0',
      'lifeline_outbox_events_total{type="incident.escalation_due",result="dead"} 0',
      'lifeline_notifications_total{channel_type="email",result="dead"} 0',
      'lifeline_notifications_total{channel_type="pagerduty",result="held"} 0',
      'lifeline_loop_errors_total{loop="evaluator"} 0',
      'lifeline_loop_errors_total{loop="delivery-sweeper"} 0',
      'lifeline_heartbeats_received_total{result="accepted"} 0',
      'lifeline_heartbeats_received_total{result="rejected",reason="unauthorized"} 0',
      'lifeline_incidents_unrouted_total{reason="no_policy"} 0',
      'lifeline_incidents_unrouted_total{reason="email_not_configured"} 0',
      'lifeline_fleet_read_failures_total{read="nodes"} 0',
      'lifeline_evaluator_last_pass_timestamp_seconds 0',
      // A standby that takes over the evaluator counts its first transitions from here.
      'lifeline_state_transitions_total{from="healthy",to="down"} 0',
      'lifeline_state_transitions_total{from="unknown",to="healthy"} 0',
      'lifeline_state_transitions_total{from="maintenance",to="unknown"} 0',
    ]) {
      assert.ok(lines.includes(series), `no ${series}`);
    }
    const moves = lines.filter((l) => l.startsWith('lifeline_state_transitions_total{'));
    assert.equal(moves.length, STATES.length * (STATES.length - 1), 'one series per move between two different states');
    assert.ok(moves.every((l) => l.endsWith(' 0') && !/from="(\w+)",to="\1"/.test(l)), moves.join('\n'));
  });

  it('has a series of every counter and histogram of its own, but the HTTP durations by route', async () => {
    // A labelled counter made without zeroed() or counterFrom() has none until its first count.
    const empty = (await started().metrics.registry.getMetricsAsJSON())
      .filter((m) => m.name.startsWith('lifeline_') && ['counter', 'histogram'].includes(String(m.type)) && m.values.length === 0)
      .map((m) => m.name);
    assert.deepEqual(empty, ['lifeline_http_request_duration_seconds']);
  });

  it('tells an HTTP answer of 20 s from a hung one: its bucket is 30 s, not only +Inf', async () => {
    const { metrics, scrape } = started();
    metrics.http.observe({ method: 'GET', route: '/metrics', status: '200' }, 20);
    const lines = await scrape();
    assert.ok(lines.includes('lifeline_http_request_duration_seconds_bucket{le="10",method="GET",route="/metrics",status="200"} 0'), lines.join('\n'));
    assert.ok(lines.includes('lifeline_http_request_duration_seconds_bucket{le="30",method="GET",route="/metrics",status="200"} 1'));
  });

  it('passes promtool check metrics, but for the default nodejs_* series', { skip: spawnSync('promtool', ['--version']).error ? 'promtool is not installed' : false }, async () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: (await started().scrape()).join('\n'), encoding: 'utf8' });
    const ours = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() && !l.startsWith('nodejs_'));
    assert.deepEqual(ours, []);
  });
});

describe('the evaluator freshness gauge', () => {
  it('holds the end of the last leading pass, and 0 once leadership is lost', async () => {
    const { events, scrape } = started();
    events.emit('evaluator.leadership', true);
    events.emit('evaluator.tick', 0.02, new Date('2026-12-07T10:00:00.000Z'));
    assert.ok((await scrape()).includes('lifeline_evaluator_last_pass_timestamp_seconds 1796637600'));
    events.emit('evaluator.leadership', false);
    assert.ok((await scrape()).includes('lifeline_evaluator_last_pass_timestamp_seconds 0'));
  });
});

describe('the fleet gauges', () => {
  it('count a failed Postgres read, by read, and keep their last values', async () => {
    const refused = (() => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }))) as unknown as Sql;
    const metrics = createMetrics({ sql: refused, clock: new ManualClock('2026-12-07T10:00:00.000Z'), log: testLog });
    const lines = (await metrics.registry.metrics()).split('\n');
    for (const read of ['nodes', 'incidents', 'outbox', 'deliveries']) {
      assert.ok(lines.includes(`lifeline_fleet_read_failures_total{read="${read}"} 1`), `${read} read failure not counted`);
    }
  });
});

describe('a scrape while Postgres or Redis does not answer', () => {
  // A read that never settles: a connection whose packets go nowhere.
  const hanging = () => new Promise<never>(() => {});

  it('answers without waiting on the reads: the gauges as they were, how old they are, and the dependencies down', async () => {
    const metrics = createMetrics({
      sql: hanging as unknown as Sql,
      clock: new ManualClock('2026-12-07T10:00:00.000Z'),
      log: testLog,
      dependencies: { postgres: hanging, redis: async () => {} },
    });
    const lines = (await withPatience('a scrape with Postgres hanging', metrics.registry.metrics())).split('\n');
    for (const series of [
      'lifeline_metrics_read_age_seconds{read="nodes"} +Inf',
      'lifeline_metrics_read_age_seconds{read="outbox"} +Inf',
      'lifeline_dependency_up{dependency="postgres"} 0',
      'lifeline_dependency_up{dependency="redis"} 1',
    ]) {
      assert.ok(lines.includes(series), `no ${series}`);
    }
  });

  it('says how old the last answered read is', async () => {
    const clock = new ManualClock('2026-12-07T10:00:00.000Z');
    let answer: () => Promise<unknown> = async () => [];
    const sql = (() => answer()) as unknown as Sql;
    const metrics = createMetrics({ sql, clock, log: testLog, dependencies: { postgres: () => answer() } });
    await metrics.registry.metrics();
    answer = hanging;
    clock.advance(12_000);
    const lines = (await metrics.registry.metrics()).split('\n');
    assert.ok(lines.includes('lifeline_metrics_read_age_seconds{read="incidents"} 12'), lines.filter((l) => l.startsWith('lifeline_metrics_read_age')).join('\n'));
    assert.ok(lines.includes('lifeline_dependency_up{dependency="postgres"} 0'));
  });
});

describe('a dependency check that never settles', () => {
  const hanging = () => new Promise<never>(() => {});

  it('is joined by one new check once it is older than FLEET_READ_MS, so a recovered dependency reads up', async () => {
    const clock = new ManualClock('2026-12-07T10:00:00.000Z');
    let checks = 0;
    let check: () => Promise<unknown> = hanging;
    const metrics = createMetrics({ sql: (async () => []) as unknown as Sql, clock, log: testLog, dependencies: { postgres: () => (checks++, check()) } });
    const up = async () => (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith('lifeline_dependency_up{dependency="postgres"}'));
    assert.equal(await up(), 'lifeline_dependency_up{dependency="postgres"} 0');
    clock.advance(FLEET_READ_MS - 1);
    await up();
    assert.equal(checks, 1, 'a pending check younger than FLEET_READ_MS is waited on, not joined');
    clock.advance(1);
    check = async () => {};
    assert.equal(await up(), 'lifeline_dependency_up{dependency="postgres"} 1');
    assert.equal(checks, 2);
  });

  it('has at most one more check in flight beside it', async () => {
    const clock = new ManualClock('2026-12-07T10:00:00.000Z');
    let checks = 0;
    const metrics = createMetrics({ sql: (async () => []) as unknown as Sql, clock, log: testLog, dependencies: { postgres: () => (checks++, hanging()) } });
    for (let i = 0; i < 3; i++) {
      await metrics.registry.metrics();
      clock.advance(FLEET_READ_MS);
    }
    assert.equal(checks, 2);
  });
});

describe('the build info', () => {
  it('names the release and the roles, at 1', async () => {
    const { metrics, scrape } = started();
    metrics.buildInfo.set({ version: '1.2.3', roles: 'api,evaluator' }, 1);
    assert.ok((await scrape()).includes('lifeline_build_info{version="1.2.3",roles="api,evaluator"} 1'));
  });
});
