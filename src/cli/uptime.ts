import type { NodeState, NodeUptime } from '../api/shapes.ts';
import { API_OPTIONS, type Command } from './command.ts';
import { duration, percent, when } from './format.ts';
import { renderTable } from './table.ts';

const STATES: NodeState[] = ['healthy', 'degraded', 'down', 'maintenance', 'unknown'];

export const uptimeCommand: Command = {
  name: 'uptime',
  args: ['<node>'],
  summary: "a node's uptime over a window, time-weighted per state",
  example: 'lifeline uptime web-1 --window 7d',
  options: { ...API_OPTIONS, window: { type: 'string', hint: '30d', description: '24h, 7d, 30d, 90d or 365d' } },
  async run(ctx) {
    const node = ctx.arg(0);
    const window = ctx.string('window') ?? '30d';
    const u = await ctx.client().get<NodeUptime>(`/v1/nodes/${encodeURIComponent(node)}/uptime`, { window });
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
      return `${node} over ${window} (${when(u.from)} to ${when(u.to)}): ${ratio}, ${summary}\n\n${table}`;
    });
  },
};
