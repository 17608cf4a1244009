import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type AuditEntry } from '../../api/shapes.ts';
import type { AuditRow } from '../../audit/model.ts';
import { listAuditRows } from '../../audit/store.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { operationDocs } from '../openapi.ts';
import { closedObject, decodeCursor, page, Paging, query, Timestamp } from '../validation.ts';

const render = (r: AuditRow): AuditEntry => ({
  id: r.id,
  at: r.at.toISOString(),
  actor: { kind: r.actor_kind, id: r.actor_id, name: r.actor_name },
  via: r.via,
  action: r.action,
  target: { type: r.target_type, id: r.target_id, name: r.target_name },
  result: r.result,
  request_id: r.request_id,
  detail: r.detail,
});

// Ids, names and request ids are at most a few dozen characters; 200 bounds a filter without refusing any.
const Filter = v.optional(v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'), v.maxLength(200, 'must be at most 200 characters')));

export const ListAudit = closedObject({
  ...Paging,
  actor_id: Filter,
  action: Filter,
  target_type: Filter,
  target_id: Filter,
  request_id: Filter,
  since: v.optional(Timestamp),
  until: v.optional(Timestamp),
});

// A row id as this server issues it: a positive bigint, well inside 2^63.
export const isAuditId = (k: unknown): k is string => typeof k === 'string' && /^[1-9]\d{0,17}$/.test(k);

const doc = operationDocs('Audit');

export function auditRoutes(deps: AppDeps) {
  const app = new Hono<AuthEnv>();
  app.get(
    '/',
    doc({
      summary: 'List the audit log',
      description:
        'Every privileged change (keys, nodes, channels, escalation policies, users, schedules and overrides, maintenance, status pages, acknowledgements and resolutions), newest first, whichever door it came through: the API, the console or a signed link. Each filter narrows; `since` and `until` bound `at` (`until` excluded).',
      access: 'admin',
      query: ListAudit,
      queryNotes: {
        actor_id: "Only changes by this API key, or by the user or channel a signed link names",
        action: 'Only this action, such as `node.delete`',
        target_type: 'Only changes to this kind of thing, such as `node`',
        target_id: 'Only changes to the thing with this id',
        request_id: 'Only the changes of the request answered with this X-Request-Id',
      },
      ok: { status: 200, description: 'A page of audit entries.', body: listOf('AuditEntry') },
    }),
    requireScope('admin'),
    async (c) => {
      const q = query(c, ListAudit);
      const rows = await listAuditRows(
        deps.sql,
        {
          actorId: q.actor_id,
          action: q.action,
          targetType: q.target_type,
          targetId: q.target_id,
          requestId: q.request_id,
          since: q.since,
          until: q.until,
          beforeId: decodeCursor(q.cursor, isAuditId),
        },
        q.limit + 1,
      );
      return c.json(page(rows.map(render), q.limit, (e) => e.id));
    },
  );
  return app;
}
