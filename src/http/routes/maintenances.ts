import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type Maintenance } from '../../api/shapes.ts';
import { isOpenAt, requestProblems, startedBy, type MaintenanceRow } from '../../maintenance/model.ts';
import { createWindow, endWindow } from '../../maintenance/service.ts';
import { validationFailed } from '../../errors.ts';
import { getMaintenance, listMaintenances } from '../../maintenance/store.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import { acting } from '../acting.ts';
import { byId } from '../by-id.ts';
import type { AppDeps } from '../deps.ts';
import { operationDocs } from '../openapi.ts';
import { body, boundedArray, closedObject, decodeCursor, int, isTimeCursor, Labels, NodeName, page, Paging, query, Timestamp, TimeZone } from '../validation.ts';

const MAX_DURATION_SECONDS = 10_000 * 365.25 * 86_400;

export const CreateMaintenance = closedObject({
  node_ids: v.optional(
    boundedArray(NodeName, 'must be an array of node ids or names', 1000, 'must hold at most 1000 nodes'),
    [],
  ),
  labels: v.optional(Labels, {}),
  // Left out: now (startedBy).
  starts_at: v.optional(Timestamp),
  // Left out: open-ended, unless duration_seconds gives the end (never both: requestProblems).
  ends_at: v.optional(v.nullable(Timestamp)),
  // Up to 10,000 years: its end must still fall by 9999 (requestProblems), and the milliseconds stay exact.
  duration_seconds: v.optional(int(1, MAX_DURATION_SECONDS)),
  reason: v.optional(v.nullable(v.pipe(v.string('must be a string'), v.maxLength(1024, 'must be at most 1024 characters'))), null),
  time_zone: v.optional(v.nullable(TimeZone), null),
});

export const ListMaintenances = closedObject({
  ...Paging,
  active: v.optional(v.picklist(['true', 'false'], 'must be true or false')),
});

const render = (m: MaintenanceRow, now: Date): Maintenance => ({
  id: m.id,
  node_ids: m.node_ids,
  labels: m.labels,
  starts_at: m.starts_at.toISOString(),
  ends_at: m.ends_at ? m.ends_at.toISOString() : null,
  reason: m.reason,
  time_zone: m.time_zone,
  created_at: m.created_at.toISOString(),
  active: isOpenAt(m, now),
});

const doc = operationDocs('Maintenances');
const WINDOW = 'The maintenance window id';
const WINDOW_NAME = 'Maintenance window';

/** Maintenance windows; creating and ending them are src/maintenance/service.ts's commands. */
export function maintenanceRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();

  app.post(
    '/',
    doc({
      summary: 'Create a maintenance window',
      description:
        'It covers the nodes listed in `node_ids` (ids or names) and those carrying all of `labels`; at least one of the two must name something. `starts_at` is now when left out. `ends_at` must be after `starts_at` and in the future; null or left out is open-ended. `duration_seconds` (1 or more) instead ends it that long after `starts_at`, by the engine\'s clock when `starts_at` is left out, so a retry with the same body and `Idempotency-Key` asks for the same window; giving both `ends_at` and `duration_seconds` is 400. `time_zone` (an IANA zone, optional) is only where the times are shown: the console shows them on that clock; `starts_at` and `ends_at` are the instants.',
      access: 'write',
      body: CreateMaintenance,
      ok: { status: 201, description: 'The window.', body: 'Maintenance' },
    }),
    requireScope('write'),
    async (c) => {
      const input = await body(c, CreateMaintenance);
      const now = clock.now();
      const problems = requestProblems(input, now);
      if (problems.length) throw validationFailed(problems);
      return c.json(render(await createWindow(sql, startedBy(input, now), now, acting(c)), now), 201);
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
        after: decodeCursor(q.cursor, isTimeCursor),
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
      const row = await byId(WINDOW_NAME, (id) => getMaintenance(sql, id))(c.req.param('id'));
      return c.json(render(row, clock.now()));
    },
  );

  app.delete(
    '/:id',
    doc({
      summary: 'End a maintenance window',
      description: 'Ends it now; one not yet begun is cancelled (it ends where it starts). The window is kept. One already over is answered as it is, unchanged.',
      access: 'write',
      id: WINDOW,
      ok: { status: 200, description: 'The window as ended.', body: 'Maintenance' },
    }),
    requireScope('write'),
    async (c) => {
      const now = clock.now();
      const row = await byId(WINDOW_NAME, async (id) => (await endWindow(sql, id, now, acting(c)))?.window)(c.req.param('id'));
      return c.json(render(row, now));
    },
  );

  return app;
}
