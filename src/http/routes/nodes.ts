import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type Node, type NodeWithToken, type Transition } from '../../api/shapes.ts';
import { missedHeartbeats, STATES } from '../../health/decide.ts';
import { NODE_DEFAULTS, type NodeRow, type TransitionRow } from '../../nodes/model.ts';
import { createNode, deleteNode, rotateToken, updateNode } from '../../nodes/service.ts';
import { getNode, listNodes, listTransitions } from '../../nodes/store.ts';
import { acting } from '../acting.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { notFound } from '../../errors.ts';
import { operationDocs } from '../openapi.ts';
import { body, closedObject, decodeCursor, int, isInt32, Labels, NodeName, page, Paging, query } from '../validation.ts';

/** A node as the API shows it; `missed_heartbeats` is counted at `now`. */
export function nodeView(n: NodeRow, now: Date): Node {
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
    created_at: n.created_at.toISOString(),
    updated_at: n.updated_at.toISOString(),
    health: {
      state: n.state,
      since: n.since.toISOString(),
      reason: n.reason,
      state_version: n.state_version,
      last_heartbeat_at: n.last_heartbeat_at ? n.last_heartbeat_at.toISOString() : null,
      missed_heartbeats: missedHeartbeats(n.last_heartbeat_at, n.coverage_since ?? n.created_at, policy, now),
      last_status: n.last_status,
      checks: n.checks,
    },
  };
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

export const CreateNode = closedObject({
  name: NodeName,
  labels: v.optional(Labels, {}),
  heartbeat_interval_seconds: v.optional(Settings.heartbeat_interval_seconds, NODE_DEFAULTS.heartbeat_interval_seconds),
  grace_seconds: v.optional(Settings.grace_seconds, NODE_DEFAULTS.grace_seconds),
  failures_for_down: v.optional(Settings.failures_for_down, NODE_DEFAULTS.failures_for_down),
  successes_for_recovery: v.optional(Settings.successes_for_recovery, NODE_DEFAULTS.successes_for_recovery),
  escalation_policy_id: v.optional(Settings.escalation_policy_id, null),
});

export const PatchNode = closedObject({
  name: v.optional(NodeName),
  labels: v.optional(Labels),
  heartbeat_interval_seconds: v.optional(Settings.heartbeat_interval_seconds),
  grace_seconds: v.optional(Settings.grace_seconds),
  failures_for_down: v.optional(Settings.failures_for_down),
  successes_for_recovery: v.optional(Settings.successes_for_recovery),
  escalation_policy_id: v.optional(Settings.escalation_policy_id),
});

export const ListNodes = v.object({
  ...Paging,
  state: v.optional(v.picklist(STATES, `must be one of ${STATES.join(', ')}`)),
  label: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[^:]+:.*$/, 'must be key:value'),
      v.transform((s) => ({ key: s.slice(0, s.indexOf(':')), value: s.slice(s.indexOf(':') + 1) })),
    ),
  ),
});

export const ListTransitions = v.object(Paging);

const doc = operationDocs('Nodes');
const NODE = 'The node id or name';

export function nodeRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();

  const find = async (ref: string) => {
    const node = await getNode(sql, ref);
    if (!node) throw notFound(`Node "${ref}"`);
    return node;
  };

  app.post(
    '/',
    doc({
      summary: 'Create a node',
      description: 'The answer carries the node token, shown only this once. `name` is unique.',
      access: 'write',
      body: CreateNode,
      ok: { status: 201, description: 'The node and its token.', body: 'NodeWithToken' },
      errors: [409],
    }),
    requireScope('write'),
    async (c) => {
      const input = await body(c, CreateNode);
      const now = clock.now();
      const { node, token } = await createNode(sql, input, now, acting(c));
      const answer: NodeWithToken = { ...nodeView(node, now), token };
      return c.json(answer, 201);
    },
  );

  app.get(
    '/',
    doc({
      summary: 'List nodes',
      description: 'By name.',
      access: 'read',
      query: ListNodes,
      queryNotes: { label: 'Only nodes carrying this label, as `key:value`' },
      ok: { status: 200, description: 'A page of nodes.', body: listOf('Node') },
    }),
    requireScope('read'),
    async (c) => {
      const q = query(c, ListNodes);
      const after = decodeCursor(q.cursor, (k): k is string => typeof k === 'string');
      const rows = await listNodes(sql, { state: q.state, label: q.label, after, limit: q.limit + 1 });
      const now = clock.now();
      return c.json(page(rows.map((n) => nodeView(n, now)), q.limit, (n) => n.name));
    },
  );

  app.get(
    '/:id',
    doc({ summary: 'Get a node', access: 'read', id: NODE, ok: { status: 200, description: 'The node.', body: 'Node' } }),
    requireScope('read'),
    async (c) => c.json(nodeView(await find(c.req.param('id')), clock.now())),
  );

  app.patch(
    '/:id',
    doc({
      summary: 'Change a node',
      description: 'A changed setting is judged afresh at the next evaluator tick.',
      access: 'write',
      id: NODE,
      body: PatchNode,
      ok: { status: 200, description: 'The node as changed.', body: 'Node' },
      errors: [409],
    }),
    requireScope('write'),
    async (c) => {
      const node = await find(c.req.param('id'));
      const patch = await body(c, PatchNode);
      const changed = await updateNode(sql, node.id, patch, clock.now(), acting(c));
      deps.identity.forget();
      return c.json(nodeView(changed, clock.now()));
    },
  );

  app.delete(
    '/:id',
    doc({ summary: 'Delete a node', access: 'write', id: NODE, ok: { status: 204, description: 'Deleted.' } }),
    requireScope('write'),
    async (c) => {
      const node = await find(c.req.param('id'));
      if (!(await deleteNode(sql, node.id, clock.now(), acting(c)))) throw notFound(`Node "${c.req.param('id')}"`);
      deps.identity.forget();
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
      const answer: NodeWithToken = { ...nodeView(rotated, clock.now()), token };
      return c.json(answer);
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

  return app;
}
