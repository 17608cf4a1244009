import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type Node, type NodeWithToken, type Run, type Transition } from '../../api/shapes.ts';
import { missedHeartbeats, STATES } from '../../health/decide.ts';
import { expectedRun, GIVEN_PING_KEY, NODE_DEFAULTS, pingKeyProblem, SCHEDULE_DEFAULTS, type NodeRow, type TransitionRow } from '../../nodes/model.ts';
import { applyNode, changeNode, createNode, deleteNode, rotatePingKey, rotateToken } from '../../nodes/service.ts';
import { getNode, listNodes, listTransitions } from '../../nodes/store.ts';
import { runDurationMs } from '../../jobs/model.ts';
import { listRuns, type RunRow } from '../../jobs/store.ts';
import { acting } from '../acting.ts';
import { principalOf, requireScope, type AuthEnv } from '../auth.ts';
import { allows, type Principal } from '../../access/model.ts';
import type { AppDeps } from '../deps.ts';
import { notFound, validationFailed } from '../../errors.ts';
import { operationDocs } from '../openapi.ts';
import { etag, ETAG_EXAMPLE, ETAG_NOTE, ifMatchAny, IF_MATCH_ETAG } from '../if-match.ts';
import { body, closedObject, decodeCursor, documented, int, isInt32, LABEL_FILTERS_NOTE, LabelFilters, Labels, NewNodeName, page, Paging, query, TimeZone } from '../validation.ts';

/** Where a node's ping URL lives: LIFELINE_PUBLIC_URL, without a trailing slash; null without one. */
export const pingUrl = (publicUrl: string | undefined, pingKey: string): string | null => (publicUrl ? `${publicUrl}/ping/${pingKey}` : null);

/**
 * Whether a caller is shown nodes' ping keys: a ping changes a node's state (`/ping/{key}/fail`
 * marks it down and opens an incident; a success keeps a dead job looking healthy), so only those
 * who may change nodes see them, as Healthchecks hides ping URLs from read-only keys.
 */
export const seesPingKey = (p: Principal): boolean => allows(p, 'write');

const pingView = (n: NodeRow, publicUrl: string | undefined) => ({ ping_key: n.ping_key, ping_url: pingUrl(publicUrl, n.ping_key) });

/** A node with its new token: only write and admin keys make one, so its ping key is always shown. */
const withToken = (n: NodeRow, now: Date, publicUrl: string | undefined, viewer: Principal, token: string): NodeWithToken => ({
  ...nodeView(n, now, publicUrl, viewer),
  ...pingView(n, publicUrl),
  token,
});

/**
 * A node as the API shows it to `viewer`; `missed_heartbeats` is counted at `now` (0 for a
 * scheduled job, which misses runs, not heartbeats).
 */
export function nodeView(n: NodeRow, now: Date, publicUrl: string | undefined, viewer: Principal): Node {
  const policy = {
    heartbeatIntervalSeconds: n.heartbeat_interval_seconds,
    graceSeconds: n.grace_seconds,
    failuresForDown: n.failures_for_down,
    successesForRecovery: n.successes_for_recovery,
  };
  return {
    id: n.id,
    name: n.name,
    labels: n.labels,
    heartbeat_interval_seconds: n.heartbeat_interval_seconds,
    grace_seconds: n.grace_seconds,
    failures_for_down: n.failures_for_down,
    successes_for_recovery: n.successes_for_recovery,
    escalation_policy_id: n.escalation_policy_id,
    badge_id: n.badge_id,
    schedule: n.schedule && { ...n.schedule, max_run_seconds: n.schedule.max_run_seconds ?? null },
    ...(seesPingKey(viewer) ? pingView(n, publicUrl) : {}),
    created_at: n.created_at.toISOString(),
    updated_at: n.updated_at.toISOString(),
    health: {
      state: n.state,
      since: n.since.toISOString(),
      reason: n.reason,
      state_version: n.state_version,
      last_heartbeat_at: n.last_heartbeat_at ? n.last_heartbeat_at.toISOString() : null,
      missed_heartbeats: n.schedule ? 0 : missedHeartbeats(n.last_heartbeat_at, n.coverage_since ?? n.created_at, policy, now),
      last_status: n.last_status,
      checks: n.checks,
      ...dueView(n, now),
    },
  };
}

