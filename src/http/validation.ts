import type { Context, MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { ApiError } from './errors.ts';
import { MAX_DETAILS, Refusal, validationFailed, type ErrorDetail } from '../errors.ts';
import { isUuid } from '../db/ids.ts';
import { BIDI_REFUSED, hasBidiControls } from '../invisible.ts';
import { canonicalZone, isZoneName } from '../local-time.ts';
import { LABEL_KEY, LABEL_KEY_RULE, LABEL_VALUE_MAX, LABEL_VALUE_RULE, MAX_LABEL_FILTERS, parseLabel, UNADDRESSABLE_NAME, unaddressableName } from '../nodes/model.ts';

/** An object's entry that is absent: valibot says `Invalid key: Expected "url" but received undefined`. */
const missingKey = (issue: v.BaseIssue<unknown>) => issue.kind === 'schema' && issue.type === 'object' && issue.received === 'undefined';

function details(issues: readonly v.BaseIssue<unknown>[]): ErrorDetail[] {
  // Only what is shown is spelled out: a dot path costs more than the check that found it.
  return issues.slice(0, MAX_DETAILS).map((issue) => ({ field: v.getDotPath(issue) ?? '(body)', message: missingKey(issue) ? 'is required' : issue.message }));
}

export function parse<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true });
  if (!result.success) throw validationFailed(details(result.issues));
  return result.output;
}

/** Reads a JSON body: 415 unless it is declared JSON, 400 invalid_json unless it parses. */
export async function readJson(c: Context): Promise<unknown> {
  return jsonOf(c, await c.req.text());
}

function jsonOf(c: Context, text: string): unknown {
  if (!isJsonType(c.req.header('content-type'))) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json.');
  }
  return parseJson(text);
}

/** Whether a Content-Type declares JSON (application/json, application/…+json). */
export const isJsonType = (type: string | undefined): boolean => /^application\/([a-z0-9.+-]*\+)?json\b/i.test((type ?? '').trim());

/**
 * How deep a body's arrays and objects may nest. The deepest body any route reads is ~6 levels (a
 * schedule's layers' restrictions); JSON.parse of a 1 MiB body that is one 500,000-deep array
 * took 130-600 ms of CPU, and walking it for unstorable text longer.
 */
