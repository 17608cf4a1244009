import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type EscalationPolicy, type PolicyOnCall } from '../../api/shapes.ts';
import { createPolicy, deletePolicy, updatePolicy } from '../../oncall/service.ts';
import { getPolicy, getPolicyByName, listPolicies } from '../../oncall/store.ts';
import { MAX_LEVELS, type PolicyRow } from '../../oncall/model.ts';
import { policyAt } from '../../oncall/schedules.ts';
import { OnCallQuery, renderOnCall } from './schedules.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import { acting } from '../acting.ts';
import { byIdOrName } from '../by-id.ts';
import type { AppDeps } from '../deps.ts';
import { notFound } from '../../errors.ts';
import { operationDocs } from '../openapi.ts';
import { etag, ETAG_EXAMPLE, ETAG_NOTE, ifMatchAny, IF_MATCH_ETAG } from '../if-match.ts';
import { body, boundedArray, closedObject, decodeCursor, DisplayName, documented, idList, int, page, Paging, query } from '../validation.ts';

const MAX_AFTER_SECONDS = 30 * 86_400;

const WHO = ['channel_ids', 'user_ids', 'schedule_ids'] as const;

/** A level pages someone: at least one channel, user or schedule. */
const Level = v.pipe(
  closedObject({
    after_seconds: int(0, MAX_AFTER_SECONDS),
    channel_ids: v.optional(idList('channel', 20), []),
    user_ids: v.optional(idList('user', 20), []),
    schedule_ids: v.optional(idList('schedule', 20), []),
  }),
  v.check((l) => l.channel_ids.length + l.user_ids.length + l.schedule_ids.length > 0, 'must name at least one channel, user or schedule'),
  documented({ anyOf: WHO.map((field) => ({ required: [field], properties: { [field]: { minItems: 1 } } })) }),
);

/** The first level pages at once; each later one strictly after the one before. */
const Levels = v.pipe(
  boundedArray(Level, 'must be an array of levels', MAX_LEVELS, `must hold at most ${MAX_LEVELS} levels`, 1, 'must hold at least one level'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const levels = dataset.value;
    for (const [i, level] of levels.entries()) {
      const prev = levels[i - 1];
      let message: string | undefined;
      if (!prev && level.after_seconds !== 0) message = 'the first level must have after_seconds 0';
      if (prev && level.after_seconds <= prev.after_seconds) message = `must be greater than the previous level's (${prev.after_seconds})`;
      if (message === undefined) continue;
      addIssue({
        message,
        path: [
          { type: 'array', origin: 'value', input: levels, key: i, value: level },
          { type: 'object', origin: 'value', input: level, key: 'after_seconds', value: level.after_seconds },
        ],
      });
    }
  }),
);

const Repeat = int(0, 10);
/** 60 s at least (a shorter one reopens before whoever acknowledged can open the console), a day at most (longer than any one shift); null: never. */
const AckTimeout = v.nullable(int(60, 86_400));
const IsDefault = v.boolean('must be true or false');

export const CreatePolicy = closedObject({
  name: DisplayName,
  levels: Levels,
  repeat: v.optional(Repeat, 0),
  ack_timeout_seconds: v.optional(AckTimeout, null),
  is_default: v.optional(IsDefault, false),
});

export const PatchPolicy = closedObject({
  name: v.optional(DisplayName),
  levels: v.optional(Levels),
  repeat: v.optional(Repeat),
  ack_timeout_seconds: v.optional(AckTimeout),
  is_default: v.optional(IsDefault),
});

export const ListPolicies = closedObject(Paging);

const render = (p: PolicyRow): EscalationPolicy => ({
  id: p.id,
  name: p.name,
  levels: p.levels.map((l) => ({ after_seconds: l.after_seconds, channel_ids: l.channel_ids, user_ids: l.user_ids ?? [], schedule_ids: l.schedule_ids ?? [] })),
  repeat: p.repeat,
  ack_timeout_seconds: p.ack_timeout_seconds,
  is_default: p.is_default,
  created_at: p.created_at.toISOString(),
  updated_at: p.updated_at.toISOString(),
});

const doc = operationDocs('Escalation policies');
const POLICY = 'The escalation policy id or name';
const LEVELS =
  `Levels: 1-${MAX_LEVELS}, ` +
  'the first at `after_seconds` 0, each later one strictly after the one before. A level names at least one of `channel_ids`, `user_ids` and `schedule_ids` (each at most 20, each existing); a schedule pages whoever it has on call when the level fires. While an incident is unacknowledged, level n is paged `after_seconds` after it opened (a level due while the node is in maintenance is held, `escalation_held`, and paged when the node is judged down or degraded again; the levels after it keep their gaps from that page), and the levels repeat `repeat` times; a level that reaches nobody is recorded and the next one fires at once. ' +
  '`ack_timeout_seconds` (60-86400, null: never, the default): an incident still acknowledged that long after its acknowledgement goes back to open (`acknowledgement_expired` on its timeline) and its levels start again from the first, paged at once; an acknowledgement keeps the timeout in force when it was made.';

