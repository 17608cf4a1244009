// The uptime reports as CSV (RFC 4180), for a spreadsheet or a script that sums them.

import { NODE_STATES, type StateMs } from './state-time.ts';

export type CsvCell = string | number | null;

/**
 * Text a spreadsheet would run as a formula: = + - @ (and tab or CR, which some strip before
 * looking) at the start. Node names are free text, so a name such as `=HYPERLINK(…)` would become
 * a live link, or worse, in whoever opens the report; a leading ' makes it text (OWASP's advice).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: numbers as they are, null empty, text defused then quoted when it must be. */
function cell(value: CsvCell): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header row and the rows, each line ended by CRLF as RFC 4180 has it. */
export function csvText(header: readonly string[], rows: Iterable<readonly CsvCell[]>): string {
  let out = header.map(cell).join(',') + '\r\n';
  for (const row of rows) out += row.map(cell).join(',') + '\r\n';
  return out;
}

/** The per-state columns, in the order the JSON's `seconds` has them. */
export const SECONDS_COLUMNS = NODE_STATES.map((s) => `${s}_seconds`);
export const secondsCells = (seconds: StateMs): number[] => NODE_STATES.map((s) => seconds[s]);
