// Postgres array literals built in one pass, for set-wise writes of thousands of rows through
// unnest. postgres.js serializes an array parameter element by element (two regex escapes each,
// and a timestamptz element parsed into a Date and printed again); a literal sent as the whole
// parameter passes through untouched and Postgres parses it once.

/**
 * For elements whose text never needs quoting in an array literal: uuids, integers, ISO 8601
 * instants, 'infinity' (no comma, brace, quote, backslash or space). The bare word NULL is a
 * null element, and is passed so on purpose (a reschedule's "no due time"): never quote it.
 */
export function plainArray(xs: ReadonlyArray<string | number>): string {
  return `{${xs.join(',')}}`;
}

const NEEDS_ESCAPE = /["\\]/g;

/** For any text: every element quoted, its quotes and backslashes escaped. */
export function textArray(xs: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < xs.length; i++) {
    if (i > 0) out += ',';
    out += `"${xs[i]!.replace(NEEDS_ESCAPE, '\\$&')}"`;
  }
  return `${out}}`;
}
