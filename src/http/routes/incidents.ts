import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { actorOf } from '../../access/model.ts';
import { listOf, type Delivery, type Incident, type IncidentSummary } from '../../api/shapes.ts';
import { engineActor } from '../../incidents/shown-actor.ts';
import { ACKNOWLEDGE_MAX, INCIDENT_STATUSES, type IncidentRow } from '../../incidents/model.ts';
import { isBlank, NOTE_BLANK, NOTE_MAX_CHARS, NOTE_TOO_LONG, NOTES_MAX } from '../../incidents/resolve-note.ts';
import { acknowledge, acknowledgeEach, addNote, resolve, type Actor } from '../../incidents/service.ts';
import { getIncident, incidentsNodeId, listIncidents, summarizeIncidents, timelinesOf } from '../../incidents/store.ts';
import { CATEGORIES } from '../../incidents/categorize.ts';
import { incidentView, timelineView } from '../../incidents/view.ts';
import { listDeliveries } from '../../notifications/store.ts';
import { principalOf, requireScope, type AuthEnv } from '../auth.ts';
import type { Acting } from '../../audit/model.ts';
import { acting } from '../acting.ts';
import { byId } from '../by-id.ts';
import { ifMatchAny } from '../if-match.ts';
import type { AppDeps } from '../deps.ts';
import { notFound, validationFailed } from '../../errors.ts';
import type { Queryable } from '../../db/client.ts';
import { operationDocs } from '../openapi.ts';
import { body, closedObject, decodeCursor, DisplayName, idList, isTimeCursor, LabelFilters, noBidiControls, NodeName, optionalBody, page, Paging, query, Timestamp } from '../validation.ts';

const IncidentFilters = {
  node_id: v.optional(NodeName),
  label: LabelFilters,
  opened_after: v.optional(Timestamp),
  opened_before: v.optional(Timestamp),
};

export const ListIncidents = closedObject({
  ...Paging,
  status: v.optional(v.picklist(INCIDENT_STATUSES, 'must be open, acknowledged or resolved')),
  ...IncidentFilters,
});

export const SummarizeIncidents = closedObject(IncidentFilters);

/** The opening range a query asks for, [opened_after, opened_before); 400 for an empty one. */
function openedRange(q: { opened_after?: Date | undefined; opened_before?: Date | undefined }) {
  if (q.opened_after && q.opened_before && q.opened_before <= q.opened_after) {
    throw validationFailed([{ field: 'opened_before', message: 'must be after opened_after' }]);
  }
  return { openedAfter: q.opened_after, openedBefore: q.opened_before };
}

const FILTER_NOTES = {
  node_id: "The node's id or name: only its incidents (a deleted node's too: by id, or by a name no node has now, the newest node that had it).",
  label: "Only incidents whose node carries this label now, as `key=value` or `key:value` (the node list's filter); repeat it for several, all of which must match.",
  opened_after: 'Only incidents opened at or after this time (RFC 3339).',
  opened_before: 'Only incidents opened before this time (RFC 3339); must be after `opened_after`.',
};

/** The filters both the list and the summary read: node, labels and the opening range. */
async function filtersOf(sql: Queryable, q: v.InferOutput<typeof SummarizeIncidents>) {
  return { nodeId: await nodeFilter(sql, q.node_id), labels: q.label, ...openedRange(q) };
}

/** The node `?node_id=` names (incidentsNodeId); 404 for a name no node has and no incident was opened under. */
async function nodeFilter(sql: Queryable, ref: string | undefined): Promise<string | undefined> {
  if (ref === undefined) return undefined;
  const id = await incidentsNodeId(sql, ref);
  if (id === undefined) throw notFound(`Node "${ref}"`);
  return id;
}

// Who acted, shown in the timeline by name: a name like any other, except the engine's own markers.
const By = v.optional(
  v.pipe(DisplayName, v.check((by) => !engineActor(by), 'is kept for the engine: not "auto", "node_deleted", or starting "api-key:" or "node:"')),
);
export const Acknowledge = closedObject({ by: By });
export const AcknowledgeEach = closedObject({
  incident_ids: v.pipe(idList('incident', ACKNOWLEDGE_MAX), v.minLength(1, 'must name at least one incident')),
  by: By,
});
const NoteText = v.pipe(v.string('must be a string'), v.maxLength(NOTE_MAX_CHARS, NOTE_TOO_LONG), noBidiControls());
export const Resolve = closedObject({ by: By, note: v.optional(NoteText) });
// minLength says in the document what the blank check (which JSON Schema cannot say) refuses first.
export const AddNote = closedObject({ note: v.pipe(NoteText, v.minLength(1, NOTE_BLANK), v.check((s) => !isBlank(s), NOTE_BLANK)), by: By });

