import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import type { FleetUptime, FleetUptimeItem, NodeUptime, UptimeBucket } from '../../api/shapes.ts';
import { getNode } from '../../nodes/store.ts';
import type { Bucket } from '../../uptime/buckets.ts';
import { fleetUptime, nodeBreakdown } from '../../uptime/report.ts';
import { combine, type StateMs } from '../../uptime/state-time.ts';
import { summarize } from '../../uptime/summary.ts';
import { resolveWindow, UPTIME_WINDOWS, type Window } from '../../uptime/windows.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { notFound, Refusal, validationFailed, type ErrorDetail } from '../../errors.ts';
import { operationDocs } from '../openapi.ts';
import { decodeCursor, page, Paging, query } from '../validation.ts';

const iso = (t: number) => new Date(t).toISOString();

const WindowFields = { window: v.optional(v.string()), from: v.optional(v.string()), to: v.optional(v.string()) };

export const NodeUptimeQuery = v.object({
  ...WindowFields,
  bucket: v.optional(v.picklist(['hour', 'day'], 'must be hour or day')),
});

const SORTS = ['name', 'worst'] as const;
export const FleetQuery = v.object({
  ...WindowFields,
  ...Paging,
  sort: v.optional(v.picklist(SORTS, `must be one of ${SORTS.join(', ')}`), 'name'),
  label: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[^:]+:.*$/, 'must be key:value'),
      v.transform((s) => ({ key: s.slice(0, s.indexOf(':')), value: s.slice(s.indexOf(':') + 1) })),
    ),
  ),
});

/**
 * The query and its window, with every bad field named at once: the schema's own problems and
 * the window's (unknown window, from after to, a range over 3 × 366 days, window with from/to).
 */
function readQuery<S extends v.GenericSchema<unknown, { window?: string; from?: string; to?: string }>>(
  c: Context,
  schema: S,
  now: number,
): { q: v.InferOutput<S>; window: Window } {
  const details: ErrorDetail[] = [];
  let q: v.InferOutput<S> | undefined;
  try {
    q = query(c, schema);
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

/** Worst first: lowest ratio, nodes with nothing monitored last, ties by name. */
function worstOrder(a: WorstKey, b: WorstKey): number {
  if (a[0] !== b[0]) {
    if (a[0] === null) return 1;
    if (b[0] === null) return -1;
    return a[0] - b[0];
  }
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}
const worstKey = (i: FleetUptimeItem): WorstKey => [i.uptime_ratio, i.name];
const isWorstKey = (k: unknown): k is WorstKey =>
  Array.isArray(k) && k.length === 2 && (k[0] === null || typeof k[0] === 'number') && typeof k[1] === 'string';

const doc = operationDocs('Uptime');
const WINDOW_NOTES = {
  window: `The period up to now: ${Object.keys(UPTIME_WINDOWS).join(', ')} (default 30d). Not with from/to`,
  from: 'RFC 3339 start of the period, with to (at most 3 × 366 days)',
  to: 'RFC 3339 end of the period, with from',
};

export function uptimeRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();

  app.get(
    '/nodes/:id/uptime',
    doc({
      summary: "A node's uptime",
      description: 'Up = healthy + degraded; monitored = everything but maintenance and unknown; time before the node existed is not counted. Exact to the moment of the request.',
      access: 'read',
      id: 'The node id or name',
      query: NodeUptimeQuery,
      queryNotes: { ...WINDOW_NOTES, bucket: 'Also break the period down by hour or day' },
      ok: { status: 200, description: "The node's uptime.", body: 'NodeUptime' },
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
      return c.json(answer);
    },
  );

  app.get(
    '/uptime',
    doc({
      summary: 'Fleet uptime',
      description: "The ratio over every selected node, and each node's own; paged by name, or worst first.",
      access: 'read',
      query: FleetQuery,
      queryNotes: { ...WINDOW_NOTES, label: 'Only nodes carrying this label, as `key:value`', sort: 'name, or worst: lowest ratio first' },
      ok: { status: 200, description: 'The fleet uptime.', body: 'FleetUptime' },
    }),
    requireScope('read'),
    async (c) => {
      const now = clock.now().getTime();
      const { q, window } = readQuery(c, FleetQuery, now);
      const nodes = await fleetUptime(sql, { label: q.label }, window, now);
      const items: FleetUptimeItem[] = nodes.map((n) => ({ node_id: n.id, name: n.name, uptime_ratio: ratioOf(n.ms) }));
      // The whole selection is computed for every page (the fleet ratio and the worst-first order
      // need it); the cursor is the last item's sort key.
      let rest: FleetUptimeItem[];
      let keyOf: (i: FleetUptimeItem) => unknown;
      if (q.sort === 'worst') {
        const after = decodeCursor(q.cursor, isWorstKey);
        items.sort((a, b) => worstOrder(worstKey(a), worstKey(b)));
        rest = after === undefined ? items : items.filter((i) => worstOrder(worstKey(i), after) > 0);
        keyOf = worstKey;
      } else {
        const after = decodeCursor(q.cursor, (k): k is string => typeof k === 'string');
        rest = after === undefined ? items : items.filter((i) => i.name > after);
        keyOf = (i) => i.name;
      }
      const answer: FleetUptime = {
        from: iso(window.from),
        to: iso(window.to),
        uptime_ratio: ratioOf(combine(nodes.map((n) => n.ms))),
        ...page(rest.slice(0, q.limit + 1), q.limit, keyOf),
      };
      return c.json(answer);
    },
  );

  return app;
}
