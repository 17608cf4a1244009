import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import type { FleetUptime, FleetUptimeItem, NodeUptime, UptimeBucket } from '../../api/shapes.ts';
import { getNode } from '../../nodes/store.ts';
import type { Bucket } from '../../uptime/buckets.ts';
import { fleetUptime, nodeBreakdown } from '../../uptime/report.ts';
import { combine, NODE_STATES, perState, type StateMs } from '../../uptime/state-time.ts';
import { summarize } from '../../uptime/summary.ts';
import { csvText, secondsCells, SECONDS_COLUMNS } from '../../uptime/csv.ts';
import { resolveWindow, UPTIME_WINDOWS, type Window } from '../../uptime/windows.ts';
import { FLEET_SORTS, FleetWalks, type FleetSelection, type KeptItem, type WalkKey } from '../fleet-walks.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { notFound, Refusal, validationFailed, type ErrorDetail } from '../../errors.ts';
import { operationDocs } from '../openapi.ts';
import { closedObject, decodeCursor, isCursorTime, LABEL_FILTERS_NOTE, LabelFilters, page, Paging, query } from '../validation.ts';

const iso = (t: number) => new Date(t).toISOString();

const WindowFields = {
  window: v.optional(v.string()),
  from: v.optional(v.string()),
  to: v.optional(v.string()),
  format: v.optional(v.picklist(['json', 'csv'], 'must be json or csv')),
};

/**
 * CSV when asked for by `format=csv` (a link pasted into a spreadsheet's import or a browser cannot
 * set a header), or when `Accept` gives text/csv a higher q than application/json: a wildcard names
 * neither, so a browser and every client that says nothing still get JSON, as does a tie.
 */