/** What acknowledging or resolving a resolved incident is answered, after its 409. */
const ALREADY_RESOLVED = '`conflict`, naming who resolved it and when in its message and in `details` (`resolved_by` and `resolved_at`, each `value` as the incident reads)';
const doc = operationDocs('Incidents');
const INCIDENT = 'The incident id';
const IF_MATCH = {
  name: 'If-Match',
  in: 'header',
  description: 'Act only if the incident is still at this `version` (`3`, `"3"` or `W/"3"`), or at any of a comma-separated list of them; 412 otherwise. `*` acts on any version',
  schema: { type: 'string' },
} as const;

export function incidentRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();

  const render = async (rows: IncidentRow[]): Promise<Incident[]> => {
    const timelines = await timelinesOf(sql, rows.map((r) => r.id));
    return rows.map((r) => ({ ...incidentView(r), timeline: timelineView(timelines.get(r.id) ?? []) }));
  };
  const find = byId('Incident', (id) => getIncident(sql, id));

  /**
   * Acknowledge and resolve, one contract: `If-Match`, an optional body, the incident back; 409 once
   * resolved, 412 on a stale version. The incident exists (404 before the body is read), then the
   * command.
   */
  const act = <S extends typeof Acknowledge | typeof Resolve>(
    action: 'acknowledge' | 'resolve',
    about: { summary: string; description: string },
    schema: S,
    command: (id: string, input: v.InferOutput<S>, actor: Actor, who: Acting) => Promise<IncidentRow>,
  ) =>
    app.post(
      `/:id/${action}`,
      doc({
        ...about,
        access: 'write',
        id: INCIDENT,
        headers: [IF_MATCH],
        body: schema,
        bodyOptional: true,
        ok: { status: 200, description: 'The incident.', body: 'Incident' },
        errors: [409, 412],
      }),
      requireScope('write'),
      async (c) => {
        const id = c.req.param('id')!;
        await find(id);
        const input = await optionalBody(c, schema);
        const actor = { by: actorOf(principalOf(c), input.by), expectedVersion: ifMatchAny(c, 'the incident version, e.g. If-Match: 3') };
        return c.json((await render([await command(id, input, actor, acting(c))]))[0]);
      },
    );

  app.get(
    '/',
    doc({
      summary: 'List incidents',
      description: 'Newest first, each with its timeline.',
      access: 'read',
      query: ListIncidents,
      queryNotes: FILTER_NOTES,
      ok: { status: 200, description: 'A page of incidents.', body: listOf('Incident') },
      errors: [404],
    }),
    requireScope('read'),
    async (c) => {
      const q = query(c, ListIncidents, ['label']);
      const after = decodeCursor(q.cursor, isTimeCursor);
      const rows = await listIncidents(sql, {
        status: q.status,
        ...(await filtersOf(sql, q)),
        after: after ? { openedAt: new Date(after[0]), id: after[1] } : undefined,
        limit: q.limit + 1,
      });
      const items = await render(rows);
      return c.json(page(items, q.limit, (i) => [i.opened_at, i.id]));
    },
  );

  app.get(
    '/summary',
    doc({
      summary: 'Summarize incidents for a review',
      description:
        'The incidents the filters keep, whatever their status: how many, how many were acknowledged and resolved, and how long those took from the opening (mean, median and 90th percentile, in seconds). No `status` filter (400): acknowledged and resolved are among its figures. Time to acknowledge runs to the first acknowledgement, over the incidents ever acknowledged (one whose acknowledgement expired included); time to resolve every one resolved, by a person or by Lifeline when its node recovered (acknowledged first or not).',
      access: 'read',
      query: SummarizeIncidents,
      queryNotes: FILTER_NOTES,
      ok: { status: 200, description: 'The figures.', body: 'IncidentSummary' },
      errors: [404],
    }),
    requireScope('read'),
    async (c) => {
      // Refused, not ignored: `acknowledged` and `resolved` are the summary's own figures, and a
      // status=open read as a filter would give figures of every incident under that name.
      if (c.req.query('status') !== undefined) throw validationFailed([{ field: 'status', message: 'is not a summary filter: the summary counts every status, acknowledged and resolved among its figures' }]);
      const q = query(c, SummarizeIncidents, ['label']);
      const row = await summarizeIncidents(sql, await filtersOf(sql, q));
      const byCategory = Object.fromEntries(Object.keys(CATEGORIES).map((k) => [k, row.by_category[k] ?? 0])) as IncidentSummary['by_category'];
      return c.json({ ...row, by_category: byCategory } satisfies IncidentSummary);
    },
  );

  app.post(
    '/acknowledge',
    doc({
      summary: 'Acknowledge several incidents',
      description: `Each incident named is acknowledged as \`POST /v1/incidents/{id}/acknowledge\` would (its timeline entry, audit entry and notifications), at most ${ACKNOWLEDGE_MAX} a call. List them first (\`GET /v1/incidents?status=open&label=…\`): only the incidents named are acknowledged, never one opened since. One acknowledged already or resolved is left as it is; an id no incident has is 400 before any is acknowledged. Answers the ids this call acknowledged, so a second call answers none. \`by\` defaults to the caller.`,
      access: 'write',
      body: AcknowledgeEach,
      ok: {
        status: 200,
        description: 'The incidents this call acknowledged.',
        body: {
          type: 'object',
          required: ['acknowledged', 'count'],
          properties: { acknowledged: { type: 'array', items: { type: 'string', format: 'uuid' } }, count: { type: 'integer', minimum: 0 } },
        },
      },
    }),
    requireScope('write'),
    async (c) => {
      const input = await body(c, AcknowledgeEach);
      const acknowledged = await acknowledgeEach(sql, input.incident_ids, { by: actorOf(principalOf(c), input.by) }, clock, acting(c));
      return c.json({ acknowledged, count: acknowledged.length });
    },
  );

  app.get(
    '/:id',
    doc({ summary: 'Get an incident', access: 'read', id: INCIDENT, ok: { status: 200, description: 'The incident.', body: 'Incident' } }),
    requireScope('read'),
    async (c) => c.json((await render([await find(c.req.param('id'))]))[0]),
  );

  app.get(
    '/:id/deliveries',
    doc({
      summary: "List an incident's deliveries",
      description: "One row per (event, recipient): a channel on the level, a person's email (`user_id`, no `channel_id`) or one of a person's own channels (both). All of them, so `next_cursor` is always null.",
      access: 'read',
      id: INCIDENT,
      ok: { status: 200, description: 'The deliveries.', body: listOf('Delivery') },
    }),
    requireScope('read'),
    async (c) => {
      const incident = await find(c.req.param('id'));
      const rows = await listDeliveries(sql, incident.id);
      return c.json({
        items: rows.map((d): Delivery => ({
          id: d.id,
          channel_id: d.channel_id,
          user_id: d.user_id,
          channel_type: d.channel_type,
          event: d.event,
          status: d.status,
          attempts: d.attempts,
          last_error: d.last_error,
          created_at: d.created_at.toISOString(),
          sent_at: d.sent_at ? d.sent_at.toISOString() : null,
        })),
        next_cursor: null,
      });
    },
  );

  app.post(
    '/:id/notes',
    doc({
      summary: "Add a note to an incident's timeline",
      description: `A \`note\` entry in its timeline (\`detail\`: \`note\`, \`by\`), on an open, acknowledged or resolved incident: "restarting db-3", "vendor ticket #123", a finding for the review. At most ${NOTE_MAX_CHARS} characters, not blank, no bidirectional control characters; an incident takes at most ${NOTES_MAX} notes (409 \`conflict\` past that). For the record only: nobody is paged or told, escalation goes on as it was, and the incident's \`version\` stays (no If-Match: a note never makes another's acknowledge or resolve stale). \`by\` defaults to the caller.`,
      access: 'write',
      id: INCIDENT,
      body: AddNote,
      ok: { status: 201, description: 'The timeline entry written.', body: 'TimelineEntry' },
    }),
    requireScope('write'),
    async (c) => {
      const id = c.req.param('id')!;
      await find(id);
      const input = await body(c, AddNote);
      const entry = await addNote(sql, id, { by: actorOf(principalOf(c), input.by), note: input.note }, clock, acting(c));
      return c.json(timelineView([entry])[0], 201);
    },
  );

  act(
    'acknowledge',
    {
      summary: 'Acknowledge an incident',
      description: `Stops escalation. Acknowledging twice keeps the first; a resolved incident is 409 ${ALREADY_RESOLVED}. \`by\` defaults to the caller.`,
    },
    Acknowledge,
    (id, _input, actor, who) => acknowledge(sql, id, actor, clock, who),
  );

  act(
    'resolve',
    { summary: 'Resolve an incident', description: `Every channel that was paged is told. A resolved incident is 409 ${ALREADY_RESOLVED}. \`by\` defaults to the caller.` },
    Resolve,
    (id, input, actor, who) => resolve(sql, id, { ...actor, note: input.note }, clock, who),
  );

  return app;
}
