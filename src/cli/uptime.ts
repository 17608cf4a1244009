import type { FleetUptime, FleetUptimeItem, NodeState, NodeUptime } from '../api/shapes.ts';
import type { Query } from './client.ts';
import { API_OPTIONS, LIST_OPTIONS, UsageError, type Command, type Context } from './command.ts';
import { duration, percent, when } from './format.ts';
import { renderTable } from './table.ts';

const STATES: NodeState[] = ['healthy', 'degraded', 'down', 'maintenance', 'unknown'];

/**
 * The period as the API is asked for it: --window, or --from with --to; neither is the last 30d.
 * A mix, or a from without a to, goes to the API as given, which names each bad field.
 */
function period(ctx: Context): { query: { window?: string; from?: string; to?: string }; named: (answer: { from: string; to: string }) => string } {
  const from = ctx.string('from');
  const to = ctx.string('to');
  const window = ctx.string('window') ?? (from === undefined && to === undefined ? '30d' : undefined);
  const span = (a: { from: string; to: string }) => `${when(a.from)} to ${when(a.to)}`;
  return { query: { window, from, to }, named: (a) => (window === undefined ? `from ${span(a)}` : `over ${window} (${span(a)})`) };
}

/**
 * --csv: the API's CSV as it wrote it (quoted, names defused), in one request: the fleet's CSV
 * holds every selected node, so there are no pages to follow and --limit has nothing to cut.
 */
async function csvReport(ctx: Context, path: string, query: Query): Promise<void> {
  if (ctx.json) throw new UsageError('--csv and --json cannot go together', ctx.command);
  if (ctx.string('limit') !== undefined) throw new UsageError('--csv prints every node: leave out --limit', ctx.command);
  ctx.io.stdout(await ctx.client().getText(path, { ...query, format: 'csv' }));
}

async function nodeReport(ctx: Context, node: string): Promise<void> {
  const { query, named } = period(ctx);
  const path = `/v1/nodes/${encodeURIComponent(node)}/uptime`;
  if (ctx.flag('csv')) return csvReport(ctx, path, query);
  const u = await ctx.client().get<NodeUptime>(path, query);
  ctx.print(u, () => {
    const ratio = u.uptime_ratio === null ? 'nothing monitored yet' : `${percent(u.uptime_ratio)} up`;
    const summary = `up ${duration(u.up_seconds * 1000)} of ${duration(u.monitored_seconds * 1000)} monitored`;
    const table = renderTable(
      [
        { header: 'STATE', value: (s: NodeState) => s },
        { header: 'TIME', value: (s: NodeState) => duration(u.seconds[s] * 1000), align: 'right' },
      ],
      STATES,
    );
    return `${node} ${named(u)}: ${ratio}, ${summary}\n\n${table}`;
  });
}

async function fleetReport(ctx: Context): Promise<void> {
  const { query, named } = period(ctx);
  const label = ctx.labelFilters();
  if (ctx.flag('csv')) return csvReport(ctx, '/v1/uptime', { ...query, label });
  const fleet = await ctx.fetchList<FleetUptimeItem, FleetUptime>('/v1/uptime', { ...query, label });
  ctx.print(fleet, () => {
    const which = label.length ? `fleet (${ctx.strings('label').map((l) => ctx.label(l).join('=')).join(', ')})` : 'fleet';
    // The ratio is the whole selection's, however few items --limit lists.
    const head = `${which} ${named(fleet)}: ${percent(fleet.uptime_ratio)} up${fleet.next_cursor ? '' : ` over ${fleet.items.length} nodes`}`;
    if (fleet.items.length === 0) return `${head}\n\nNo nodes.`;
    const more = fleet.next_cursor ? `\n(the first ${fleet.items.length}; leave out --limit to list all)` : '';
    const table = renderTable(
      [
        { header: 'NAME', value: (i: FleetUptimeItem) => i.name },
        { header: 'UPTIME', value: (i: FleetUptimeItem) => percent(i.uptime_ratio), align: 'right' },
        ...STATES.filter((s) => s !== 'healthy').map((s) => ({ header: s.toUpperCase(), value: (i: FleetUptimeItem) => duration(i.seconds[s] * 1000), align: 'right' as const })),
      ],
      fleet.items,
    );
    return `${head}\n\n${table}${more}`;
  });
}

export const uptimeCommand: Command = {
  name: 'uptime',
  args: ['[node]'],
  summary: "a node's uptime over a period, time-weighted per state; without a node, every node's (the fleet report)",
  example: 'lifeline uptime --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z --label role=web',
  options: {
    ...API_OPTIONS,
    ...LIST_OPTIONS,
    window: { type: 'string', hint: '30d', description: '24h, 7d, 30d, 90d or 365d, ending now (the default: 30d)' },
    from: { type: 'string', hint: 'time', description: 'RFC 3339 start of the period, with --to, instead of --window' },
    to: { type: 'string', hint: 'time', description: 'RFC 3339 end of the period, with --from' },
    label: { type: 'string', multiple: true, hint: 'k=v', description: 'the fleet report: only nodes carrying this label (key=value or key:value); repeat for more, all of which must match' },
    csv: { type: 'boolean', description: 'print the report as CSV (a row per node; for one node, its one row)' },
  },
  async run(ctx) {
    const node = ctx.arg(0) as string | undefined;
    if (node === undefined) return fleetReport(ctx);
    const given = { label: ctx.strings('label').length > 0, limit: ctx.string('limit') !== undefined };
    for (const flag of ['label', 'limit'] as const) {
      if (given[flag]) throw new UsageError(`--${flag} ${flag === 'label' ? 'selects' : 'cuts'} nodes for the fleet report: leave out <node>, or drop --${flag}`, ctx.command);
    }
    return nodeReport(ctx, node);
  },
};
