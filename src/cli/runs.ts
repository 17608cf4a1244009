import type { Run } from '../api/shapes.ts';
import { INVISIBLE } from '../invisible.ts';
import { API_OPTIONS, LIST_OPTIONS, type Command } from './command.ts';
import { duration, when } from './format.ts';
import { nodePath } from './client.ts';
import type { Column } from './table.ts';

/** The characters of a run's output a row shows, its end, where the console's runs cut it too (`…` and 60). */
const OUTPUT_CHARS = 60;

/**
 * The end of an output on one line (the table makes its line breaks spaces), `…` where it was cut.
 * Colour sequences go first: cut after, "ERROR\x1b[0m" showed as "ERROR [0m" (the table makes the
 * ESC a space and leaves the rest), and each one took characters of the 60 from the text.
 */
function outputEnd(output: string | null): string {
  // Code points, so an emoji is never cut in half.
  const chars = [...(output ?? '').replace(INVISIBLE, '').trimEnd()];
  return chars.length > OUTPUT_CHARS ? `…${chars.slice(-OUTPUT_CHARS).join('')}` : chars.join('');
}

/** A run a row: as `runs` lists them and `nodes show` shows a job's last few. */
export const RUN_COLUMNS: readonly Column<Run>[] = [
  { header: 'STARTED', value: (r) => when(r.started_at) },
  { header: 'FINISHED', value: (r) => when(r.finished_at) },
  { header: 'TOOK', value: (r) => (r.duration_ms === null ? '' : duration(r.duration_ms)), align: 'right' },
  { header: 'STATUS', value: (r) => r.status },
  { header: 'EXIT', value: (r) => (r.exit_code === null ? '' : String(r.exit_code)), align: 'right' },
  { header: 'OUTPUT', value: (r) => outputEnd(r.output) },
];

export const runsCommand: Command = {
  name: 'runs',
  args: ['<node>'],
  summary: "a scheduled job's recent runs (by id or name), newest first: when, how long, how it ended, its output's end",
  example: 'lifeline runs backup --limit 10',
  options: { ...API_OPTIONS, ...LIST_OPTIONS },
  async run(ctx) {
    const page = await ctx.fetchList<Run>(`${nodePath(ctx.arg(0))}/runs`);
    ctx.list(page, RUN_COLUMNS, 'runs');
  },
};