const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` opens more than `max` arrays and objects inside each other, strings left out: one
 * pass over the characters, before JSON.parse is given them. Exact for valid JSON; on invalid JSON
 * it is exact up to the first error, which is as far as JSON.parse reads.
 */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // To the closing quote; a backslash takes the character after it along.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * A body declared JSON, parsed: 400 invalid_json unless it parses, 400 validation_failed when it
 * nests deeper than MAX_JSON_DEPTH or holds text Postgres cannot store.
 */
export function parseJson(text: string): unknown {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new Refusal('validation_failed', `The body nests arrays and objects too deeply: at most ${MAX_JSON_DEPTH} levels.`, [
      { field: '(body)', message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The body is not valid JSON.');
  }
  // Only an escape (\u0000, \ud800) can put such a character in a value: JSON refuses them raw
  // inside strings and out, and the text itself was checked. Two native scans of an agent's
  // ~60-byte body cost ~0.2 µs where walking what it parsed into cost ~2 µs (a million of each, load 10).
  if (!text.includes('\\u') && isStorableText(text)) return value;
  const unstorable = unstorableText(value);
  if (unstorable.length) throw validationFailed(unstorable);
  return value;
}

/*
 * One rule for every string a request carries (body values and keys, path, query parameters,
 * cursors): Postgres stores neither U+0000 (text and jsonb refuse it) nor a UTF-16 surrogate
 * without its pair (jsonb refuses the escape; text silently stores U+FFFD instead).
 */
const UNSTORABLE_MESSAGE = 'must not contain U+0000 or an unpaired UTF-16 surrogate';

// Two native scans: less than half the cost of one regular expression with lookarounds.
export const isStorableText = (s: string): boolean => !s.includes('\u0000') && s.isWellFormed();

/** An object or array still to be read, and where it sits. */
interface Container {
  value: object;
  /** The member name or array index it sits under; undefined at the root. */
  key: string | number | undefined;
  parent: Container | undefined;
}

// A field named deep inside a 1 MiB body could otherwise be a megabyte long.
const MAX_PATH_CHARS = 200;

// Walks up to the root: at most `limit` times per value, each time past at most MAX_JSON_DEPTH
// containers for a body (parseJson refuses deeper ones first), so 20 finds cost no more than 1,280 steps.
function dotPath(parent: Container | undefined, key: string | number | undefined): string {
  const keys: (string | number)[] = key === undefined ? [] : [key];
  for (let c = parent; c?.key !== undefined; c = c.parent) keys.push(c.key);
  const path = keys.reverse().join('.');
  if (path === '') return '(body)';
  return path.length > MAX_PATH_CHARS ? `${path.slice(0, MAX_PATH_CHARS)}…` : path;
}

/**
 * Every string of a parsed JSON value that Postgres could not store, object keys included, named by
 * its dotted path (the first `limit` of them). One pass with an explicit stack of containers:
 * JSON.parse accepts nesting far deeper than the call stack. Paths are only spelled out for what
 * is reported, and strings and numbers cost no allocation: a clean 1000-heartbeat batch (150 kB)
 * costs about a third of its JSON.parse. Arrays are walked by index: for-in would make a string of
 * every index (500,000 of them in a 1 MiB array of numbers, ~150 ms).
 */
export function unstorableText(value: unknown, limit = MAX_DETAILS): ErrorDetail[] {
  if (typeof value === 'string') return isStorableText(value) ? [] : [{ field: '(body)', message: UNSTORABLE_MESSAGE }];
  const found: ErrorDetail[] = [];
  const stack: Container[] = typeof value === 'object' && value !== null ? [{ value, key: undefined, parent: undefined }] : [];
  const visit = (at: Container, key: string | number, item: unknown) => {
    if (typeof item === 'string') {
      if (!isStorableText(item)) found.push({ field: dotPath(at, key), message: UNSTORABLE_MESSAGE });
    } else if (typeof item === 'object' && item !== null) {
      stack.push({ value: item, key, parent: at });
    }
  };
  while (stack.length && found.length < limit) {
    const at = stack.pop()!;
    if (Array.isArray(at.value)) {
      const items: unknown[] = at.value;
      for (let i = 0; i < items.length; i++) visit(at, i, items[i]);
      continue;
    }
    const members = at.value as Record<string, unknown>;
    // JSON.parse only makes own, enumerable members: for-in sees exactly those.
    for (const key in members) {
      if (!isStorableText(key)) found.push({ field: dotPath(at, key), message: `is a key that ${UNSTORABLE_MESSAGE}` });
      visit(at, key, members[key]);
    }
  }
  return found.slice(0, limit);
}

/**
 * The same rule for the path (ids) and the query of every request, whichever route reads them.
 * Percent-decoding can only produce U+0000 here: an encoded lone surrogate is invalid UTF-8 and
 * stays encoded.
 */
export function refuseUnstorableText(): MiddlewareHandler {
  return async (c, next) => {
    refuseUnstorableRequestText(c);
    await next();
  };
}

/** The rule above as a step of a middleware that does more (the /v1 gate). */
export function refuseUnstorableRequestText(c: Context): void {
  const found = unstorableRequestText(c);
  if (found.length) throw validationFailed(found);
}

/** The path and the query parameters (by name) that hold text Postgres cannot store. */
export function unstorableRequestText(c: Context): ErrorDetail[] {
  const found: ErrorDetail[] = isStorableText(c.req.path) ? [] : [{ field: 'path', message: UNSTORABLE_MESSAGE }];
  // Most requests have no query: parsing an absent one still cost a URL split and an object.
  if (c.req.url.includes('?')) {
    for (const [name, values] of Object.entries(c.req.queries())) {
      if (!isStorableText(name) || values.some((s) => !isStorableText(s))) found.push({ field: name, message: UNSTORABLE_MESSAGE });
    }
  }
  return found;
}

export async function body<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  return parse(schema, await readJson(c));
}

/**
 * The query as `schema` reads it: each parameter as its one value, those named in `repeated` as
 * every value given (`?label=a=1&label=b=2`), so a second one is read, not dropped.
 */
export function query<S extends v.GenericSchema>(c: Context, schema: S, repeated: readonly string[] = []): v.InferOutput<S> {
  const q: Record<string, string | string[]> = c.req.query();
  for (const name of repeated) {
    const all = c.req.queries(name);
    if (all) q[name] = all;
  }
  return parse(schema, q);
}

/**
 * JSON Schema keywords for the OpenAPI document where valibot's converter cannot see what a schema
 * accepts (v.custom, v.rawCheck, v.check and transforms convert to nothing). A metadata action does
 * nothing when parsing; @valibot/to-json-schema copies its keys onto the converted schema.
 */
export const documented = <T>(keywords: Record<string, unknown>) => v.metadata<T, Record<string, unknown>>(keywords);

// Shared field schemas.
export const NodeName = v.pipe(
  v.string('must be a string'),
  v.regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -'),
);

/**
 * A name a node is given (create, rename). A reference (a heartbeat's `node`, a window's or a
 * page's nodes) stays a NodeName, so a node named `.` or `..` before these were refused still
 * reports and can be named there until it is renamed by its id.
 */
export const NewNodeName = v.pipe(NodeName, v.check((name) => !unaddressableName(name), UNADDRESSABLE_NAME));

const intFromQuery = (min: number, max: number, fallback: number) =>
  v.pipe(
    v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d+$/, 'must be an integer'),
        v.transform(Number),
        v.minValue(min, `must be at least ${min}`),
        v.maxValue(max, `must be at most ${max}`),
      ),
      String(fallback),
    ),
    // Query values are text to the parser but integers to a reader of the OpenAPI document.
    documented({ type: 'integer', minimum: min, maximum: max, default: fallback }),
  );

export const Paging = {
  limit: intFromQuery(1, 500, 50),
  cursor: v.optional(v.string()),
};

/** Cursors are opaque to clients: base64url JSON of the last item's sort key. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, check: (k: unknown) => k is T): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (unstorableText(key, 1).length === 0 && check(key)) return key;
  } catch {
    // fall through to the error below
  }
  throw validationFailed([{ field: 'cursor', message: 'is not a cursor this endpoint issued' }]);
}

export function page<T>(items: T[], limit: number, keyOf: (last: T) => unknown) {
  const more = items.length > limit;
  const shown = more ? items.slice(0, limit) : items;
  return { items: shown, next_cursor: more ? encodeCursor(keyOf(shown[shown.length - 1]!)) : null };
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

// valibot's object and record schemas accept arrays (they are objects); JSON bodies must not.
const plainObject = () => v.custom<Record<string, unknown>>(isPlainObject, 'must be a JSON object');

/** An object whose unknown fields are ignored (forward-compatible agent payloads). */
export function openObject<E extends v.ObjectEntries>(entries: E) {
  return v.pipe(plainObject(), v.object(entries));
}

/**
 * An object that rejects unknown fields, naming every one of them beside every bad known field in
 * one answer. valibot's strictObject stops at the first unknown field; as a check of its own in a
 * pipe, an issue before the object hid every type error and one after it never ran.
 */
export function closedObject<E extends v.ObjectEntries>(entries: E) {
  const shape = v.object(entries);
  const closed: typeof shape = v._standardSchema({
    ...shape,
    '~run'(dataset, config) {
      const input = dataset.value as Record<string, unknown>;
      const checked = shape['~run'](dataset, config);
      let unknown = 0;
      for (const key of Object.keys(input)) {
        // Only as many as are shown: an issue costs far more than a key.
        if (!Object.hasOwn(entries, key) && unknown++ < MAX_DETAILS) {
          v._addIssue(this, 'key', checked, config, {
            input: input[key],
            message: 'is not a known field',
            path: [{ type: 'object', origin: 'value', input, key, value: input[key] }],
          });
        }
      }
      return checked;
    },
  });
  return v.pipe(plainObject(), closed, documented({ additionalProperties: false }));
}

/*
 * Cost before work: an array's or a record's size is checked before any of its items, and an item
 * is only read when the size fits. valibot checks a pipe's length actions after the items of its
 * array; a 1 MiB body of 500,000 bad items then cost ~4 s of CPU for one answer. A schema later
 * in a pipe never runs once an earlier step has found an issue.
 */

/** An array of at most `max` (and at least `min`) items, counted before any item is read. */
export function boundedArray<S extends v.GenericSchema>(item: S, message: string, max: number, tooMany: string, min = 0, tooFew = tooMany) {
  return v.pipe(v.array(v.unknown(), message), v.minLength(min, tooFew), v.maxLength(max, tooMany), v.array(item, message));
}

/** A JSON object of at most `max` members, counted before any member is read. */
export function plainRecord<K extends v.GenericSchema<string, string | number | symbol>, V extends v.GenericSchema>(key: K, value: V, max: number, tooMany: string) {
  return v.pipe(plainObject(), v.check((o) => Object.keys(o).length <= max, tooMany), v.record(key, value));
}

/** A JSON body that may be left out entirely (an action with only optional fields). */
export async function optionalBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  const text = c.req.raw.body === null ? '' : await c.req.text();
  return parse(schema, text.trim() === '' ? {} : jsonOf(c, text));
}

/** An integer in [min, max]. */
export const int = (min: number, max: number) =>
  v.pipe(v.number('must be a number'), v.integer('must be an integer'), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`));