/** A scheduled job's next expected run, as its console page shows it (expectedRun); null for a heartbeat node. */
function dueView(n: NodeRow, now: Date): Pick<Node['health'], 'next_due_at' | 'grace_ends_at'> {
  const next = n.schedule && expectedRun(n, n.schedule, now);
  return { next_due_at: next ? next.at.toISOString() : null, grace_ends_at: next?.graceEndsAt?.toISOString() ?? null };
}

const transitionView = (r: TransitionRow): Transition => ({
  from: r.from_state,
  to: r.to_state,
  at: r.at.toISOString(),
  reason: r.reason,
  state_version: r.state_version,
});

const Settings = {
  heartbeat_interval_seconds: int(1, 86_400),
  grace_seconds: int(0, 86_400),
  failures_for_down: int(1, 1000),
  successes_for_recovery: int(1, 1000),
  escalation_policy_id: v.nullable(v.pipe(v.string(), v.uuid('must be a UUID'))),
};

// A week: the longest grace or run limit that still reads as a mistake caught within the week.
const WEEK = 7 * 86_400;

const ScheduleFields = {
  cron: v.pipe(v.string('must be a string'), v.maxLength(256, 'must be at most 256 characters')),
  time_zone: TimeZone,
  grace_seconds: int(0, WEEK),
  max_run_seconds: v.nullable(int(1, WEEK)),
};

/** A scheduled job's schedule; its expression is checked against the cron package in the route. */
export const Schedule = closedObject({
  cron: ScheduleFields.cron,
  time_zone: v.optional(ScheduleFields.time_zone, SCHEDULE_DEFAULTS.time_zone),
  grace_seconds: v.optional(ScheduleFields.grace_seconds, SCHEDULE_DEFAULTS.grace_seconds),
  max_run_seconds: v.optional(ScheduleFields.max_run_seconds, SCHEDULE_DEFAULTS.max_run_seconds),
});

/** A schedule in a PATCH: without defaults, since the fields it leaves out keep their stored values. */
export const SchedulePatch = closedObject({
  cron: v.optional(ScheduleFields.cron),
  time_zone: v.optional(ScheduleFields.time_zone),
  grace_seconds: v.optional(ScheduleFields.grace_seconds),
  max_run_seconds: v.optional(ScheduleFields.max_run_seconds),
});

/** A ping key given on creation or later; one problem at a time, in pingKeyProblem's words. */
const GivenPingKey = v.pipe(
  v.string('must be a string'),
  v.rawCheck(({ dataset, addIssue }) => {
    const problem = dataset.typed ? pingKeyProblem(dataset.value) : undefined;
    if (problem) addIssue({ message: problem });
  }),
  documented({ pattern: GIVEN_PING_KEY.source, description: "Drawn at random unless given: a Healthchecks check's UUID keeps its crontab's path. At least 8 different characters" }),
);

/** A node's whole desired state, as created (POST, with its name) or applied by name (PUT): what is left out takes its default. */
const DesiredFields = {
  labels: v.optional(Labels, {}),
  schedule: v.optional(v.nullable(Schedule), null),
  heartbeat_interval_seconds: v.optional(Settings.heartbeat_interval_seconds),
  grace_seconds: v.optional(Settings.grace_seconds, NODE_DEFAULTS.grace_seconds),
  failures_for_down: v.optional(Settings.failures_for_down, NODE_DEFAULTS.failures_for_down),
  successes_for_recovery: v.optional(Settings.successes_for_recovery, NODE_DEFAULTS.successes_for_recovery),
  escalation_policy_id: v.optional(Settings.escalation_policy_id, null),
  ping_key: v.optional(GivenPingKey),
};

export const CreateNode = closedObject({ name: NewNodeName, ...DesiredFields });
export const PutNode = closedObject(DesiredFields);

