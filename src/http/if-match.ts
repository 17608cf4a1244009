import type { Context } from 'hono';
import { validationFailed } from '../errors.ts';

/**
 * The version `If-Match` names: `3`, `"3"` or `W/"3"` (weak or strong alike, as the versions
 * are the rows' own); undefined when absent or `*`, which RFC 9110 §13.1.1 makes true of any
 * current representation: the row exists (404 otherwise), so any version goes. Up to 15 digits:
 * an `updated_at` in epoch ms has 13 until the year 2286.
 */
export function ifMatch(c: Context, example: string): number | undefined {
  const raw = c.req.header('if-match');
  if (raw === undefined || raw.trim() === '*') return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(raw);
  if (!m) throw validationFailed([{ field: 'If-Match', message: `must be ${example}` }]);
  return Number(m[1]);
}

/**
 * A row's ETag: its `updated_at` in epoch ms, quoted, which every write of a node, channel,
 * escalation policy, user, schedule or status page sets; the `If-Match` that names it acts on
 * that version only (checkVersion).
 */
export const etag = (row: { updated_at: Date }): string => `"${row.updated_at.getTime()}"`;

/** The header, with a refusal for a stale version, as the operations taking it document them. */
export const IF_MATCH_ETAG = {
  name: 'If-Match',
  in: 'header',
  description: 'Act only if the row is still at this `ETag` (as a GET answered it; `W/` and the quotes are optional); 412 `precondition_failed` otherwise. `*` acts on any version',
  schema: { type: 'string' },
} as const;

/** What a refused If-Match says it must be. */
export const ETAG_EXAMPLE = 'an ETag as a GET answered it, e.g. If-Match: "1765123456789"';

/** What a GET answering an ETag says of it. */
export const ETAG_NOTE = 'The answer carries an `ETag` (the row\'s `updated_at` in epoch ms, quoted); sent back as `If-Match` on a PATCH or DELETE, it changes only the version that was read (412 otherwise).';