/** Node labels, and the labels a maintenance window matches nodes by. */
export const Labels = plainRecord(
  v.pipe(v.string(), v.regex(LABEL_KEY, LABEL_KEY_RULE)),
  v.pipe(v.string('label values must be strings'), v.maxLength(LABEL_VALUE_MAX, LABEL_VALUE_RULE)),
  64,
  'at most 64 labels',
);

/**
 * A `?label=` filter, read by the same rule as the CLI's `--label` and the console's filter
 * (parseLabel): `role=web` or `role:web`. A malformed one is a 400 naming the rule it broke.
 */
export const LabelFilter = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const label = parseLabel(dataset.value);
    if ('problem' in label) {
      addIssue({ message: label.problem });
      return NEVER;
    }
    return label;
  }),
);

/** What the node list and the fleet report say of their `?label=`. */
export const LABEL_FILTERS_NOTE = `Only nodes carrying this label, as \`key=value\` or \`key:value\`; repeat it (at most ${MAX_LABEL_FILTERS}) for several, all of which must match`;

/**
 * `?label=` repeated, every one of which a node must carry (carriesLabels), as the console's filter
 * reads it; read with `query(c, schema, ['label'])`, or all but one would be dropped unseen.
 */
export const LabelFilters = v.optional(v.pipe(v.array(LabelFilter), v.maxLength(MAX_LABEL_FILTERS, `at most ${MAX_LABEL_FILTERS} labels`)));