/** Who escalates an incident, when, and how many times the levels repeat. */
export function escalationPolicyRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();

  const find = byIdOrName('Escalation policy', (id) => getPolicy(sql, id), (name) => getPolicyByName(sql, name));

  app.post(
    '/',
    doc({
      summary: 'Create an escalation policy',
      description: `${LEVELS} A new default replaces the old one.`,
      access: 'write',
      body: CreatePolicy,
      ok: { status: 201, description: 'The policy.', body: 'EscalationPolicy' },
      errors: [409],
    }),
    requireScope('write'),
    async (c) => {
      const input = await body(c, CreatePolicy);
      return c.json(render(await createPolicy(sql, input, clock.now(), acting(c))), 201);
    },
  );

  app.get(
    '/',
    doc({
      summary: 'List escalation policies',
      description: 'By name.',
      access: 'read',
      query: ListPolicies,
      ok: { status: 200, description: 'A page of policies.', body: listOf('EscalationPolicy') },
    }),
    requireScope('read'),
    async (c) => {
      const q = query(c, ListPolicies);
      const rows = await listPolicies(sql, decodeCursor(q.cursor, (k): k is string => typeof k === 'string'), q.limit + 1);
      return c.json(page(rows.map(render), q.limit, (p) => p.name));
    },
  );

  app.get(
    '/:id',
    doc({ summary: 'Get an escalation policy', description: ETAG_NOTE, access: 'read', id: POLICY, ok: { status: 200, description: 'The policy.', body: 'EscalationPolicy' } }),
    requireScope('read'),
    async (c) => {
      const policy = await find(c.req.param('id'));
      c.header('etag', etag(policy));
      return c.json(render(policy));
    },
  );

  app.get(
    '/:id/on-call',
    doc({
      summary: 'Whom each level would page',
      description:
        'If it fired at `at` (default: now), by the rules an escalation pages by: per level, its channels and everyone it would page (`user_ids`), and in `users` each one’s name and, for one on call in a schedule, `until` when their unbroken run of shifts ends (null: not within 93 days; always null for a user named on the level). `reaches_anyone` false: nobody is on call in its schedules and nothing it names can take a message (by email nothing can while this process has no `SMTP_URL`), so it would be recorded as reaching nobody and the next level fire at once.',
      access: 'read',
      id: POLICY,
      query: OnCallQuery,
      ok: { status: 200, description: 'Each level, as the policy lists them.', body: 'PolicyOnCall' },
    }),
    requireScope('read'),
    async (c) => {
      const policy = await find(c.req.param('id'));
      const at = query(c, OnCallQuery).at ?? clock.now();
      const levels = await policyAt(sql, policy, at, deps.transports?.email.configured);
      const body: PolicyOnCall = {
        at: at.toISOString(),
        levels: levels.map((l) => ({
          after_seconds: l.after_seconds,
          channel_ids: l.channel_ids,
          user_ids: l.users.map((u) => u.user_id),
          users: l.users.map((u) => ({ ...renderOnCall(u), schedule_id: u.schedule_id ?? null })),
          empty_schedule_ids: l.empty_schedule_ids,
          reaches_anyone: l.reaches_anyone,
        })),
      };
      return c.json(body);
    },
  );

  app.patch(
    '/:id',
    doc({
      summary: 'Change an escalation policy',
      description: LEVELS,
      access: 'write',
      id: POLICY,
      headers: [IF_MATCH_ETAG],
      body: PatchPolicy,
      ok: { status: 200, description: 'The policy as changed, with its new `ETag`.', body: 'EscalationPolicy' },
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const existing = await find(c.req.param('id'));
      const expected = ifMatchAny(c, ETAG_EXAMPLE);
      const patch = await body(c, PatchPolicy);
      const changed = await updatePolicy(sql, existing, patch, clock.now(), acting(c), expected);
      c.header('etag', etag(changed));
      return c.json(render(changed));
    },
  );

  app.delete(
    '/:id',
    doc({
      summary: 'Delete an escalation policy',
      description: 'Nodes that used it fall back to the default policy.',
      access: 'write',
      id: POLICY,
      headers: [IF_MATCH_ETAG],
      ok: { status: 204, description: 'Deleted.' },
      errors: [412],
    }),
    requireScope('write'),
    async (c) => {
      const ref = c.req.param('id');
      const expected = ifMatchAny(c, ETAG_EXAMPLE);
      if (!(await deletePolicy(sql, (await find(ref)).id, clock.now(), acting(c), expected))) throw notFound(`Escalation policy "${ref}"`);
      return c.body(null, 204);
    },
  );

  return app;
}
