import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type User } from '../../api/shapes.ts';
import type { UserRow } from '../../oncall/model.ts';
import { getUser, listUsers } from '../../oncall/store-users.ts';
import { createUser, deleteUser, updateUser } from '../../oncall/users.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import { acting } from '../acting.ts';
import { byId, uuidParam } from '../by-id.ts';
import type { AppDeps } from '../deps.ts';
import { etag, ETAG_EXAMPLE, ETAG_NOTE, ifMatchAny, IF_MATCH_ETAG } from '../if-match.ts';
import { operationDocs } from '../openapi.ts';
import { body, closedObject, decodeCursor, DisplayName, Email, idList, isNameCursor, keepingZone, page, parse, Paging, query, readJson, TimeZone } from '../validation.ts';

const ChannelIds = idList('channel', 20);

export const CreateUser = closedObject({
  name: DisplayName,
  email: Email,
  time_zone: v.optional(TimeZone, 'UTC'),
  channel_ids: v.optional(ChannelIds, []),
});

export const PatchUser = closedObject({
  name: v.optional(DisplayName),
  email: v.optional(Email),
  time_zone: v.optional(TimeZone),
  channel_ids: v.optional(ChannelIds),
});

export const ListUsers = closedObject(Paging);

export const renderUser = (u: UserRow): User => ({
  id: u.id,
  name: u.name,
  email: u.email,
  time_zone: u.time_zone,
  channel_ids: u.channel_ids,
  created_at: u.created_at.toISOString(),
  updated_at: u.updated_at.toISOString(),
});

const doc = operationDocs('Users');
const USER = 'The user id';

/** People: reached by email and by each of their own channels when a level or a schedule names them. */
export function userRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();

  const find = byId('User', (id) => getUser(sql, id));

  app.post(
    '/',
    doc({
      summary: 'Create a user',
      description: 'A person a policy or a schedule can page: by `email` (through the engine’s SMTP server) and by each of `channel_ids`, their own channels (a personal Slack webhook, a webhook to their phone). Addresses are unique, compared without case (409).',
      access: 'write',
      body: CreateUser,
      ok: { status: 201, description: 'The user.', body: 'User' },
      errors: [409],
    }),
    requireScope('write'),
    async (c) => c.json(renderUser(await createUser(sql, await body(c, CreateUser), clock.now(), acting(c))), 201),
  );

  app.get(
    '/',
    doc({
      summary: 'List users',
      description: 'By name.',
      access: 'read',
      query: ListUsers,
      ok: { status: 200, description: 'A page of users.', body: listOf('User') },
    }),
    requireScope('read'),
    async (c) => {
      const q = query(c, ListUsers);
      const rows = await listUsers(sql, decodeCursor(q.cursor, isNameCursor), q.limit + 1);
      return c.json(page(rows.map(renderUser), q.limit, (u) => [u.name, u.id]));
    },
  );

  app.get(
    '/:id',
    doc({ summary: 'Get a user', description: ETAG_NOTE, access: 'read', id: USER, ok: { status: 200, description: 'The user.', body: 'User' } }),
    requireScope('read'),
    async (c) => {
      const user = await find(c.req.param('id'));
      c.header('etag', etag(user));
      return c.json(renderUser(user));
    },
  );

  app.patch(
    '/:id',
    doc({
      summary: 'Change a user',
      description: '`channel_ids`, when given, replaces the list.',
      access: 'write',
      id: USER,
      headers: [IF_MATCH_ETAG],
      body: PatchUser,
      ok: { status: 200, description: 'The user as changed, with its new `ETag`.', body: 'User' },
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const user = await find(c.req.param('id'));
      const expected = ifMatchAny(c, ETAG_EXAMPLE);
      const changed = await updateUser(sql, user, parse(PatchUser, keepingZone(await readJson(c), user.time_zone)), clock.now(), acting(c), expected);
      c.header('etag', etag(changed));
      return c.json(renderUser(changed));
    },
  );

  app.delete(
    '/:id',
    doc({
      summary: 'Delete a user',
      description:
        'Refused (409, naming what holds the user) while an escalation policy, a schedule layer or an override that has not ended names the user; while an open incident paged them (delete them once it is resolved, so its resolve reaches them); while a message of an incident to them is not yet delivered (a page, acknowledgement or resolve still in the outbox or not yet sent); and while a dead outbox event would message them once replayed (an admin replays or discards it: `POST /v1/outbox/dead/{id}/replay`, `DELETE /v1/outbox/dead/{id}`); a dead page of an incident whose resolve already went out holds nothing, since its replay sends nothing. Also 409 with Retry-After when work naming the user (an escalation paging them, an edit naming them) holds them longer than a deletion waits: 5 s in all for the row of the user (however many take turns holding it), and each later lock wait of the deletion 5 s (lock_timeout).',
      access: 'write',
      id: USER,
      headers: [IF_MATCH_ETAG],
      ok: { status: 204, description: 'Deleted.' },
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const expected = ifMatchAny(c, ETAG_EXAMPLE);
      await deleteUser(sql, uuidParam('User', c.req.param('id')), clock.now(), acting(c), undefined, expected);
      return c.body(null, 204);
    },
  );

  return app;
}
