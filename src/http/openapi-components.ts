import type { OpenAPIV3_1 } from 'openapi-types';
import { ref, SCHEMA_COMPONENTS } from '../api/shapes.ts';

// The parts of the OpenAPI document that are not routes: the answers' schemas (declared once in
// src/api/shapes.ts), the error responses, the security schemes and the tags. Requests are
// described by the valibot schemas the handlers parse with (src/http/openapi.ts), and
// test/integration/openapi.test.ts checks real answers against all of it.

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
  422: ['IdempotencyKeyReused', 'The Idempotency-Key was used for a different method, path or body (`idempotency_key_reused`).'],
  429: ['RateLimited', 'Too many requests or failed authentications for now (`rate_limited`); `Retry-After` says how many seconds to wait.'],
  500: ['Internal', 'Something failed on the server; it has been logged (`internal`, never a stack or SQL).'],
  503: ['Unavailable', 'Postgres does not answer this process, or its start is still under way and it holds LIFELINE_HELD_REQUESTS_MAX requests already, or its start failed (`unavailable`). A request refused before it acted (a held start, heartbeats refused while flushes fail) stored nothing; one whose connection to Postgres was lost may have been stored, so a retried write may act twice, even with the same `Idempotency-Key` (a failed request gives its key up). `Retry-After` says how many seconds to wait.'],
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

/** Every 429 says when to try again (rate-limit.ts), and so does every 503 (errors.ts, postgresUnavailable; workers/listen.ts, StartGate). */
const RETRY_AFTER: Partial<Record<ErrorStatus, Record<string, OpenAPIV3_1.HeaderObject>>> = {
  429: { 'Retry-After': { description: 'Seconds until the budget has room again.', schema: { type: 'integer', minimum: 1 } } },
  503: { 'Retry-After': { description: 'Seconds to wait: a Postgres restart or failover takes a few, as does a start waiting on another, or the restart of a process whose start failed.', schema: { type: 'integer', minimum: 1 } } },
};

export const COMPONENTS = {
  schemas: SCHEMA_COMPONENTS,
  responses: Object.fromEntries(
    Object.entries(ERRORS).map(([status, [name, description]]) => {
      const headers = RETRY_AFTER[Number(status) as ErrorStatus];
      return [name, { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: ref('Error') } } }];
    }),
  ),
  securitySchemes: SECURITY_SCHEMES,
} satisfies OpenAPIV3_1.ComponentsObject;

export const TAGS = [
  { name: 'Nodes', description: 'What is watched: settings, health, transitions. `{id}` takes the id or the name.' },
  { name: 'Heartbeats', description: 'What agents send. The receive time is what counts.' },
  { name: 'Pings', description: "Scheduled jobs' runs, reported by URL at the paths Healthchecks uses: the key in the path is the credential, no header is needed." },
  { name: 'Incidents', description: 'Opened by down and degraded nodes, resolved when they recover; acknowledged and resolved by people.' },
  { name: 'Channels', description: 'Where incidents are announced. Secrets go in and never come back out.' },
  { name: 'Escalation policies', description: 'Who is paged for an incident, when, and how often the levels repeat.' },
  { name: 'Users', description: 'People, reached by email and by their own channels.' },
  { name: 'Schedules', description: 'Who is on call when: layers of rotations in a time zone, and overrides.' },
  { name: 'Maintenances', description: 'Windows in which nodes are in maintenance: no incident, no page.' },
  { name: 'Events', description: 'Changes as they commit, as server-sent events: what the console listens to.' },
  { name: 'Uptime', description: 'Time-weighted uptime from the state log, exact to the moment of the request.' },
  { name: 'Status pages', description: 'Public pages of components built from nodes, each with its state, 90-day uptime and daily bars, published at /status/{slug}.' },
  { name: 'API keys', description: 'Scoped bearer secrets (admin).' },
  { name: 'Audit', description: 'Who changed what, through which request (admin).' },
  { name: 'Outbox', description: 'Events whose handlers kept failing, and their replay (admin).' },
  { name: 'Operations', description: 'Liveness, readiness and metrics, without auth.' },
] as const;

export type Tag = (typeof TAGS)[number]['name'];