export const PatchNode = closedObject({
  name: v.optional(NewNodeName),
  labels: v.optional(Labels),
  schedule: v.optional(v.nullable(SchedulePatch)),
  heartbeat_interval_seconds: v.optional(Settings.heartbeat_interval_seconds),
  grace_seconds: v.optional(Settings.grace_seconds),
  failures_for_down: v.optional(Settings.failures_for_down),
  successes_for_recovery: v.optional(Settings.successes_for_recovery),
  escalation_policy_id: v.optional(Settings.escalation_policy_id),
  ping_key: v.optional(GivenPingKey),
});

export const ListNodes = closedObject({
  ...Paging,
  state: v.optional(v.picklist(STATES, `must be one of ${STATES.join(', ')}`)),
  label: LabelFilters,
});

export const ListTransitions = closedObject(Paging);
export const ListRuns = closedObject(Paging);

export const runView = (r: RunRow): Run => ({
  started_at: r.started_at?.toISOString() ?? null,
  finished_at: r.finished_at?.toISOString() ?? null,
  duration_ms: runDurationMs({ startedAt: r.started_at, finishedAt: r.finished_at }),
  exit_code: r.exit_code,
  status: r.status,
  output: r.output,
  rid: r.rid,
});

const isRunCursor = (k: unknown): k is string => typeof k === 'string' && /^[1-9][0-9]{0,17}$/.test(k);

const doc = operationDocs('Nodes');
const NODE = 'The node id or name';

