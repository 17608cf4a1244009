import type { OpenAPIV3_1 } from 'openapi-types';
import { CHANNEL_TYPES } from '../channels/model.ts';
import type { Scope } from '../access/model.ts';
import { DELIVERY_STATUSES } from '../notifications/model.ts';
import { INCIDENT_EVENTS, INCIDENT_STATUSES } from '../incidents/model.ts';
import { STATES, type CheckStatus, type HeartbeatStatus } from '../health/decide.ts';
import { CATEGORIES, type Severity } from '../incidents/categorize.ts';

// The response side of the OpenAPI document. Requests are described by the valibot schemas the
// handlers parse with (src/http/openapi.ts); responses are built by render functions, so their
// shapes are written here, and test/integration/openapi.test.ts checks real answers against them.

type SchemaObject = OpenAPIV3_1.SchemaObject;
export type Schema = SchemaObject | OpenAPIV3_1.ReferenceObject;

/** The members of a string union as a list; the compiler refuses one that misses a member. */
const every =
  <T extends string>() =>
  <const L extends readonly T[]>(values: L & ([T] extends [L[number]] ? unknown : never)): T[] => [...values];

const SCHEMAS = '#/components/schemas/';
export const ref = (name: SchemaName): Schema => ({ $ref: SCHEMAS + name });

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const uuid: Schema = { type: 'string', format: 'uuid' };
const time: Schema = { type: 'string', format: 'date-time', description: 'RFC 3339, UTC, with milliseconds' };
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
const oneOf = (values: readonly string[]): Schema => ({ type: 'string', enum: [...values] });
const stringMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };

/** An object with these properties, each always present (null stands for "none"), and perhaps more. */
function object(properties: Record<string, Schema>, o: { description?: string; optional?: Record<string, Schema> } = {}): SchemaObject {
  return {
    type: 'object',
    ...(o.description ? { description: o.description } : {}),
    required: Object.keys(properties),
    properties: { ...properties, ...o.optional },
  };
}

/** `base` plus fields a particular answer adds (a secret shown once). */
function withFields(base: SchemaObject, fields: Record<string, Schema>, description: string): SchemaObject {
  return { ...base, description, required: [...(base.required ?? []), ...Object.keys(fields)], properties: { ...base.properties, ...fields } };
}

/** The contract's list envelope around items of one schema. */
export const listOf = (item: SchemaName): Schema =>
  object({
    items: { type: 'array', items: ref(item) },
    next_cursor: { ...nullable(str), description: 'Pass as `cursor` for the next page; null on the last one' },
  });

const uptimeSeconds = object(
  Object.fromEntries(STATES.map((s) => [s, { type: 'number', minimum: 0 }])),
  { description: 'Seconds spent in each state' },
);
const ratio: Schema = { ...nullable({ type: 'number', minimum: 0, maximum: 1 }), description: 'up / monitored; null when nothing was monitored' };

const node = object({
  id: uuid,
  name: str,
  labels: stringMap,
  heartbeat_interval_seconds: int,
  grace_seconds: int,
  failures_for_down: int,
  successes_for_recovery: int,
  escalation_policy_id: { ...nullable(uuid), description: 'null: the default policy applies' },
  created_at: time,
  updated_at: time,
  health: object({
    state: oneOf(STATES),
    since: time,
    reason: nullable(str),
    state_version: int,
    last_heartbeat_at: nullable(time),
    missed_heartbeats: { type: 'integer', minimum: 0 },
    last_status: nullable(oneOf(every<HeartbeatStatus>()(['ok', 'degraded', 'failing']))),
    checks: nullable({
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['status'],
        properties: { status: oneOf(every<CheckStatus>()(['ok', 'warn', 'fail'])), value: { type: 'number' }, message: str },
      },
    }),
  }),
});

const apiKey = object({ id: uuid, name: str, scope: oneOf(every<Scope>()(['admin', 'write', 'read', 'ingest'])), created_at: time, revoked_at: nullable(time) });

