import type { Node, NodeWithToken } from '../api/shapes.ts';
import { API_OPTIONS, LIST_OPTIONS, UsageError, type Command } from './command.ts';
import { ago, labels, secretBlock } from './format.ts';

const add: Command = {
  name: 'nodes add',
  args: ['<name>'],
  summary: 'register a node and print its heartbeat token once (or its ping URL, for a scheduled job)',
  example: 'lifeline nodes add web-1 --interval 10 --failures 3 --label role=web',
  options: {
    ...API_OPTIONS,
    interval: { type: 'string', hint: '30', description: 'seconds between heartbeats' },
    grace: { type: 'string', hint: '0', description: 'extra seconds before down (with --schedule: after a scheduled time)' },
    failures: { type: 'string', hint: '3', description: 'missed heartbeats before down' },
    label: { type: 'string', multiple: true, hint: 'k=v', description: 'a label; repeat for more' },
    schedule: { type: 'string', hint: 'cron', description: 'a scheduled job, due by this cron expression instead of heartbeats' },
    'time-zone': { type: 'string', hint: 'zone', description: 'the clock --schedule is read on (default UTC)' },
    'max-run': { type: 'string', hint: 'seconds', description: 'with --schedule: a run that pinged its start is down after this long' },
  },
  async run(ctx) {
    const cron = ctx.string('schedule');
    const common = { name: ctx.arg(0), labels: Object.fromEntries(ctx.strings('label').map((l) => ctx.pair(l, '=', 'label'))) };
    let body: object;
    if (cron === undefined) {
      if (ctx.string('time-zone') !== undefined || ctx.string('max-run') !== undefined) throw new UsageError('--time-zone and --max-run go with --schedule', ctx.command);
      body = { ...common, heartbeat_interval_seconds: ctx.int('interval', 30, 1), grace_seconds: ctx.int('grace', 0), failures_for_down: ctx.int('failures', 3, 1) };
    } else {
      // The expression is the API's to judge, and so is an --interval beside it: both are
      // refused in its words. Flags not given are left out, for the API's defaults.
      const schedule = { cron, time_zone: ctx.string('time-zone'), grace_seconds: ctx.int('grace'), max_run_seconds: ctx.int('max-run', undefined, 1) };
      body = { ...common, schedule, heartbeat_interval_seconds: ctx.int('interval', undefined, 1), failures_for_down: ctx.int('failures', undefined, 1) };
    }
    const node = await ctx.client().post<NodeWithToken>('/v1/nodes', body);
    ctx.print(node, () => {
      const shown = Object.keys(node.labels).length ? `, labels ${labels(node.labels)}` : '';
      if (node.schedule) return scheduledJob(node, node.schedule, shown);
      return (
        `Created node ${node.name} (id ${node.id}): a heartbeat every ${node.heartbeat_interval_seconds}s, ` +
        `down after ${node.failures_for_down} missed + ${node.grace_seconds}s grace${shown}.\n` +
        secretBlock('Node token', node.token!) +
        `\nStart an agent with it:  lifeline agent --interval ${node.heartbeat_interval_seconds} --token <the token>`
      );
    });
  },
};

/** A new scheduled job as created: when it is due, and the URL its crontab pings (it needs no token). */
function scheduledJob(node: Node, schedule: NonNullable<Node['schedule']>, shown: string): string {
  const limit = schedule.max_run_seconds === null ? '' : `, or once a run goes past ${schedule.max_run_seconds}s`;
  const url = node.ping_url ?? `<LIFELINE_PUBLIC_URL>/ping/${node.ping_key}`;
  return (
    `Created scheduled job ${node.name} (id ${node.id}): due at "${schedule.cron}" in ${schedule.time_zone}, ` +
    `down ${schedule.grace_seconds}s after a scheduled time with no success ping${limit}${shown}.\n` +
    `Ping URL: ${url}\n` +
    `In its crontab:  ${schedule.cron} your-job.sh && curl -fsS -m 10 --retry 5 ${url}`
  );
}

const list: Command = {
  name: 'nodes list',
  summary: 'list nodes and their health',
  example: 'lifeline nodes list --state down --label role:web',
  options: {
    ...API_OPTIONS,
    ...LIST_OPTIONS,
    state: { type: 'string', hint: 'state', description: 'unknown, healthy, degraded, down or maintenance' },
    label: { type: 'string', hint: 'k:v', description: 'only nodes carrying this label' },
  },
  async run(ctx) {
    const label = ctx.string('label');
    if (label !== undefined) ctx.pair(label, ':', 'label');
    const page = await ctx.fetchList<Node>('/v1/nodes', { state: ctx.string('state'), label });
    const now = Date.now();
    ctx.list(
      page,
      [
        { header: 'NAME', value: (n) => n.name },
        { header: 'STATE', value: (n) => n.health.state },
        { header: 'SINCE', value: (n) => ago(n.health.since, now) },
        { header: 'LAST HEARTBEAT', value: (n) => ago(n.health.last_heartbeat_at, now) },
        { header: 'EVERY', value: (n) => n.schedule?.cron ?? `${n.heartbeat_interval_seconds}s`, align: 'right' },
        { header: 'LABELS', value: (n) => labels(n.labels) },
        { header: 'REASON', value: (n) => n.health.reason ?? '' },
      ],
      'nodes',
    );
  },
};

export const nodeCommands = [add, list];
