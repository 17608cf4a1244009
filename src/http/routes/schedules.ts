import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type OnCall, type Override, type Schedule } from '../../api/shapes.ts';
import { isUuid } from '../../db/ids.ts';
import { notFound, validationFailed } from '../../errors.ts';
import type { OverrideRow, ScheduleRow } from '../../oncall/model.ts';
import { WEEKDAYS } from '../../oncall/schedule.ts';
import { addOverride, createSchedule, deleteSchedule, onCallThrough, removeOverride, shiftsOf, updateSchedule, type NamedOnCall } from '../../oncall/schedules.ts';
import { getSchedule, listOverrides, listSchedules } from '../../oncall/store-schedules.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import { acting } from '../acting.ts';
import { uuidParam } from '../by-id.ts';
import type { AppDeps } from '../deps.ts';
import { etag, ETAG_EXAMPLE, ETAG_NOTE, ifMatchAny, IF_MATCH_ETAG } from '../if-match.ts';
import { operationDocs } from '../openapi.ts';
import { body, boundedArray, closedObject, decodeCursor, DisplayName, idList, isNameCursor, isTimeCursor, keepingZone, page, parse, Paging, query, readJson, Timestamp, TimeZone } from '../validation.ts';

const DAY = 86_400_000;
// A quarter of shifts: at most ~2,200 pieces per layer (rotations are at least an hour), which
// keeps one answer cheap whatever the schedule.
const MAX_SHIFTS_DAYS = 93;
const DEFAULT_SHIFTS_DAYS = 7;

