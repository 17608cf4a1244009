// The Grafana dashboard and the Prometheus alert rules may only ask for what the engine really
// exports: every lifeline_* series they query must exist in the engine's metrics registry, with the
// labels it really has, and none of them may break a panel down per node.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createMetrics } from '../../src/metrics.ts';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(ROOT + path, 'utf8');
const DASHBOARD = 'ops/grafana/dashboards/lifeline.json';
const ALERTS = 'ops/prometheus/alerts.yml';

interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
}
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const dashboard = JSON.parse(read(DASHBOARD)) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string }> };
};
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
const rules = (parse(read(ALERTS)) as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const scrape = parse(read('ops/prometheus/prometheus.yml')) as {
  scrape_configs: Array<{ job_name: string; relabel_configs?: Array<{ target_label?: string }> }>;
};

/** Every query with where it comes from, for messages. */
const queries = [
  ...queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr, legend: t.legendFormat ?? '' }))),
  ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr, legend: Object.values(r.annotations ?? {}).join(' ') })),
];

/** The engine's metrics: name → type and label names, from the registry /metrics is rendered from. */
async function engineMetrics(): Promise<Map<string, { type: string; labels: readonly string[] }>> {
  const { registry } = createMetrics();
  // prom-client keeps each metric's configured labelNames on the instance.
  const labels = new Map(registry.getMetricsAsArray().map((m) => [m.name, (m as { labelNames?: readonly string[] }).labelNames ?? []]));
  const metrics = await registry.getMetricsAsJSON();
  return new Map(metrics.map((m) => [m.name, { type: String(m.type), labels: labels.get(m.name) ?? [] }]));
}

/** Labels Prometheus adds to every scraped series: job, instance, and what relabelling sets. */
const targetLabels = new Set([
  'job',
  'instance',
  ...scrape.scrape_configs.flatMap((job) => (job.relabel_configs ?? []).flatMap((r) => (r.target_label ? [r.target_label] : []))),
]);

const metricNames = (expr: string) => [...expr.matchAll(/\blifeline_[a-z0-9_]+/g)].map((m) => m[0]);
/** `metric{a="x", b=~"y"}` → [metric, [a, b]]; a bare `{...}` has an empty metric. */
const selectors = (expr: string) =>
  [...expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)?\{([^}]*)\}/g)]
    .filter((m) => !m[0].startsWith('{{'))
    .map((m) => [m[1] ?? '', [...m[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!)] as const);
const groupings = (expr: string) =>
  [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean));
/**
 * `{{state}}` in a legend, `{{ $labels.state }}` anywhere in an annotation (`{{ with $labels.service }}`);
 * not the template's own words (`{{ end }}`).
 */
const templated = (text: string) => [
  ...[...text.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)].map((m) => m[1]!).filter((w) => w !== 'end' && w !== 'else'),
  ...[...text.matchAll(/\$labels\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!),
];

const PER_NODE = /^(node|node_id|node_name|name|id|host|hostname)$/;