const channel = object({
  id: uuid,
  name: str,
  type: oneOf(CHANNEL_TYPES),
  config: { type: 'object', description: 'The configuration without its secret field' },
  has_secret: { type: 'boolean', description: 'Whether a secret (webhook secret, Slack URL, routing key) is stored' },
  created_at: time,
  updated_at: time,
});

const SCHEMA_DEFS = {
  Error: object({
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', pattern: '^[a-z_]+$', examples: ['validation_failed', 'not_found'] },
        message: { type: 'string', description: 'A human sentence' },
        details: {
          type: 'array',
          minItems: 1,
          description: 'With validation_failed: each bad field, as a dot path',
          items: { type: 'object', required: ['field', 'message'], additionalProperties: false, properties: { field: str, message: str } },
        },
      },
    },
  }),
  Liveness: object({ status: { const: 'ok' } }),
  Readiness: object({ status: oneOf(['ready', 'unavailable']) }, { optional: { down: { type: 'array', items: oneOf(['postgres', 'redis']) } } }),
  Node: node,
  NodeWithToken: withFields(node, { token: { type: 'string', description: 'The node token; shown only in this answer' } }, 'The node and its new token'),
  Transition: object({ from: oneOf(STATES), to: oneOf(STATES), at: time, reason: nullable(str), state_version: int }),
  Accepted: object({ accepted: { type: 'integer', minimum: 0, description: 'Heartbeats accepted (including stale ones, which are ignored)' } }),
  ApiKey: apiKey,
  ApiKeyWithSecret: withFields(apiKey, { secret: { type: 'string', description: 'The bearer secret; shown only in this answer' } }, 'The key and its secret'),
  Incident: object({
    id: uuid,
    node_id: uuid,
    node_name: str,
    category: oneOf(Object.keys(CATEGORIES)),
    severity: oneOf(every<Severity>()(['critical', 'warning'])),
    status: oneOf(INCIDENT_STATUSES),
    title: str,
    opened_at: time,
    acknowledged_at: nullable(time),
    acknowledged_by: nullable(str),
    resolved_at: nullable(time),
    resolved_by: { ...nullable(str), description: '"auto" when the node recovered' },
    escalation_level: int,
    version: { type: 'integer', description: 'Send as If-Match to act only on this version' },
    timeline: { type: 'array', items: object({ at: time, kind: str, detail: { type: 'object' } }) },
  }),
  Delivery: object({
    id: { type: 'string', description: 'Stable across retries; the webhook-id of a webhook delivery' },
    channel_id: uuid,
    channel_type: str,
    event: oneOf(INCIDENT_EVENTS),
    status: { ...oneOf(DELIVERY_STATUSES), description: 'failed is retrying; dead gave up' },
    attempts: int,
    last_error: nullable(str),
    created_at: time,
    sent_at: nullable(time),
  }),
  Channel: channel,
  EscalationPolicy: object({
    id: uuid,
    name: str,
    levels: { type: 'array', items: object({ after_seconds: int, channel_ids: { type: 'array', items: uuid } }) },
    repeat: int,
    is_default: { type: 'boolean' },
    created_at: time,
    updated_at: time,
  }),
  Maintenance: object({
    id: uuid,
    node_ids: { type: 'array', items: uuid },
    labels: stringMap,
    starts_at: time,
    ends_at: { ...nullable(time), description: 'null: open-ended' },
    reason: nullable(str),
    created_at: time,
    active: { type: 'boolean', description: 'Whether the window covers the moment of the answer' },
  }),
  DeadEvent: object({
    id: { type: 'string', pattern: '^\\d+$' },
    topic: str,
    key: str,
    payload: { type: 'object' },
    created_at: time,
    attempts: int,
    last_error: nullable(str),
    died_at: time,
  }),
  NodeUptime: object(
    {
      node_id: uuid,
      from: time,
      to: time,
      uptime_ratio: ratio,
      up_seconds: { type: 'number', description: 'healthy + degraded' },
      monitored_seconds: { type: 'number', description: 'Everything but maintenance and unknown' },
      seconds: uptimeSeconds,
    },
    { optional: { buckets: { type: 'array', description: 'With ?bucket=hour|day', items: object({ start: time, uptime_ratio: ratio, seconds: uptimeSeconds }) } } },
  ),
  FleetUptime: object({
    from: time,
    to: time,
    uptime_ratio: ratio,
    items: { type: 'array', items: object({ node_id: uuid, name: str, uptime_ratio: ratio }) },
    next_cursor: nullable(str),
  }),
} satisfies Record<string, SchemaObject>;

