import type { Context } from 'hono';
import { validationFailed } from '../errors.ts';

// One entity-tag of an If-Match list: `"3"`, `W/"3"`, or bare (`3`, as the incidents' `version` is
// documented); then a comma or the end. A quote left open or closed alone matches none of these.
const TAG = /\s*(?:(?:W\/)?"([\x21\x23-\x7e]*)"|([\x21\x23-\x2b\x2d-\x7e]+))\s*(?:,|$)/y;

/**
 * The entity-tags `If-Match` lists, without quotes: a comma-separated list any of which may match
 * (RFC 9110 §13.1.1); undefined when absent or `*`, which is true of any current representation:
 * the row exists (404 otherwise), so any version goes. Every route with a version (nodes, channels,
 * escalation policies, users, schedules, status pages, incidents) reads it here. `W/` is taken as
 * the tag it marks, though RFC 9110 compares If-Match strongly: every ETag here is strong (a row's
 * exact version), a proxy that compresses answers (nginx's gzip) weakens it on the way out, and the
 * API has documented `W/"3"` as accepted since If-Match was first taken; refusing it would turn
 * those clients' every write into a 412. A quote left unbalanced, an empty member, or a tag not of
 * `shape` is 400.
 */
export function ifMatchTags(c: Context, example: string, shape: RegExp): string[] | undefined {
  const raw = c.req.header('if-match');
  if (raw === undefined || raw.trim() === '*') return undefined;
  const tags: string[] = [];
  TAG.lastIndex = 0;
  // A list of at most 64 tags: more is no client's retry, and each costs a comparison.
  for (let members = 0; TAG.lastIndex < raw.length && members < 64; members++) {
    const m = TAG.exec(raw);
    if (!m) break;
    const tag = m[1] ?? m[2]!;
    if (!shape.test(tag)) break;
    tags.push(tag);
    if (TAG.lastIndex === raw.length && !raw.trimEnd().endsWith(',')) return tags;
  }
  throw validationFailed([{ field: 'If-Match', message: `must be ${example}, or a comma-separated list of up to 64 of them` }]);
}

/** The row versions `If-Match` lists (ifMatchTags), each up to 15 digits: an `updated_at` in epoch ms has 13 until the year 2286. */
export const ifMatchAny = (c: Context, example: string): number[] | undefined => ifMatchTags(c, example, /^\d{1,15}$/)?.map(Number);

/**
 * A row's ETag: its `updated_at` in epoch ms, quoted, which every write of a node, channel,
 * escalation policy, user or schedule sets (a status page's names its nodes too: pageTag); the `If-Match` that names it acts on
 * that version only (checkVersion).
 */
export const etag = (row: { updated_at: Date }): string => `"${row.updated_at.getTime()}"`;

/** The header, with a refusal for a stale version, as the operations taking it document them. */
export const IF_MATCH_ETAG = {
  name: 'If-Match',
  in: 'header',
  description: 'Act only if the row is still at this `ETag` (as a GET answered it; `W/` and the quotes are optional), or at any of a comma-separated list of them; 412 `precondition_failed` otherwise. `*` acts on any version',
  schema: { type: 'string' },
} as const;

/** What a refused If-Match says it must be. */
export const ETAG_EXAMPLE = 'an ETag as a GET answered it, e.g. If-Match: "1765123456789"';

/** What a GET answering an ETag says of it. */
export const ETAG_NOTE = 'The answer carries an `ETag` (the row\'s `updated_at` in epoch ms, quoted); sent back as `If-Match` on a PATCH or DELETE, it changes only the version that was read (412 otherwise).';