test('the dashboard is a provisionable Grafana dashboard: fixed uid, prometheus datasource chosen by a variable, unique panel ids, panels on the grid', () => {
  assert.equal(dashboard.uid, 'lifeline-overview');
  assert.ok(dashboard.title);
  assert.equal(typeof dashboard.schemaVersion, 'number');
  assert.ok(queryPanels.length > 0);
  assert.deepEqual(
    dashboard.templating.list.filter((v) => v.name === 'datasource').map((v) => [v.type, v.query]),
    [['datasource', 'prometheus']],
    'a datasource variable offers the Prometheus datasources',
  );
  const ids = dashboard.panels.map((p) => p.id);
  assert.ok(ids.every((id) => Number.isInteger(id) && id > 0));
  assert.equal(new Set(ids).size, ids.length, 'panel ids must be unique');
  for (const p of queryPanels) {
    // Never a fixed uid: imported into another Grafana, whose Prometheus has its own, it would show nothing.
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel "${p.title}"`);
    assert.ok(p.targets?.length, `panel "${p.title}" has no query`);
    assert.equal(new Set(p.targets.map((t) => t.refId)).size, p.targets.length, `panel "${p.title}" repeats a refId`);
    for (const t of p.targets) {
      assert.ok(t.expr.trim(), `panel "${p.title}" has an empty query`);
      if (t.datasource) assert.equal(t.datasource.uid, '${datasource}');
    }
  }
  // No panel hangs off the 24-column grid or covers another.
  const boxes = dashboard.panels.map((p) => ({ title: p.title, ...p.gridPos }));
  for (const [i, a] of boxes.entries()) {
    assert.ok(a.x >= 0 && a.w > 0 && a.x + a.w <= 24 && a.h > 0 && a.y >= 0, `panel "${a.title}" is off the grid`);
    for (const b of boxes.slice(i + 1)) {
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      assert.ok(!overlap, `panels "${a.title}" and "${b.title}" overlap`);
    }
  }
});

test('every lifeline_* series the dashboard and the alert rules query is exported by the engine', async () => {
  const exported = await engineMetrics();
  let checked = 0;
  for (const { where, expr } of queries) {
    for (const name of metricNames(expr)) {
      checked++;
      if (exported.has(name)) continue;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(
        base !== name && ['histogram', 'summary'].includes(exported.get(base)?.type ?? ''),
        `${where} queries ${name}, which the engine does not export`,
      );
    }
  }
  assert.ok(checked > 0);
});

test('queries use only labels the engine or Prometheus puts on the series, and none per node', async () => {
  const exported = await engineMetrics();
  const labelsOf = (metric: string) => exported.get(metric.replace(/_(bucket|sum|count)$/, ''))?.labels ?? [];
  const engineLabels = new Set([...exported.values()].flatMap((m) => m.labels));
  const known = new Set([...engineLabels, ...targetLabels, 'le']);
  for (const { where, expr, legend } of queries) {
    const used = [...groupings(expr), ...templated(legend), ...selectors(expr).flatMap(([, labels]) => labels)];
    for (const label of used) {
      assert.doesNotMatch(label, PER_NODE, `${where} breaks series down per node (${label})`);
      assert.ok(known.has(label), `${where} uses label "${label}", which no Lifeline series carries`);
    }
    for (const [metric, labels] of selectors(expr)) {
      if (!metric.startsWith('lifeline_')) continue;
      for (const label of labels) {
        assert.ok(labelsOf(metric).includes(label) || targetLabels.has(label), `${where} filters ${metric} on "${label}", which it does not have`);
      }
    }
  }
  assert.ok(!engineLabels.has('node_id') && !engineLabels.has('node'), 'the engine itself exports a per-node label');
});

/** The labels only ops/prometheus's relabelling adds: a process scraped by a plain job has none of them. */
const relabelled = new Set([...targetLabels].filter((l) => l !== 'job' && l !== 'instance'));

test('every panel shows data for a process scraped without relabelling (`npm start` and a static target)', () => {
  assert.ok(relabelled.has('service'));
  for (const p of queryPanels) {
    for (const t of p.targets ?? []) {
      for (const m of t.expr.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
        const [, label, op, value] = m as unknown as [string, string, string, string];
        if (!relabelled.has(label)) continue;
        // A series without the label has it empty: the matcher must take the empty value.
        const matchesEmpty = op === '=' ? value === '' : op === '!=' ? value !== '' : op === '=~' ? new RegExp(`^(?:${value})$`).test('') : !new RegExp(`^(?:${value})$`).test('');
        assert.ok(matchesEmpty, `panel "${p.title}" needs ${label}${op}"${value}", which a process scraped without relabelling lacks`);
      }
    }
  }
});

test('the dashboard shows fleet state, transitions, incidents, notifications, outbox, evaluator, ingest and HTTP latency', () => {
  const used = new Set(queryPanels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr))));
  for (const name of [
    'lifeline_nodes',
    'lifeline_state_transitions_total',
    'lifeline_incidents_open',
    'lifeline_notifications_total',
    'lifeline_notification_latency_seconds_bucket',
    'lifeline_outbox_pending',
    'lifeline_outbox_oldest_pending_seconds',
    'lifeline_evaluator_tick_seconds_bucket',
    'lifeline_evaluator_leader',
    'lifeline_heartbeats_received_total',
    'lifeline_http_request_duration_seconds_bucket',
    'lifeline_deliveries_pending',
    'lifeline_deliveries_oldest_pending_seconds',
    'lifeline_evaluator_last_pass_timestamp_seconds',
    'lifeline_fleet_read_failures_total',
    'lifeline_incidents_unrouted_total',
  ]) {
    assert.ok(used.has(name), `no panel shows ${name}`);
  }
});

test('alert rules cover leadership, outbox backlog, dead and held notifications and scrape failures, each with severity and text', () => {
  const names = rules.map((r) => r.alert);
  assert.equal(new Set(names).size, names.length, 'alert names must be unique');
  for (const name of [
    'LifelineNoEvaluatorLeader',
    'LifelineSeveralEvaluatorLeaders',
    'LifelineOutboxBacklogOld',
    'LifelineNotificationsDead',
    'LifelineNotificationsHeld',
    'LifelineScrapeDown',
    'LifelineEvaluatorStalled',
    'LifelineFleetGaugesStale',
    'LifelineDeliveriesOld',
    'LifelineIncidentsUnrouted',
    'LifelineApiErrors',
    'LifelineNotificationsFailing',
  ]) {
    assert.ok(names.includes(name), `missing alert ${name}`);
  }
  // Pages held for a secret the key cannot open never end dead: without their own alert nobody is told.
  const held = rules.find((r) => r.alert === 'LifelineNotificationsHeld');
  assert.match(held?.expr ?? '', /lifeline_notifications_total\{result="held"\}/);
  assert.equal(held?.labels?.severity, 'critical');
  for (const r of rules) {
    assert.ok(r.expr.trim(), `${r.alert} has no expression`);
    assert.ok(['critical', 'warning'].includes(r.labels?.severity ?? ''), `${r.alert} needs severity critical or warning`);
    assert.ok(r.annotations?.summary && r.annotations.description, `${r.alert} needs a summary and a description`);
    if (r.for !== undefined) assert.match(r.for, /^\d+[smh]$/);
  }
});

// promtool is Prometheus's own checker; where it is installed it also parses every expression.
const promtool = spawnSync('promtool', ['--version']).error ? undefined : 'promtool';

test('promtool accepts the Prometheus config, the alert rules and every dashboard expression', { skip: promtool ? false : 'promtool is not installed' }, () => {
  const run = (...args: string[]) => {
    const r = spawnSync(promtool!, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  };
  run('check', 'config', ROOT + 'ops/prometheus/prometheus.yml');
  run('check', 'rules', ROOT + ALERTS);
  // Dashboard queries, checked as recording rules (JSON is valid YAML).
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-dashboard-'));
  try {
    const record = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ record: `lifeline_dashboard:panel${p.id}_${t.refId}`, expr: t.expr })));
    writeFileSync(join(dir, 'dashboard-rules.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules: record }] }));
    run('check', 'rules', join(dir, 'dashboard-rules.yml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Synthetic series through the alert rules, by promtool's rule tests: the rules must fit a single
// process as well as the compose stack, and count heartbeats refused against heartbeats sent.
test('promtool: the alert rules fire for a missing role (combined roles counted), a stalled flush, a dependency down, refused heartbeats, a first refused row or unrouted page, a stalled leader and an old delivery, a backlog whose read is late or not reported (an older release), not for a stale process\'s backlog nor a single healthy process', { skip: promtool ? false : 'promtool is not installed' }, () => {
  const up = (labels: string) => ({ series: `up{job="lifeline",${labels}}`, values: '1x30' });
  const beats = (labels: string, perMinute: number) => ({ series: `lifeline_heartbeats_received_total{job="lifeline",instance="a:8080",${labels}}`, values: `0+${perMinute}x30` });
  const quiet = (alertname: string) => ({ eval_time: '20m', alertname, exp_alerts: [] });
  const build = (instance: string, roles: string, service?: string) => ({
    series: `lifeline_build_info{job="lifeline",instance="${instance}",${service ? `service="${service}",` : ''}version="1.0.0",roles="${roles}"}`,
    values: '1x30',
  });
  /** A series of one process; `name` may carry labels of its own. */
  const processSeries = (instance: string, name: string, values: string) => {
    const [metric, labels] = name.includes('{') ? [name.slice(0, name.indexOf('{')), `,${name.slice(name.indexOf('{') + 1, -1)}`] : [name, ''];
    return { series: `${metric}{job="lifeline",instance="${instance}"${labels}}`, values };
  };
  /** Two series of each process `p` (instance p:8080), by their values. */
  const pairs = (first: string, second: string, values: Record<string, [string, string]>) =>
    Object.entries(values).flatMap(([p, [one, two]]) => [processSeries(`${p}:8080`, first, one), processSeries(`${p}:8080`, second, two)]);
  const tests = [
    // `npm start`: one process running every role, scraped by a static target, no service label.
    { interval: '1m', input_series: [up('instance="localhost:8080"'), build('localhost:8080', 'api,evaluator,outbox,notifier'), beats('result="accepted"', 600), beats('result="rejected",reason="unauthorized"', 30)], alert_rule_test: [quiet('LifelineServiceMissing'), quiet('LifelineHeartbeatsRejected')] },
    // The compose stack with the api and the evaluator in one process (service api), beside a worker.
    {
      interval: '1m',
      input_series: [up('instance="10.0.0.2:8080",service="api"'), build('10.0.0.2:8080', 'api,evaluator', 'api'), up('instance="10.0.0.3:8080",service="worker"'), build('10.0.0.3:8080', 'outbox,notifier', 'worker')],
      alert_rule_test: [quiet('LifelineServiceMissing')],
    },
    // The same with the worker gone: its roles are missing, by name.
    {
      interval: '1m',
      input_series: [up('instance="10.0.0.2:8080",service="api"'), build('10.0.0.2:8080', 'api,evaluator', 'api')],
      alert_rule_test: [{ eval_time: '5m', alertname: 'LifelineServiceMissing', exp_alerts: ['outbox', 'notifier'].map((roles) => ({ exp_labels: { severity: 'critical', roles } })) }],
    },
    // No Lifeline target at all: every role is missing.
    {
      interval: '1m',
      input_series: [{ series: 'up{job="prometheus",instance="127.0.0.1:9090"}', values: '1x30' }],
      alert_rule_test: [{ eval_time: '5m', alertname: 'LifelineServiceMissing', exp_alerts: ['api', 'evaluator', 'outbox', 'notifier'].map((roles) => ({ exp_labels: { severity: 'critical', roles } })) }],
    },
    // An api whose flush has been held since 60 s with heartbeats waiting (a), beside a healthy one
    // flushing every scrape (b) and a worker that buffers nothing (c, last flush 0): only a, once
    // its last flush is over 60 s old. Each of b's scrapes sees a flush under 1 s old.
    {
      interval: '1m',
      input_series: pairs('lifeline_ingest_buffered_heartbeats', 'lifeline_ingest_last_flush_timestamp_seconds', { a: ['3+50x10', '0 60x10'], b: ['40x10', '0+60x10'], c: ['0x10', '0x10'] }),
      alert_rule_test: [
        { eval_time: '2m', alertname: 'LifelineIngestFlushStalled', exp_alerts: [] },
        { eval_time: '3m', alertname: 'LifelineIngestFlushStalled', exp_alerts: [{ exp_labels: { severity: 'critical', job: 'lifeline', instance: 'a:8080' } }] },
      ],
    },
    // Redis down under one process for 2 minutes, Postgres answering: one alert, after 1 minute.
    {
      interval: '1m',
      input_series: [
        processSeries('a:8080', 'lifeline_dependency_up{dependency="postgres"}', '1x10'),
        processSeries('a:8080', 'lifeline_dependency_up{dependency="redis"}', '1 1 0 0 0 1 1 1'),
      ],
      alert_rule_test: [
        { eval_time: '2m', alertname: 'LifelineDependencyDown', exp_alerts: [] },
        { eval_time: '3m', alertname: 'LifelineDependencyDown', exp_alerts: [{ exp_labels: { severity: 'critical', job: 'lifeline', instance: 'a:8080', dependency: 'redis' } }] },
        { eval_time: '6m', alertname: 'LifelineDependencyDown', exp_alerts: [] },
      ],
    },
    // A process whose reads stopped at 10 minutes of outbox backlog keeps saying so; the one whose
    // reads are fresh says 0: only fresh series count, so no alert.
    {
      interval: '1m',
      input_series: pairs('lifeline_outbox_oldest_pending_seconds', 'lifeline_metrics_read_age_seconds{read="outbox"}', { a: ['600x10', '0+60x10'], b: ['0x10', '3x10'] }),
      alert_rule_test: [{ eval_time: '5m', alertname: 'LifelineOutboxBacklogOld', exp_alerts: [] }],
    },
    // A backlog read slower than the scrape's 1 s gives each scrape the previous answer, one scrape
    // interval and 1 s old (16 s at 15 s): its backlog still counts, as does that of a process of an
    // older release that exports no read age at all (a rolling upgrade).
    {
      interval: '1m',
      input_series: pairs('lifeline_outbox_oldest_pending_seconds', 'lifeline_metrics_read_age_seconds{read="outbox"}', { a: ['600x10', '16x10'], b: ['0x10', '3x10'] }),
      alert_rule_test: [{ eval_time: '5m', alertname: 'LifelineOutboxBacklogOld', exp_alerts: [{ exp_labels: { severity: 'critical' } }] }],
    },
    {
      interval: '1m',
      input_series: [processSeries('a:8080', 'lifeline_deliveries_oldest_pending_seconds', '1000x10'), processSeries('b:8080', 'lifeline_deliveries_oldest_pending_seconds', '0x10'), processSeries('b:8080', 'lifeline_metrics_read_age_seconds{read="deliveries"}', '3x10')],
      alert_rule_test: [{ eval_time: '5m', alertname: 'LifelineDeliveriesOld', exp_alerts: [{ exp_labels: { severity: 'critical' } }] }],
    },
    // 10 heartbeats a second stored, 2 refused for a bad token and 0.1 as invalid: 17 % refused, one alert per reason.
    {
      interval: '1m',
      input_series: [up('instance="a:8080"'), beats('result="accepted"', 600), beats('result="rejected",reason="unauthorized"', 120), beats('result="rejected",reason="invalid"', 6)],
      alert_rule_test: [{ eval_time: '20m', alertname: 'LifelineHeartbeatsRejected', exp_alerts: ['unauthorized', 'invalid'].map((reason) => ({ exp_labels: { severity: 'warning', reason } })) }],
    },
    // A process that starts its counters at 0 (as the engine does): one refused row, one page to
    // nobody, is one increase, and fires.
    {
      interval: '1m',
      input_series: [
        up('instance="a:8080"'),
        { series: 'lifeline_ingest_rows_rejected_total{job="lifeline",instance="a:8080",reason="invalid_data"}', values: '0 0 0 1 1 1 1 1 1 1' },
        { series: 'lifeline_incidents_unrouted_total{job="lifeline",instance="a:8080",reason="no_policy"}', values: '0 0 0 1 1 1 1 1 1 1' },
      ],
      alert_rule_test: [
        { eval_time: '5m', alertname: 'LifelineIngestRowsRejected', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
        { eval_time: '5m', alertname: 'LifelineIncidentsUnrouted', exp_alerts: [{ exp_labels: { severity: 'critical', reason: 'no_policy' } }] },
      ],
    },
    // A leader that holds the lock but stopped finishing passes at 60 s (a follower shows 0); and a
    // delivery that has waited 16 minutes.
    {
      interval: '1m',
      input_series: [
        up('instance="a:8080"'),
        { series: 'lifeline_evaluator_leader{job="lifeline",instance="a:8080"}', values: '1x10' },
        { series: 'lifeline_evaluator_last_pass_timestamp_seconds{job="lifeline",instance="a:8080"}', values: '0 60x10' },
        { series: 'lifeline_evaluator_leader{job="lifeline",instance="b:8080"}', values: '0x10' },
        { series: 'lifeline_evaluator_last_pass_timestamp_seconds{job="lifeline",instance="b:8080"}', values: '0x10' },
        { series: 'lifeline_deliveries_oldest_pending_seconds{job="lifeline",instance="a:8080"}', values: '0+120x10' },
        processSeries('a:8080', 'lifeline_metrics_read_age_seconds{read="deliveries"}', '2x10'),
      ],
      alert_rule_test: [
        { eval_time: '2m', alertname: 'LifelineEvaluatorStalled', exp_alerts: [] },
        { eval_time: '5m', alertname: 'LifelineEvaluatorStalled', exp_alerts: [{ exp_labels: { severity: 'critical' } }] },
        { eval_time: '7m', alertname: 'LifelineDeliveriesOld', exp_alerts: [] },
        { eval_time: '8m', alertname: 'LifelineDeliveriesOld', exp_alerts: [{ exp_labels: { severity: 'critical' } }] },
      ],
    },
  ];
  promtoolRuleTests(tests);
});

// The annotations rendered with real labels: a text that names a label the target lacks says
// nothing (`Lifeline  at …`), which the rule test above cannot see, having left them out.
test('promtool: LifelineScrapeDown names the target by job and instance, and by service where it has one', { skip: promtool ? false : 'promtool is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-alerts-'));
  const down = (labels: Record<string, string>, named: string) => ({
    exp_labels: { severity: 'critical', job: 'lifeline', ...labels },
    exp_annotations: {
      summary: `Lifeline target ${labels.instance} (${named}) does not answer /metrics`,
      description: `Prometheus could not scrape ${labels.instance} (${named}) for 1 minute: the process is down, stuck or unreachable.`,
    },
  });
  const tests = [
    {
      interval: '1m',
      input_series: [
        // `npm start`: one process, scraped by a static target, no service label.
        { series: 'up{job="lifeline",instance="localhost:8080"}', values: '0x10' },
        // The compose stack's relabelled worker.
        { series: 'up{job="lifeline",instance="10.0.0.3:8080",service="worker"}', values: '0x10' },
      ],
      alert_rule_test: [
        {
          eval_time: '5m',
          alertname: 'LifelineScrapeDown',
          exp_alerts: [down({ instance: '10.0.0.3:8080', service: 'worker' }, 'job lifeline, service worker'), down({ instance: 'localhost:8080' }, 'job lifeline')],
        },
      ],
    },
  ];
  try {
    writeFileSync(join(dir, 'alerts.test.yml'), JSON.stringify({ rule_files: [ROOT + ALERTS], evaluation_interval: '1m', tests }));
    const r = spawnSync(promtool!, ['test', 'rules', join(dir, 'alerts.test.yml')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool test rules:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs promtool's rule tests over the alert rules less their annotations (text, which promtool compares too). */
function promtoolRuleTests(tests: unknown[]): void {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-alerts-'));
  try {
    const bare = (parse(read(ALERTS)) as { groups: Array<{ rules: Rule[] }> }).groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _, ...r }) => r) }));
    writeFileSync(join(dir, 'alerts.yml'), JSON.stringify({ groups: bare }));
    writeFileSync(join(dir, 'alerts.test.yml'), JSON.stringify({ rule_files: [join(dir, 'alerts.yml')], evaluation_interval: '1m', tests }));
    const r = spawnSync(promtool!, ['test', 'rules', join(dir, 'alerts.test.yml')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool test rules:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A failing receiver or a Postgres that resets connections was first heard of at 15 minutes (a
// delivery that old), or not at all: the API's 5xx and the failed share of delivery attempts.
test('promtool: LifelineApiErrors fires past 5% 5xx answers for 5 min, LifelineNotificationsFailing when most attempts of a channel type fail; neither for a single error, probes answering 503, a retry that gets through or held pages', { skip: promtool ? false : 'promtool is not installed' }, () => {
  const answers = (status: string, perMinute: string) => ({
    series: `lifeline_http_request_duration_seconds_count{job="lifeline",instance="a:8080",method="POST",route="/v1/heartbeats",status="${status}"}`,
    values: perMinute,
  });
  const attempts = (channel_type: string, result: string, values: string) => ({
    series: `lifeline_notifications_total{job="lifeline",instance="a:8080",channel_type="${channel_type}",result="${result}"}`,
    values,
  });
  promtoolRuleTests([
    // 600 answers a minute, 60 of them 503 (9 %): fires once that has lasted 5 minutes.
    {
      interval: '1m',
      input_series: [answers('202', '0+600x20'), answers('503', '0+60x20')],
      alert_rule_test: [
        { eval_time: '4m', alertname: 'LifelineApiErrors', exp_alerts: [] },
        { eval_time: '10m', alertname: 'LifelineApiErrors', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
      ],
    },
    // A notifier-only worker with Redis down answers every probe 503 and nothing else: not the API.
    {
      interval: '1m',
      input_series: [
        { series: 'lifeline_http_request_duration_seconds_count{job="lifeline",instance="w:8080",method="GET",route="/readyz",status="503"}', values: '0+6x20' },
        { series: 'lifeline_http_request_duration_seconds_count{job="lifeline",instance="w:8080",method="GET",route="/healthz",status="200"}', values: '0+6x20' },
      ],
      alert_rule_test: [{ eval_time: '15m', alertname: 'LifelineApiErrors', exp_alerts: [] }],
    },
    // 3 % of answers failing, and a single 500, are noise.
    {
      interval: '1m',
      input_series: [answers('202', '0+600x20'), answers('500', '0+18x20'), answers('404', '0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1')],
      alert_rule_test: [{ eval_time: '15m', alertname: 'LifelineApiErrors', exp_alerts: [] }],
    },
    // A webhook receiver that refuses every attempt; a Slack blip each of whose failures the next
    // retry got through (half of the attempts); email that works; PagerDuty pages held unsent.
    {
      interval: '1m',
      input_series: [
        attempts('webhook', 'failed', '0+2x20'),
        attempts('webhook', 'sent', '0x20'),
        attempts('slack', 'failed', '0+1x20'),
        attempts('slack', 'sent', '0+1x20'),
        attempts('email', 'failed', '0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'),
        attempts('email', 'sent', '0+3x20'),
        attempts('pagerduty', 'held', '0+2x20'),
      ],
      alert_rule_test: [
        { eval_time: '4m', alertname: 'LifelineNotificationsFailing', exp_alerts: [] },
        { eval_time: '7m', alertname: 'LifelineNotificationsFailing', exp_alerts: [{ exp_labels: { severity: 'warning', channel_type: 'webhook' } }] },
      ],
    },
  ]);
});

/** The query of a dashboard panel's target. */
const panelQuery = (id: number, refId = 'A') => queryPanels.find((p) => p.id === id)?.targets?.find((t) => t.refId === refId)?.expr ?? assert.fail(`no panel ${id} ${refId}`);

test('promtool: the evaluator pass age shows while no process is leader, and the notification success leaves held pages out', { skip: promtool ? false : 'promtool is not installed' }, () => {
  const series = (name: string, labels: string, values: string) => ({ series: `${name}{job="lifeline",${labels}}`, values });
  promtoolRuleTests([
    {
      interval: '1m',
      input_series: [
        // a was leader and finished passes until 2 min, then lost the lock: every process shows 0.
        series('lifeline_evaluator_last_pass_timestamp_seconds', 'instance="a:8080"', '0 60 120 0x60'),
        series('lifeline_evaluator_last_pass_timestamp_seconds', 'instance="b:8080"', '0x62'),
        // One page sent a minute; 8 held a minute for a secret the notifier cannot open.
        series('lifeline_notifications_total', 'instance="a:8080",channel_type="webhook",result="sent"', '0+1x62'),
        series('lifeline_notifications_total', 'instance="a:8080",channel_type="webhook",result="held"', '0+8x62'),
        series('lifeline_notifications_total', 'instance="a:8080",channel_type="webhook",result="failed"', '0x62'),
      ],
      promql_expr_test: [
        { expr: panelQuery(25), eval_time: '10m', exp_samples: [{ labels: '{}', value: 480 }] },
        { expr: panelQuery(12), eval_time: '1h', exp_samples: [{ labels: '{}', value: 1 }] },
      ],
    },
  ]);
});