export type SchemaName = keyof typeof SCHEMA_DEFS;

/** Every refusal is the contract's error shape; these are the reasons, one per status. */
const ERRORS = {
  400: ['BadRequest', 'The body is not JSON (`invalid_json`) or a field is invalid (`validation_failed`, with `details` naming each one).'],
  401: ['Unauthorized', 'No bearer secret, or not a valid one (`unauthorized`).'],
  403: ['Forbidden', 'The secret may not do this (`forbidden`).'],
  404: ['NotFound', 'No such resource (`not_found`).'],
  409: ['Conflict', 'The request conflicts with what is stored (`conflict`).'],
  412: ['PreconditionFailed', 'If-Match names a version that is no longer current (`precondition_failed`).'],
  413: ['PayloadTooLarge', 'The body is over 1 MiB (`payload_too_large`).'],
  415: ['UnsupportedMediaType', 'The body is not declared as application/json (`unsupported_media_type`).'],
  500: ['Internal', 'Something failed on the server; it has been logged (`internal`, never a stack or SQL).'],
} as const satisfies Record<number, readonly [string, string]>;

export type ErrorStatus = keyof typeof ERRORS;

export const errorResponse = (status: ErrorStatus): OpenAPIV3_1.ReferenceObject => ({ $ref: `#/components/responses/${ERRORS[status][0]}` });

/** Bearer secrets: an API key (scoped) or a node token. Operations name the scope they need. */
export const SECURITY_SCHEMES = {
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key (`llk_…`) from POST /v1/api-keys, or LIFELINE_ADMIN_TOKEN. One scope each: admin ⊃ write ⊃ read, and ingest, which may only post heartbeats.',
  },
  nodeToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'A node token (`lln_…`), shown once when the node is created or its token rotated; it may only post heartbeats for that node.',
  },
} as const;

export const COMPONENTS = {
  schemas: SCHEMA_DEFS,
  responses: Object.fromEntries(
    Object.values(ERRORS).map(([name, description]) => [name, { description, content: { 'application/json': { schema: ref('Error') } } }]),
  ),
  securitySchemes: SECURITY_SCHEMES,
} satisfies OpenAPIV3_1.ComponentsObject;

export const TAGS = [
  { name: 'Nodes', description: 'What is watched: settings, health, transitions. `{id}` takes the id or the name.' },
  { name: 'Heartbeats', description: 'What agents send. The receive time is what counts.' },
  { name: 'Incidents', description: 'Opened by down and degraded nodes, resolved when they recover; acknowledged and resolved by people.' },
  { name: 'Channels', description: 'Where incidents are announced. Secrets go in and never come back out.' },
  { name: 'Escalation policies', description: 'Who is paged for an incident, when, and how often the levels repeat.' },
  { name: 'Maintenances', description: 'Windows in which nodes are in maintenance: no incident, no page.' },
  { name: 'Uptime', description: 'Time-weighted uptime from the state log, exact to the moment of the request.' },
  { name: 'API keys', description: 'Scoped bearer secrets (admin).' },
  { name: 'Outbox', description: 'Events whose handlers kept failing, and their replay (admin).' },
  { name: 'Operations', description: 'Liveness, readiness and metrics, without auth.' },
] as const;

export type Tag = (typeof TAGS)[number]['name'];
