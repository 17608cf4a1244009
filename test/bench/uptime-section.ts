import { dropRunDatabases } from './databases.ts';
import type { BenchOptions } from './options.ts';
import { preRendered, type Section } from './report.ts';
import type { Scope } from './scope.ts';
import { runUptimeBench } from './uptime.ts';

/**
 * Section 8: uptime.ts measures and renders its own markdown (it also runs on its own), which the
 * report includes as it is.
 */
export async function benchUptime(o: BenchOptions, scope: Scope): Promise<Section> {
  // runUptimeBench drops its database itself; this only matters when the run is interrupted.
  scope.defer('drop the uptime database', () => dropRunDatabases('uptime'));
  const markdown = await runUptimeBench({ nodes: o.uptimeNodes, days: o.uptimeDays });
  return preRendered('8. Uptime over a year of history', markdown);
}