const LocalTime = v.pipe(v.string('must be a string'), v.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM from 00:00 to 23:59'));
/**
 * A window's end: also 24:00, the end of the day as PagerDuty's restrictions and ISO 8601 write
 * it, kept as 00:00 (a `to` at or before `from` runs into the next day, so 09:00–00:00 ends at
 * midnight and 00:00–00:00 is the whole day).
 */
const EndTime = v.pipe(
  v.string('must be a string'),
  v.regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be a local time HH:MM from 00:00 to 24:00'),
  v.transform((t) => (t === '24:00' ? '00:00' : t)),
);

/** What one schedule may hold; the console's forms offer as many rows. */
export const SCHEDULE_LIMITS = { layers: 10, usersPerLayer: 50, restrictionsPerLayer: 14 } as const;
const { layers: MAX_LAYERS, usersPerLayer: MAX_USERS, restrictionsPerLayer: MAX_RESTRICTIONS } = SCHEDULE_LIMITS;

const Restriction = closedObject({
  days: boundedArray(v.picklist(WEEKDAYS, `must be one of ${WEEKDAYS.join(', ')}`), 'must be an array of days', 7, 'must name at most 7 days', 1, 'must name at least one day'),
  from: LocalTime,
  to: EndTime,
});

const Layer = closedObject({
  name: DisplayName,
  user_ids: v.pipe(idList('user', MAX_USERS), v.minLength(1, 'must name at least one user')),
  starts_at: Timestamp,
  rotation: v.pipe(v.string('must be a string'), v.maxLength(32, 'must be at most 32 characters')),
  restrictions: v.optional(boundedArray(Restriction, 'must be an array of restrictions', MAX_RESTRICTIONS, `must hold at most ${MAX_RESTRICTIONS} restrictions`)),
});

const Layers = boundedArray(Layer, 'must be an array of layers', MAX_LAYERS, `must hold at most ${MAX_LAYERS} layers`, 1, 'must hold at least one layer');

export const CreateSchedule = closedObject({ name: DisplayName, time_zone: TimeZone, layers: Layers });
export const PatchSchedule = closedObject({ name: v.optional(DisplayName), time_zone: v.optional(TimeZone), layers: v.optional(Layers) });
export const CreateOverride = closedObject({
  user_id: v.pipe(v.string('must be a string'), v.uuid('must be a user id')),
  starts_at: Timestamp,
  ends_at: Timestamp,
});
export const ListSchedules = closedObject(Paging);
export const ListOverrides = closedObject({ ...Paging, since: v.optional(Timestamp) });
export const OnCallQuery = closedObject({ at: v.optional(Timestamp) });
export const ShiftsQuery = closedObject({ from: v.optional(Timestamp), to: v.optional(Timestamp) });

export const renderSchedule = (s: ScheduleRow): Schedule => ({
  id: s.id,
  name: s.name,
  time_zone: s.time_zone,
  layers: s.layers.map((l) => ({
    name: l.name,
    user_ids: l.user_ids,
    starts_at: l.starts_at.toISOString(),
    rotation: l.rotation,
    ...(l.restrictions?.length ? { restrictions: l.restrictions } : {}),
  })),
  created_at: s.created_at.toISOString(),
  updated_at: s.updated_at.toISOString(),
});

/** A person on call as the on-call answers name them. */
export const renderOnCall = (u: NamedOnCall): OnCall['users'][number] => ({ id: u.user_id, name: u.name, until: u.until?.toISOString() ?? null });

const renderOverride = (o: OverrideRow): Override => ({
  id: o.id,
  schedule_id: o.schedule_id,
  user_id: o.user_id,
  starts_at: o.starts_at.toISOString(),
  ends_at: o.ends_at.toISOString(),
  created_at: o.created_at.toISOString(),
});

const doc = operationDocs('Schedules');
const SCHEDULE = 'The schedule id or name';
const LAYERS =
  'Layers (1-10, lowest first): `user_ids` take turns every `rotation` (an ISO 8601 duration of at least PT1H: P1W, P1D, PT12H, P1M…) from `starts_at`, optionally only within `restrictions` (`{"days": ["mon",…], "from": "09:00", "to": "17:00"}` in the schedule’s `time_zone`; `to` before `from` runs past midnight; `to` 24:00 is midnight, kept as 00:00). A later layer wins where it has someone; an override wins over all. Hand-offs keep their local time across DST changes. Every user must exist.';

/** On-call schedules, their overrides, and who is on call when. */
export function scheduleRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();

  const find = async (key: string) => {
    const s = await getSchedule(sql, isUuid(key) ? { id: key } : { name: key });
    if (!s) throw notFound(`Schedule "${key}"`);
    return s;
  };

  app.post(
    '/',
    doc({
      summary: 'Create a schedule',
      description: `${LAYERS} Names are unique (409).`,
      access: 'write',
      body: CreateSchedule,
      ok: { status: 201, description: 'The schedule.', body: 'Schedule' },
      errors: [409],
    }),
    requireScope('write'),
    async (c) => c.json(renderSchedule(await createSchedule(sql, await body(c, CreateSchedule), clock.now(), acting(c))), 201),
  );

  app.get(
    '/',
    doc({
      summary: 'List schedules',
      description: 'By name.',
      access: 'read',
      query: ListSchedules,
      ok: { status: 200, description: 'A page of schedules.', body: listOf('Schedule') },
    }),
    requireScope('read'),
    async (c) => {
      const q = query(c, ListSchedules);
      const rows = await listSchedules(sql, decodeCursor(q.cursor, isNameCursor), q.limit + 1);
      return c.json(page(rows.map(renderSchedule), q.limit, (s) => [s.name, s.id]));
    },
  );

  app.get(
    '/:id',
    doc({ summary: 'Get a schedule', description: ETAG_NOTE, access: 'read', id: SCHEDULE, ok: { status: 200, description: 'The schedule.', body: 'Schedule' } }),
    requireScope('read'),
    async (c) => {
      const schedule = await find(c.req.param('id'));
      c.header('etag', etag(schedule));
      return c.json(renderSchedule(schedule));
    },
  );

  app.patch(
    '/:id',
    doc({
      summary: 'Change a schedule',
      description: `${LAYERS} \`layers\`, when given, replaces them all.`,
      access: 'write',
      id: SCHEDULE,
      headers: [IF_MATCH_ETAG],
      body: PatchSchedule,
      ok: { status: 200, description: 'The schedule as changed, with its new `ETag`.', body: 'Schedule' },
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const schedule = await find(c.req.param('id'));
      const expected = ifMatchAny(c, ETAG_EXAMPLE);
      const changed = await updateSchedule(sql, schedule, parse(PatchSchedule, keepingZone(await readJson(c), schedule.time_zone)), clock.now(), acting(c), expected);
      c.header('etag', etag(changed));
      return c.json(renderSchedule(changed));
    },
  );

  app.delete(
    '/:id',
    doc({
      summary: 'Delete a schedule',
      description:
        'Its overrides go with it. Refused (409) while an escalation policy names it. Also 409 with Retry-After when an edit naming or changing the schedule (an escalation policy, an override or the schedule being saved) holds it longer than a deletion waits: 5 s in all for the row of the schedule, and each later lock wait of the deletion 5 s (lock_timeout).',
      access: 'write',
      id: SCHEDULE,
      headers: [IF_MATCH_ETAG],
      ok: { status: 204, description: 'Deleted.' },
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const expected = ifMatchAny(c, ETAG_EXAMPLE);
      await deleteSchedule(sql, (await find(c.req.param('id'))).id, clock.now(), acting(c), undefined, expected);
      return c.body(null, 204);
    },
  );

  app.post(
    '/:id/overrides',
    doc({
      summary: 'Add an override',
      description: '`user_id` is on call from `starts_at` to `ends_at`, over every layer. Where overrides overlap, the one added last wins.',
      access: 'write',
      id: SCHEDULE,
      body: CreateOverride,
      ok: { status: 201, description: 'The override.', body: 'Override' },
    }),
    requireScope('write'),
    async (c) => {
      const schedule = await find(c.req.param('id'));
      return c.json(renderOverride(await addOverride(sql, schedule.id, await body(c, CreateOverride), clock.now(), acting(c))), 201);
    },
  );

  app.get(
    '/:id/overrides',
    doc({
      summary: "List a schedule's overrides",
      description: 'Those ending after `since` (default: now), by start.',
      access: 'read',
      id: SCHEDULE,
      query: ListOverrides,
      ok: { status: 200, description: 'A page of overrides.', body: listOf('Override') },
    }),
    requireScope('read'),
    async (c) => {
      const schedule = await find(c.req.param('id'));
      const q = query(c, ListOverrides);
      const rows = await listOverrides(sql, schedule.id, q.since ?? clock.now(), decodeCursor(q.cursor, isTimeCursor), q.limit + 1);
      return c.json(page(rows.map(renderOverride), q.limit, (o) => [o.starts_at, o.id]));
    },
  );

  app.delete(
    '/:id/overrides/:override_id',
    doc({
      summary: 'Remove an override',
      access: 'write',
      id: SCHEDULE,
      pathParams: { override_id: 'The override id' },
      ok: { status: 204, description: 'Removed.' },
    }),
    requireScope('write'),
    async (c) => {
      const schedule = await find(c.req.param('id'));
      await removeOverride(sql, schedule.id, uuidParam('Override', c.req.param('override_id')), clock.now(), acting(c));
      return c.body(null, 204);
    },
  );

  app.get(
    '/:id/on-call',
    doc({
      summary: 'Who is on call',
      description: 'At `at` (default: now): `user_ids`, and `users` with each one’s name and `until`, when their unbroken run of shifts ends (null: not within 93 days).',
      access: 'read',
      id: SCHEDULE,
      query: OnCallQuery,
      ok: { status: 200, description: 'Who is on call then.', body: 'OnCall' },
    }),
    requireScope('read'),
    async (c) => {
      const schedule = await find(c.req.param('id'));
      const at = query(c, OnCallQuery).at ?? clock.now();
      const users = await onCallThrough(sql, schedule, at);
      const body: OnCall = { at: at.toISOString(), user_ids: users.map((u) => u.user_id), users: users.map(renderOnCall) };
      return c.json(body);
    },
  );

  app.get(
    '/:id/shifts',
    doc({
      summary: 'The shifts in a range',
      description: `Who is on call from \`from\` (default: now) to \`to\` (default: ${DEFAULT_SHIFTS_DAYS} days later), at most ${MAX_SHIFTS_DAYS} days, each shift clipped to the range and named by the layer that makes it (or "override"). Gaps are times nobody is on call. All of them, so \`next_cursor\` is always null.`,
      access: 'read',
      id: SCHEDULE,
      query: ShiftsQuery,
      ok: { status: 200, description: 'The shifts, in time order.', body: listOf('Shift') },
    }),
    requireScope('read'),
    async (c) => {
      const schedule = await find(c.req.param('id'));
      const q = query(c, ShiftsQuery);
      const from = q.from ?? clock.now();
      const to = q.to ?? new Date(from.getTime() + DEFAULT_SHIFTS_DAYS * DAY);
      if (to <= from) throw validationFailed([{ field: 'to', message: 'must be after from' }]);
      if (to.getTime() - from.getTime() > MAX_SHIFTS_DAYS * DAY) throw validationFailed([{ field: 'to', message: `must be at most ${MAX_SHIFTS_DAYS} days after from` }]);
      const items = (await shiftsOf(sql, schedule, from, to)).map((s) => ({
        user_id: s.user_id,
        starts_at: s.starts_at.toISOString(),
        ends_at: s.ends_at.toISOString(),
        layer: s.layer,
      }));
      return c.json({ items, next_cursor: null });
    },
  );

  return app;
}
