import type { Node, NodeWithToken } from '../api/shapes.ts';
import { API_OPTIONS, LIST_OPTIONS, type Command } from './command.ts';
import { ago, labels, secretBlock } from './format.ts';

const add: Command = {
  name: 'nodes add',
  args: ['<name>'],
  summary: 'register a node and print its heartbeat token once',
  example: 'lifeline nodes add web-1 --interval 10 --failures 3 --label role=web',
  options: {
    ...API_OPTIONS,
    interval: { type: 'string', hint: '30', description: 'seconds between heartbeats' },
    grace: { type: 'string', hint: '0', description: 'extra seconds before down' },
    failures: { type: 'string', hint: '3', description: 'missed heartbeats before down' },
    label: { type: 'string', multiple: true, hint: 'k=v', description: 'a label; repeat for more' },
  },
  async run(ctx) {
    const body = {
      name: ctx.arg(0),
      labels: Object.fromEntries(ctx.strings('label').map((l) => ctx.pair(l, '=', 'label'))),
      heartbeat_interval_seconds: ctx.int('interval', 30, 1),
      grace_seconds: ctx.int('grace', 0),
      failures_for_down: ctx.int('failures', 3, 1),
    };
    const node = await ctx.client().post<NodeWithToken>('/v1/nodes', body);
    ctx.print(node, () => {
      const shown = Object.keys(node.labels).length ? `, labels ${labels(node.labels)}` : '';
      return (
        `Created node ${node.name} (id ${node.id}): a heartbeat every ${node.heartbeat_interval_seconds}s, ` +
        `down after ${node.failures_for_down} missed + ${node.grace_seconds}s grace${shown}.\n` +
        secretBlock('Node token', node.token!) +
        `\nStart an agent with it:  lifeline agent --interval ${node.heartbeat_interval_seconds} --token <the token>`
      );
    });
  },
};

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
        { header: 'EVERY', value: (n) => `${n.heartbeat_interval_seconds}s`, align: 'right' },
        { header: 'LABELS', value: (n) => labels(n.labels) },
        { header: 'REASON', value: (n) => n.health.reason ?? '' },
      ],
      'nodes',
    );
  },
};

export const nodeCommands = [add, list];
