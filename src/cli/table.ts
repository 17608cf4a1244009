// Plain-text tables for terminals: a header row and columns padded to their widest cell.

export interface Column<T> {
  header: string;
  value(row: T): string;
  /** Numbers read better right-aligned. */
  align?: 'left' | 'right';
}

const SEPARATOR = '  ';

/**
 * Cells come from the API (titles, reasons, labels set by agents): a line break or tab in one
 * would break every row after it, so control characters become spaces.
 */
function cell(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

// Code points, not UTF-16 units, so an emoji in a label does not shift its column.
const width = (s: string) => [...s].length;

export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const grid = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.value(r))))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => width(line[i]!))));
  return grid
    .map((line) =>
      line
        .map((text, i) => {
          const pad = ' '.repeat(widths[i]! - width(text));
          return columns[i]!.align === 'right' ? pad + text : text + pad;
        })
        .join(SEPARATOR)
        .trimEnd(),
    )
    .join('\n');
}

/**
 * One record as `Key:  value` lines, the values lined up, as a table lines up many: `nodes show`.
 * Values are cleaned as cells are (a reason is the API's text).
 */
export function renderFacts(facts: ReadonlyArray<readonly [string, string]>): string {
  const keys = Math.max(...facts.map(([key]) => width(key))) + 1;
  return facts.map(([key, value]) => `${`${key}:`.padEnd(keys)}${SEPARATOR}${cell(value)}`.trimEnd()).join('\n');
}