export function nodeRoutes(deps: AppDeps) {
  const { sql, clock, publicUrl } = deps;
  const app = new Hono<AuthEnv>();

  const find = async (ref: string) => {
    const node = await getNode(sql, ref);
    if (!node) throw notFound(`Node "${ref}"`);
    return node;
  };

  /**
   * What this process remembers of a node just changed: its name (heartbeats), the pages showing
   * it, and both ping keys when it has a new one: the old one answers 404 at once here, and the
   * new one is no longer remembered as unknown (a crontab switched over before the key moved).
   * Other processes forget as the change commits (its NOTIFY); this one before it answers, since
   * its own notice comes back a moment later.
   */
  const forgetChanged = (keyBefore: string | undefined, keyAfter: string) => {
    deps.identity.forget();
    deps.publicChanges?.changed(['pages']);
    if (keyBefore === undefined || keyBefore === keyAfter) return;
    deps.ingestor?.forgetPingKey(keyBefore);
    deps.ingestor?.forgetPingKey(keyAfter);
  };

  app.post(
    '/',
    doc({
      summary: 'Create a node',
      description:
        'The answer carries the node token, shown only this once. `name` is unique. A scheduled job has a `schedule` (cron, five fields or six with seconds first) instead of `heartbeat_interval_seconds`; giving both is 400. `ping_key` is drawn at random unless given: a given one (a Healthchecks check\'s UUID, so its crontab keeps its path) is 22 to 64 characters of A-Z a-z 0-9 _ - with at least 8 different ones (400 otherwise), and 409 when another node has it.',
      access: 'write',
      body: CreateNode,
      ok: { status: 201, description: 'The node and its token.', body: 'NodeWithToken' },
      errors: [409],
    }),
    requireScope('write'),
    async (c) => {
      const input = await body(c, CreateNode);
      const now = clock.now();
      const { node, token } = await createNode(sql, input, now, acting(c), deps);
      deps.publicChanges?.changed(['pages']);
      // A crontab switched over before its job was made left this key remembered as unknown here.
      if (input.ping_key !== undefined) deps.ingestor?.forgetPingKey(input.ping_key);
      const answer = withToken(node, now, publicUrl, principalOf(c), token);
      return c.json(answer, 201);
    },
  );

  app.put(
    '/by-name/:name',
    doc({
      summary: 'Create or update a node by name',
      description:
        "For deploy scripts and configuration as code, run as often as they like: the body is the node's whole desired state, as `POST /v1/nodes` takes it without `name` (the path's). " +
        'A node of that name is created with it (201, with its token, shown only this once), else changed to it (200, without a token): every setting left out takes its default, ' +
        '`labels` are replaced whole (left out: none), and no `schedule` makes a heartbeat node. `ping_key` alone is kept when left out; given, it moves the ping URL (409 when another node has it). ' +
        'Settings as they are write nothing: the `ETag` and `updated_at` stay. The `Lifeline-Outcome` header says `created`, `updated` or `unchanged`. ' +
        'With `If-Match` the node must exist (412 otherwise, nothing created) and be at that version (`*`: any).',
      access: 'write',
      pathParams: { name: "The node's name: 1-128 characters of A-Z a-z 0-9 . _ : -" },
      headers: [IF_MATCH_ETAG],
      body: PutNode,
      ok: { status: 200, description: 'The node as it now is, with its `ETag`.', body: 'Node' },
      also: [{ status: 201, description: 'The node, created, and its token.', body: 'NodeWithToken' }],
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const name = v.safeParse(NewNodeName, c.req.param('name'));
      if (!name.success) throw validationFailed([{ field: 'name', message: name.issues[0].message }]);
      const versions = ifMatchAny(c, ETAG_EXAMPLE);
      const input = await body(c, PutNode);
      const now = clock.now();
      const applied = await applyNode(sql, name.output, input, now, acting(c), deps, { given: c.req.header('if-match') !== undefined, versions });
      c.header('lifeline-outcome', applied.outcome);
      c.header('etag', etag(applied.node));
      if (applied.outcome === 'created') {
        deps.publicChanges?.changed(['pages']);
        // As for a POST: a crontab switched over before its job was made left this key remembered as unknown here.
        deps.ingestor?.forgetPingKey(applied.node.ping_key);
        return c.json(withToken(applied.node, now, publicUrl, principalOf(c), applied.token), 201);
      }
      if (applied.outcome === 'updated') forgetChanged(applied.pingKeyBefore, applied.node.ping_key);
      return c.json(nodeView(applied.node, now, publicUrl, principalOf(c)));
    },
  );

  app.get(
    '/',
    doc({
      summary: 'List nodes',
      description: 'By name.',
      access: 'read',
      query: ListNodes,
      queryNotes: { label: LABEL_FILTERS_NOTE },
      ok: { status: 200, description: 'A page of nodes.', body: listOf('Node') },
    }),
    requireScope('read'),
    async (c) => {
      const q = query(c, ListNodes, ['label']);
      const after = decodeCursor(q.cursor, (k): k is string => typeof k === 'string');
      const rows = await listNodes(sql, { state: q.state, labels: q.label, after, limit: q.limit + 1 });
      const now = clock.now();
      return c.json(page(rows.map((n) => nodeView(n, now, publicUrl, principalOf(c))), q.limit, (n) => n.name));
    },
  );

  app.get(
    '/:id',
    doc({ summary: 'Get a node', description: ETAG_NOTE, access: 'read', id: NODE, ok: { status: 200, description: 'The node.', body: 'Node' } }),
    requireScope('read'),
    async (c) => {
      const node = await find(c.req.param('id'));
      c.header('etag', etag(node));
      return c.json(nodeView(node, clock.now(), publicUrl, principalOf(c)));
    },
  );

  app.patch(
    '/:id',
    doc({
      summary: 'Change a node',
      description:
        'A changed setting is judged afresh at the next evaluator tick. The fields given in `schedule` replace the stored ones and the others are kept (`max_run_seconds: null` removes the run limit); `schedule: null` makes the job a heartbeat node again. A node without a schedule must be given its `cron`. ' +
        'A `ping_key` given moves the ping URL, under the rules of `POST /v1/nodes` (409 when another node has it): the old one answers 404 as the change commits, in every process. Settings as they are write nothing: the `ETag` stays.',
      access: 'write',
      id: NODE,
      headers: [IF_MATCH_ETAG],
      body: PatchNode,
      ok: { status: 200, description: 'The node as changed, with its new `ETag`.', body: 'Node' },
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const node = await find(c.req.param('id'));
      const expected = ifMatchAny(c, ETAG_EXAMPLE);
      const { node: changed, pingKeyBefore } = await changeNode(sql, node.id, await body(c, PatchNode), clock.now(), acting(c), deps, expected);
      c.header('etag', etag(changed));
      forgetChanged(pingKeyBefore, changed.ping_key);
      return c.json(nodeView(changed, clock.now(), publicUrl, principalOf(c)));
    },
  );

  app.delete(
    '/:id',
    doc({ summary: 'Delete a node', access: 'write', id: NODE, headers: [IF_MATCH_ETAG], ok: { status: 204, description: 'Deleted.' }, errors: [412] }),
    requireScope('write'),
    async (c) => {
      const node = await find(c.req.param('id'));
      if (!(await deleteNode(sql, node.id, clock.now(), acting(c), deps, ifMatchAny(c, ETAG_EXAMPLE)))) throw notFound(`Node "${c.req.param('id')}"`);
      deps.identity.forget();
      deps.publicChanges?.changed();
      deps.ingestor?.forgetNode(node.id, node.ping_key);
      return c.body(null, 204);
    },
  );

  app.post(
    '/:id/token',
    doc({
      summary: 'Rotate a node token',
      description: 'The old token stops working at once in every process (they are told through Postgres NOTIFY).',
      access: 'write',
      id: NODE,
      ok: { status: 200, description: 'The node and its new token.', body: 'NodeWithToken' },
    }),
    requireScope('write'),
    async (c) => {
      const node = await find(c.req.param('id'));
      const { node: rotated, token } = await rotateToken(sql, node.id, clock.now(), acting(c));
      deps.identity.forget();
      const answer = withToken(rotated, clock.now(), publicUrl, principalOf(c), token);
      return c.json(answer);
    },
  );

  app.post(
    '/:id/ping-key',
    doc({
      summary: 'Rotate a ping key',
      description: 'A new ping URL; the old one answers 404 as the change commits, in every process.',
      access: 'write',
      id: NODE,
      ok: { status: 200, description: 'The node with its new ping key and URL.', body: 'Node' },
    }),
    requireScope('write'),
    async (c) => {
      const node = await find(c.req.param('id'));
      const rotated = await rotatePingKey(sql, node.id, clock.now(), acting(c));
      deps.ingestor?.forgetPingKey(node.ping_key);
      return c.json(nodeView(rotated, clock.now(), publicUrl, principalOf(c)));
    },
  );

  app.get(
    '/:id/transitions',
    doc({
      summary: "List a node's transitions",
      description: 'Every health change, newest first.',
      access: 'read',
      id: NODE,
      query: ListTransitions,
      ok: { status: 200, description: 'A page of transitions.', body: listOf('Transition') },
    }),
    requireScope('read'),
    async (c) => {
      const node = await find(c.req.param('id'));
      const q = query(c, ListTransitions);
      const before = decodeCursor(q.cursor, isInt32);
      const rows = await listTransitions(sql, node.id, before, q.limit + 1);
      return c.json(page(rows.map(transitionView), q.limit, (t) => t.state_version));
    },
  );

  app.get(
    '/:id/runs',
    doc({
      summary: "List a scheduled job's runs",
      description: 'Newest first: each start with its end (duration, exit code, the last 10 KB of output), ends that said more than "ok", and /log messages. The newest 100 are kept.',
      access: 'read',
      id: NODE,
      query: ListRuns,
      ok: { status: 200, description: 'A page of runs.', body: listOf('Run') },
    }),
    requireScope('read'),
    async (c) => {
      const node = await find(c.req.param('id'));
      const q = query(c, ListRuns);
      const before = decodeCursor(q.cursor, isRunCursor);
      const rows = await listRuns(sql, node.id, before, q.limit + 1);
      const shown = page(rows, q.limit, (r) => r.id);
      return c.json({ items: shown.items.map(runView), next_cursor: shown.next_cursor });
    },
  );

  return app;
}