/** An email address as a channel or a user carries it. */
export const Email = v.pipe(v.string('must be a string'), v.maxLength(254, 'must be at most 254 characters'), v.email('must be an email address'));

/**
 * UTC or an IANA zone name (isZoneName: no abbreviations, which name other zones), kept
 * as listed (`europe/berlin` → Europe/Berlin, Asia/Kolkata as typed).
 */
export const TimeZone = v.pipe(
  v.string('must be a string'),
  v.maxLength(64, 'must be at most 64 characters'),
  v.check(isZoneName, 'must be UTC or an IANA time zone: use an IANA name such as America/New_York, not an abbreviation such as EST'),
  v.transform(canonicalZone),
);

/**
 * A change's body without its `time_zone` when that is the zone the row keeps: nothing to change,
 * and a zone kept before TimeZone's rule (EST) must not refuse the rest of an edit. Edit forms
 * always send the zone back.
 */
export function keepingZone(input: unknown, kept: string): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input) || (input as { time_zone?: unknown }).time_zone !== kept) return input;
  const { time_zone: _, ...rest } = input as Record<string, unknown>;
  return rest;
}

/** A list of ids of one kind of thing (`channel`, `user`…): at most `max`, none twice. */
export const idList = (noun: string, max: number) =>
  v.pipe(
    boundedArray(v.pipe(v.string('must be a string'), v.uuid(`must be a ${noun} id`)), `must be an array of ${noun} ids`, max, `must name at most ${max} ${noun}s`),
    v.check((ids) => new Set(ids).size === ids.length, `must not name a ${noun} twice`),
  );

/** The check refusing bidirectional controls, for a schema's pipe. */
export const noBidiControls = () => v.check((s: string) => !hasBidiControls(s), BIDI_REFUSED);

/**
 * A human-facing name (people, keys, channels, escalation policies, schedules and their layers,
 * status pages and their components): trimmed, 1-128 characters, no bidirectional controls.
 */
export const DisplayName = v.pipe(
  v.string('must be a string'),
  v.trim(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(128, 'must be at most 128 characters'),
  noBidiControls(),
);

// Date() rolls 2026-02-30 over into March instead of refusing it.
const isCalendarDate = (s: string) => {
  const [y, m, d] = s.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
};

/*
 * Instants Postgres, Date and the driver all carry unchanged: Postgres refuses year 0 and anything
 * Date writes with a six-digit year, and postgres.js reads years below 100 back as 19xx or 20xx.
 * A monitoring system has nothing to say before 1970.
 */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(10_000, 0, 1) - 1;
const isStorableTime = (s: string) => {
  const ms = Date.parse(s);
  return ms >= EARLIEST_MS && ms <= LATEST_MS;
};

/** An RFC 3339 timestamp with an offset, as a Date. */
export const Timestamp = v.pipe(
  v.string('must be a string'),
  v.isoTimestamp('must be an RFC 3339 timestamp such as 2026-11-21T10:00:00.000Z'),
  v.check(isCalendarDate, 'is not a calendar date'),
  v.check(isStorableTime, 'must be between 1970 and 9999'),
  v.transform((s) => new Date(s)),
);

/** A time in a cursor: what this server issued (Date.toISOString()), so one Postgres can read. */
export const isCursorTime = (k: unknown): k is string =>
  typeof k === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(k) && isStorableTime(k);

/** A (name, id) cursor: lists by name, the id breaking ties (channels, users, schedules). */
export const isNameCursor = (k: unknown): k is [name: string, id: string] =>
  Array.isArray(k) && k.length === 2 && typeof k[0] === 'string' && typeof k[1] === 'string' && isUuid(k[1]);

/** A (time, id) cursor: lists by a time, the id breaking ties (maintenance windows, overrides). */
export const isTimeCursor = (k: unknown): k is [at: string, id: string] =>
  Array.isArray(k) && k.length === 2 && isCursorTime(k[0]) && typeof k[1] === 'string' && isUuid(k[1]);

/** An integer a Postgres `integer` column can be compared with. */
export const isInt32 = (k: unknown): k is number => Number.isInteger(k) && Math.abs(k as number) < 2 ** 31;
