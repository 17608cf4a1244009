import { Hono } from 'hono';
import * as v from 'valibot';
import type { Tx } from '../../db/client.ts';
import {
  endMaintenance,
  getMaintenance,
  insertMaintenance,
  listMaintenances,
  wakeCoveredNodes,
  type MaintenanceCursor,
  type MaintenanceRow,
} from '../../db/maintenances.ts';
import { isUuid } from '../../db/ids.ts';
import { findNodeRefs } from '../../nodes/store.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { notFound, validationFailed, type ErrorDetail } from '../../errors.ts';
import { listOf } from '../openapi-components.ts';
import { operationDocs } from '../openapi.ts';
import { body, closedObject, decodeCursor, isCursorTime, Labels, NodeName, page, Paging, query, Timestamp } from '../validation.ts';

export const CreateMaintenance = closedObject({
  node_ids: v.optional(
    v.pipe(v.array(NodeName, 'must be an array of node ids or names'), v.maxLength(1000, 'must hold at most 1000 nodes')),
    [],
  ),
  labels: v.optional(Labels, {}),
  starts_at: Timestamp,
  ends_at: v.optional(v.nullable(Timestamp), null),
  reason: v.optional(v.nullable(v.pipe(v.string('must be a string'), v.maxLength(1024, 'must be at most 1024 characters'))), null),
});

export const ListMaintenances = v.object({
  ...Paging,
  active: v.optional(v.picklist(['true', 'false'], 'must be true or false')),
});

const isOpenAt = (m: MaintenanceRow, now: Date) => m.starts_at <= now && (m.ends_at === null || m.ends_at > now);

const render = (m: MaintenanceRow, now: Date) => ({
  id: m.id,
  node_ids: m.node_ids,
  labels: m.labels,
  starts_at: m.starts_at.toISOString(),
  ends_at: m.ends_at ? m.ends_at.toISOString() : null,
  reason: m.reason,
  created_at: m.created_at.toISOString(),
  active: isOpenAt(m, now),
});

type Input = v.InferOutput<typeof CreateMaintenance>;

/** What the fields cannot say about themselves: the window's shape against each other and now. */
function windowProblems(w: Input, now: Date): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (w.ends_at !== null && w.ends_at <= w.starts_at) problems.push({ field: 'ends_at', message: 'must be after starts_at' });
  else if (w.ends_at !== null && w.ends_at <= now) problems.push({ field: 'ends_at', message: 'must be in the future: a window that already ended changes nothing' });
  if (w.node_ids.length === 0 && Object.keys(w.labels).length === 0) {
    const message = 'node_ids or labels must name at least one node or label';
    problems.push({ field: 'node_ids', message }, { field: 'labels', message });
  }
  return problems;
}

/** Node ids or names to ids, in order and without repeats; each unknown one is a problem. */
async function resolveNodes(tx: Tx, refs: string[], problems: ErrorDetail[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const found = await findNodeRefs(tx, refs);
  const ids = refs.map((ref, i) => {
    // An id wins over a name that happens to look like one, as in GET /v1/nodes/{id}.
    const node = found.find((n) => n.id === ref) ?? found.find((n) => n.name === ref);
    if (!node) problems.push({ field: `node_ids.${i}`, message: 'is not a node' });
    return node?.id;
  });
  return [...new Set(ids.filter((id): id is string => id !== undefined))];
}

const isCursor = (k: unknown): k is MaintenanceCursor =>
  Array.isArray(k) && k.length === 2 && isCursorTime(k[0]) && typeof k[1] === 'string' && isUuid(k[1]);

const doc = operationDocs('Maintenances');
const WINDOW = 'The maintenance window id';

/**
 * Maintenance windows. Creating one wakes the nodes it covers at its start and ending one wakes
 * them now, in the same transaction, so the evaluator moves them in and out of `maintenance`
 * within a tick instead of at their next deadline.
 */
export function maintenanceRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();

  app.post(
    '/',
    doc({
      summary: 'Create a maintenance window',
      description:
        'It covers the nodes listed in `node_ids` (ids or names) and those carrying all of `labels`; at least one of the two must name something. `ends_at` must be after `starts_at` and in the future; null is open-ended.',
      access: 'write',
      body: CreateMaintenance,
      ok: { status: 201, description: 'The window.', body: 'Maintenance' },
    }),
    requireScope('write'),
    async (c) => {
      const input = await body(c, CreateMaintenance);
      const now = clock.now();
      const row = await sql.begin(async (tx) => {
        const problems = windowProblems(input, now);
        const nodeIds = await resolveNodes(tx, input.node_ids, problems);
        if (problems.length > 0) throw validationFailed(problems);
        const created = await insertMaintenance(tx, { ...input, node_ids: nodeIds }, now);
        await wakeCoveredNodes(tx, created, created.starts_at);
        return created;
      });
      return c.json(render(row, now), 201);
    },
  );

  app.get(
    '/',
    doc({
      summary: 'List maintenance windows',
      description: 'Newest first.',
      access: 'read',
      query: ListMaintenances,
      queryNotes: { active: 'true: only windows covering now; false: only the others' },
      ok: { status: 200, description: 'A page of windows.', body: listOf('Maintenance') },
    }),
    requireScope('read'),
    async (c) => {
      const q = query(c, ListMaintenances);
      const now = clock.now();
      const rows = await listMaintenances(sql, {
        active: q.active === undefined ? undefined : q.active === 'true',
        now,
        after: decodeCursor(q.cursor, isCursor),
        limit: q.limit + 1,
      });
      return c.json(page(rows.map((m) => render(m, now)), q.limit, (m) => [m.created_at, m.id]));
    },
  );

  app.get(
    '/:id',
    doc({ summary: 'Get a maintenance window', access: 'read', id: WINDOW, ok: { status: 200, description: 'The window.', body: 'Maintenance' } }),
    requireScope('read'),
    async (c) => {
      const id = c.req.param('id');
      const row = isUuid(id) ? await getMaintenance(sql, id) : undefined;
      if (!row) throw notFound(`Maintenance window "${id}"`);
      return c.json(render(row, clock.now()));
    },
  );

  // Ends the window now; one that has not begun is cancelled. Either way the window is kept.
  app.delete(
    '/:id',
    doc({
      summary: 'End a maintenance window',
      description: 'Ends it now; one not yet begun is cancelled (it ends where it starts). The window is kept.',
      access: 'write',
      id: WINDOW,
      ok: { status: 200, description: 'The window as ended.', body: 'Maintenance' },
    }),
    requireScope('write'),
    async (c) => {
      const id = c.req.param('id');
      const now = clock.now();
      const row = !isUuid(id)
        ? undefined
        : await sql.begin(async (tx) => {
            const ended = await endMaintenance(tx, id, now);
            if (ended) await wakeCoveredNodes(tx, ended, now);
            return ended;
          });
      if (!row) throw notFound(`Maintenance window "${id}"`);
      return c.json(render(row, now));
    },
  );

  return app;
}