function wantsCsv(format: 'json' | 'csv' | undefined, accept: string | undefined): boolean {
  if (format) return format === 'csv';
  const q = (type: string) => {
    for (const range of (accept ?? '').split(',')) {
      const [media, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
      if (media !== type) continue;
      const given = params.find((p) => p.startsWith('q='));
      return given === undefined ? 1 : Number(given.slice(2)) || 0;
    }
    return 0;
  };
  return q('text/csv') > q('application/json');
}

const csvAnswer = (c: Context, text: string) => c.body(text, 200, { 'content-type': 'text/csv; charset=utf-8; header=present' });

/**
 * A CSV fleet report holds every selected node, no page of it: a spreadsheet wants the whole
 * report in one file, and the selection is computed whole for any page anyway. 100,000 rows of
 * ~110 bytes is ~11 MB; a larger fleet is asked per label.
 */
const MAX_CSV_ROWS = 100_000;

export const NodeUptimeQuery = closedObject({
  ...WindowFields,
  bucket: v.optional(v.picklist(['hour', 'day'], 'must be hour or day')),
});

export const FleetQuery = closedObject({
  ...WindowFields,
  ...Paging,
  sort: v.optional(v.picklist(FLEET_SORTS, `must be one of ${FLEET_SORTS.join(', ')}`), 'name'),
  label: LabelFilters,
});

/**
 * The query and its window, with every bad field named at once: the schema's own problems and
 * the window's (unknown window, from after to, a range over 3 × 366 days, window with from/to).
 */
function readQuery<S extends v.GenericSchema<unknown, { window?: string; from?: string; to?: string }>>(
  c: Context,
  schema: S,
  now: number,
  repeated: readonly string[] = [],
): { q: v.InferOutput<S>; window: Window } {
  const details: ErrorDetail[] = [];
  let q: v.InferOutput<S> | undefined;
  try {
    q = query(c, schema, repeated);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    details.push(...(err.details ?? []));
  }
  const raw = c.req.query();
  const window = resolveWindow({ window: raw.window, from: raw.from, to: raw.to }, now);
  if ('error' in window) details.push(window.error);
  if (details.length || q === undefined || 'error' in window) throw validationFailed(details);
  return { q, window };
}

function renderBucket(b: Bucket): UptimeBucket {
  const { uptime_ratio, seconds } = summarize(b.ms);
  return { start: iso(b.start), uptime_ratio, seconds };
}

const ratioOf = (ms: StateMs) => summarize(ms).uptime_ratio;

type WorstKey = [number | null, string];

// Names compared by UTF-16 code unit (names are ASCII, so byte-wise), as the cursors always have.
const nameOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Worst first: lowest ratio, nodes with nothing monitored last, ties by name. On the fields, not
 * on key pairs: sorting 100,000 items compares ~1.7M times, and a pair per side was two arrays each.
 */
function worstOrder(ra: number | null, na: string, rb: number | null, nb: string): number {
  if (ra !== rb) {
    if (ra === null) return 1;
    if (rb === null) return -1;
    return ra - rb;
  }
  return nameOrder(na, nb);
}
/** What a sort's key is read from: a kept item, or the shown one a page ends with. */
type Sorted = Pick<KeptItem, 'name' | 'uptime_ratio'>;
const worstKey = (i: Sorted): WorstKey => [i.uptime_ratio, i.name];
const isWorstKey = (k: unknown): k is WorstKey =>
  Array.isArray(k) && k.length === 2 && (k[0] === null || typeof k[0] === 'number') && typeof k[1] === 'string';

/** Each sort's order on items and the key its cursors carry. */
const ORDERS = {
  name: { keyOf: (i: Sorted): string => i.name, isKey: (k: unknown): k is string => typeof k === 'string', compare: nameOrder },
  worst: { keyOf: worstKey, isKey: isWorstKey, compare: (a: WorstKey, b: WorstKey) => worstOrder(a[0], a[1], b[0], b[1]) },
} as const;

/**
 * A fleet cursor: the window of the walk's first page and the last item's sort key. The window is
 * checked as if it were asked for now (it was when it was issued, and time only moves on), and
 * must come back unclipped: a tampered `to` in the future is refused, not shortened.
 */
type FleetCursor<K> = [from: string, to: string, after: K];
function readFleetCursor<K>(cursor: string | undefined, isKey: (k: unknown) => k is K, now: number): { window: Window; after: K } | undefined {
  let window: Window | undefined;
  const isCursor = (c: unknown): c is FleetCursor<K> => {
    if (!Array.isArray(c) || c.length !== 3 || !isCursorTime(c[0]) || !isCursorTime(c[1]) || !isKey(c[2])) return false;
    const resolved = resolveWindow({ from: c[0], to: c[1] }, now);
    if ('error' in resolved || resolved.to !== Date.parse(c[1])) return false;
    window = resolved;
    return true;
  };
  const read = decodeCursor(cursor, isCursor);
  return read && { window: window!, after: read[2] };
}

/** A kept item as an answer shows it, its seconds read from the selection's array. */
function shown(selection: FleetSelection, { at, ...item }: KeptItem): FleetUptimeItem {
  const first = at * NODE_STATES.length;
  return { ...item, seconds: perState((state) => selection.seconds[first + NODE_STATES.indexOf(state)]!) };
}

/** Where the items after `after` start, by bisection (the items are in `compare`'s order). */
function startAfter<K>(items: readonly Sorted[], after: K | undefined, keyOf: (i: Sorted) => K, compare: (a: K, b: K) => number): number {
  if (after === undefined) return 0;
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(keyOf(items[mid]!), after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How far a cursor's window may end after this process's clock: pages of one walk may be served by
 * api processes on different hosts, whose clocks NTP keeps within milliseconds; 5 min also bounds
 * how far a hand-made cursor can make the report look past now.
 */
const CURSOR_CLOCK_SKEW_MS = 5 * 60_000;

const doc = operationDocs('Uptime');
/** What csvAnswer sends, as the 200's other media type: a header row, then the rows. */
const CSV = { 'text/csv': { type: 'string', description: 'A header row (`header=present`), then the rows' } } as const;
const WINDOW_NOTES = {
  window: `The period up to now: ${Object.keys(UPTIME_WINDOWS).join(', ')} (default 30d). Not with from/to`,
  from: 'RFC 3339 start of the period, with to (at most 3 × 366 days)',
  to: 'RFC 3339 end of the period, with from',
  format: 'csv answers text/csv (as does an Accept preferring text/csv to application/json): a header row, then the rows; a name starting with = + - @ is prefixed with \'',
};

export function uptimeRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();
  const select = async ({ labels, window, sort }: WalkKey): Promise<FleetSelection> => {
    // A later page's window may end a little after this process's clock (another api process
    // issued it): computed as of its end, as the page that issued it was.
    const nodes = await fleetUptime(sql, { labels }, window, Math.max(clock.now().getTime(), window.to));
    // The seconds behind each ratio come from the same time per state, so they cost no query.
    const seconds = new Float64Array(nodes.length * NODE_STATES.length);
    const items = nodes.map((n, at): KeptItem => {
      NODE_STATES.forEach((state, k) => (seconds[at * NODE_STATES.length + k] = n.ms[state] / 1000));
      return { node_id: n.id, name: n.name, uptime_ratio: ratioOf(n.ms), at };
    });
    if (sort === 'worst') items.sort((a, b) => worstOrder(a.uptime_ratio, a.name, b.uptime_ratio, b.name));
    return { uptime_ratio: ratioOf(combine(nodes.map((n) => n.ms))), items, seconds };
  };
  const walks = new FleetWalks({ clock, load: select });

  app.get(
    '/nodes/:id/uptime',
    doc({
      summary: "A node's uptime",
      description: 'Up = healthy + degraded; monitored = everything but maintenance and unknown; time before the node existed is not counted. Exact to the moment of the request.',
      access: 'read',
      id: 'The node id or name',
      query: NodeUptimeQuery,
      queryNotes: { ...WINDOW_NOTES, format: `${WINDOW_NOTES.format}. As CSV, one row per bucket with bucket, else one row`, bucket: 'Also break the period down by hour or day' },
      ok: { status: 200, description: "The node's uptime (as CSV for `format=csv` or `Accept: text/csv`).", body: 'NodeUptime', alternatives: CSV },
    }),
    requireScope('read'),
    async (c) => {
      const now = clock.now().getTime();
      const { q, window } = readQuery(c, NodeUptimeQuery, now);
      const ref = c.req.param('id');
      const node = await getNode(sql, ref);
      if (!node) throw notFound(`Node "${ref}"`);
      let ms: StateMs;
      let buckets: Bucket[] | undefined;
      if (q.bucket) {
        buckets = await nodeBreakdown(sql, node.id, window, q.bucket, now);
        if (!buckets) throw notFound(`Node "${ref}"`);
        ms = combine(buckets.map((b) => b.ms));
      } else {
        const [row] = await fleetUptime(sql, { nodeId: node.id }, window, now);
        if (!row) throw notFound(`Node "${ref}"`);
        ms = row.ms;
      }
      const answer: NodeUptime = {
        node_id: node.id,
        from: iso(window.from),
        to: iso(window.to),
        ...summarize(ms),
        ...(buckets ? { buckets: buckets.map(renderBucket) } : {}),
      };
      c.header('vary', 'Accept');
      if (!wantsCsv(q.format, c.req.header('accept'))) return c.json(answer);
      // A row per bucket when broken down, otherwise the period's one row.
      if (answer.buckets) {
        return csvAnswer(c, csvText(['start', 'uptime_ratio', ...SECONDS_COLUMNS], answer.buckets.map((b) => [b.start, b.uptime_ratio, ...secondsCells(b.seconds)])));
      }
      return csvAnswer(c, csvText(['from', 'to', 'uptime_ratio', ...SECONDS_COLUMNS], [[answer.from, answer.to, answer.uptime_ratio, ...secondsCells(answer.seconds)]]));
    },
  );

  app.get(
    '/uptime',
    doc({
      summary: 'Fleet uptime',
      description: "The ratio over every selected node, and each node's own; paged by name, or worst first.",
      access: 'read',
      query: FleetQuery,
      queryNotes: {
        ...WINDOW_NOTES,
        format: `${WINDOW_NOTES.format}. As CSV, one row per selected node, every one (at most ${MAX_CSV_ROWS}); limit and cursor are refused with it`,
        label: LABEL_FILTERS_NOTE,
        sort: 'name, or worst: lowest ratio first',
      },
      ok: { status: 200, description: 'The fleet uptime (as CSV for `format=csv` or `Accept: text/csv`).', body: 'FleetUptime', alternatives: CSV },
    }),
    requireScope('read'),
    async (c) => {
      const now = clock.now().getTime();
      const { q, window: asked } = readQuery(c, FleetQuery, now, ['label']);
      c.header('vary', 'Accept');
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const raw = c.req.query();
        const paged = (['limit', 'cursor'] as const).filter((f) => raw[f] !== undefined);
        if (paged.length) throw validationFailed(paged.map((field) => ({ field, message: 'a CSV answer holds every selected node: leave it out' })));
        // Computed afresh, not kept: no cursor will follow it.
        const selection = await select({ labels: q.label, window: asked, sort: q.sort });
        const items = selection.items.map((i) => shown(selection, i));
        if (items.length > MAX_CSV_ROWS) {
          throw validationFailed([{ field: 'label', message: `selects ${items.length} nodes; a CSV answer holds at most ${MAX_CSV_ROWS}: select fewer by label` }]);
        }
        return csvAnswer(c, csvText(['node_id', 'name', 'uptime_ratio', ...SECONDS_COLUMNS], items.map((i) => [i.node_id, i.name, i.uptime_ratio, ...secondsCells(i.seconds)])));
      }
      // A walk's later pages answer over its first page's window, from the selection that page
      // computed while it is kept (see FleetWalks), computed afresh otherwise.
      const order = ORDERS[q.sort];
      const cursor = readFleetCursor<unknown>(q.cursor, order.isKey, now + CURSOR_CLOCK_SKEW_MS);
      const window = cursor?.window ?? asked;
      const selection = await walks.get({ labels: q.label, window, sort: q.sort });
      const { uptime_ratio, items } = selection;
      const keyOf = order.keyOf as (i: Sorted) => unknown;
      const start = startAfter(items, cursor?.after, keyOf, order.compare as (a: unknown, b: unknown) => number);
      const from = iso(window.from);
      const to = iso(window.to);
      const answer: FleetUptime = {
        from,
        to,
        uptime_ratio,
        ...page(
          items.slice(start, start + q.limit + 1).map((i) => shown(selection, i)),
          q.limit,
          (last): FleetCursor<unknown> => [from, to, keyOf(last)],
        ),
      };
      // A walk whose first page is its last is not kept: no cursor will ask for it.
      if (!cursor && answer.next_cursor === null) walks.forget({ labels: q.label, window, sort: q.sort });
      return c.json(answer);
    },
  );

  return app;
}
