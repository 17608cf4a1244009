import type { OpenAPIV3_1 } from 'openapi-types';
import { SCOPES } from '../access/model.ts';
import { CHANNEL_TYPES } from '../channels/model.ts';
import { STATES, type CheckStatus, type HeartbeatStatus, type State } from '../health/decide.ts';
import { CATEGORIES, type Category, type Severity } from '../incidents/categorize.ts';
import { INCIDENT_EVENTS, INCIDENT_STATUSES } from '../incidents/model.ts';
import { RUN_STATUSES } from '../jobs/model.ts';
import { GIVEN_PING_KEY, SCHEDULE_DEFAULTS } from '../nodes/model.ts';
import { DELIVERY_STATUSES } from '../notifications/model.ts';
import { WEEKDAYS } from '../oncall/schedule.ts';

// The API's answers, declared once. Each shape is a JSON Schema that carries the TypeScript type of
// the values it describes: the OpenAPI document publishes the schemas (src/http/openapi-components.ts),
// render functions are typed by them (so an answer with a field too many or too few does not
// compile), and the CLI, the demo and the tests read answers as these types. Requests are described
// by the valibot schemas the routes parse with.

type SchemaObject = OpenAPIV3_1.SchemaObject;
export type Schema = SchemaObject | OpenAPIV3_1.ReferenceObject;

/** A JSON Schema and the type of what it describes (`T` exists for the type checker only). */
interface Shape<T, S extends Schema = Schema> {
  readonly schema: S;
  readonly type?: T;
}

type TypeOf<S> = S extends Shape<infer T, Schema> ? T : never;

const shape = <T, S extends Schema = Schema>(schema: S): Shape<T, S> => ({ schema });

const str = shape<string>({ type: 'string' });
const int = shape<number>({ type: 'integer' });
const uuid = shape<string>({ type: 'string', format: 'uuid' });
const time = shape<string>({ type: 'string', format: 'date-time', description: 'RFC 3339, UTC, with milliseconds' });
const bool = shape<boolean>({ type: 'boolean' });
const jsonObject = shape<Record<string, unknown>>({ type: 'object' });
const stringMap = shape<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } });
const nullable = <T>(s: Shape<T>): Shape<T | null> => shape({ anyOf: [s.schema, { type: 'null' }] });
const oneOf = <const V extends string>(values: readonly V[]): Shape<V> => shape({ type: 'string', enum: [...values] });
const array = <T>(items: Shape<T>, extra: Omit<SchemaObject, 'type' | 'items'> = {}): Shape<T[]> => shape({ type: 'array', ...extra, items: items.schema });
/** The same values, with more said about them (a description, bounds). */
const with_ = <T>(s: Shape<T>, more: Omit<SchemaObject, 'type'>): Shape<T> => shape({ ...s.schema, ...more } as Schema);

type Fields = Record<string, Shape<unknown>>;
type Props<F extends Fields> = { [K in keyof F]: TypeOf<F[K]> };

/** An object with these properties, each always present (null stands for "none"), and perhaps more. */
function object<F extends Fields, O extends Fields = {}>(
  properties: F,
  o: { description?: string; optional?: O } = {},
): Shape<Props<F> & Partial<Props<O>>, SchemaObject> {
  const schemas = (f: Fields) => Object.fromEntries(Object.entries(f).map(([k, s]) => [k, s.schema]));
  return shape({
    type: 'object',
    ...(o.description ? { description: o.description } : {}),
    required: Object.keys(properties),
    properties: { ...schemas(properties), ...(o.optional ? schemas(o.optional) : {}) },
  });
}

/** `base` plus fields a particular answer adds (a secret shown once). */
function withFields<B, F extends Fields>(base: Shape<B, SchemaObject>, fields: F, description: string): Shape<B & Props<F>, SchemaObject> {
  const b = base.schema;
  const added = Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, s.schema]));
  return shape({ ...b, description, required: [...(b.required ?? []), ...Object.keys(fields)], properties: { ...b.properties, ...added } });
}

const SCHEMAS = '#/components/schemas/';
export const ref = (name: ShapeName): Schema => ({ $ref: SCHEMAS + name });

/** The contract's list envelope around items of one named shape. */
export const listOf = (item: ShapeName): Schema =>
  object({
    items: shape({ type: 'array', items: ref(item) }),
    next_cursor: with_(nullable(str), { description: 'Pass as `cursor` for the next page; null on the last one' }),
  }).schema;

/** A page of a list: `next_cursor` is null on the last one. */
export interface List<T> {
  items: T[];
  next_cursor: string | null;
}

const stateSeconds = object(
  Object.fromEntries(STATES.map((s) => [s, shape<number>({ type: 'number', minimum: 0 })])) as Record<State, Shape<number>>,
  { description: 'Seconds spent in each state' },
);
const ratio = with_(nullable(shape<number>({ type: 'number', minimum: 0, maximum: 1 })), { description: 'up / monitored; null when nothing was monitored' });

const check = shape<{ status: CheckStatus; value?: number; message?: string }>({
  type: 'object',
  required: ['status'],
  properties: { status: oneOf<CheckStatus>(['ok', 'warn', 'fail']).schema, value: { type: 'number' }, message: str.schema },
});

const cronSchedule = object(
  {
    cron: with_(str, { description: 'Five fields (minute hour day month weekday), or six with seconds first, as the cron package reads them' }),
    time_zone: with_(str, { description: 'IANA time zone the expression is read in' }),
    grace_seconds: with_(int, { description: `How long after a scheduled time its success ping may come; ${SCHEDULE_DEFAULTS.grace_seconds} when a create, or a PATCH giving a heartbeat node its schedule, leaves it out` }),
    max_run_seconds: with_(nullable(int), { description: 'A run (start … end) longer than this makes the node down; null: no limit' }),
  },
  { description: 'A scheduled job: due by the first scheduled time after its last success, plus grace' },
);

const pingFields = {
  ping_key: shape<string>({
    type: 'string',
    pattern: GIVEN_PING_KEY.source,
    description: 'Who knows it may report the node\'s runs at /ping/{ping_key}; shown to write and admin keys only. 43 characters when drawn; one given when the node was made (a Healthchecks UUID) as given. POST /v1/nodes/{id}/ping-key draws a new one',
  }),
  ping_url: with_(nullable(str), { description: 'LIFELINE_PUBLIC_URL/ping/{ping_key}; null while LIFELINE_PUBLIC_URL is unset; shown with `ping_key` only' }),
};

const node = object({
  id: uuid,
  name: str,
  labels: stringMap,
  heartbeat_interval_seconds: with_(int, { description: 'Unused while `schedule` is set (kept for when it is cleared)' }),
  grace_seconds: with_(int, { description: "Seconds past interval × failures_for_down before a silent node is down. Unused while `schedule` is set: a job's grace is `schedule.grace_seconds`" }),
  failures_for_down: with_(int, { description: 'Missed heartbeats before down. Unused while `schedule` is set' }),
  successes_for_recovery: int,
  escalation_policy_id: with_(nullable(uuid), { description: 'null: the default policy applies' }),
  badge_id: shape<string>({
    type: 'string',
    pattern: '^[A-Za-z0-9_-]{43}$',
    description: 'Names the node in /badge/{badge_id}.svg and .json, which anyone may open; not a credential. POST /v1/nodes/{id}/badge draws a new one',
  }),
  schedule: with_(nullable(cronSchedule), { description: 'Set for a scheduled job; null for a node judged by heartbeats' }),
  created_at: time,
  updated_at: time,
  health: object({
    state: oneOf(STATES),
    since: time,
    reason: nullable(str),
    state_version: int,
    last_heartbeat_at: with_(nullable(time), { description: "The last heartbeat; for a scheduled job, its last end ping (a success, a failure or an exit code)" }),
    missed_heartbeats: shape<number>({ type: 'integer', minimum: 0 }),
    next_due_at: with_(nullable(time), {
      description:
        "A scheduled job's run whose success ping is awaited: the first after its last one (a new job's first due run), or once that is late the schedule's next time; as the console's \"Next run\". null for a heartbeat node",
    }),
    grace_ends_at: with_(nullable(time), { description: '`next_due_at` plus `schedule.grace_seconds`: the job is down without a success ping by then. null for a heartbeat node, and in maintenance (nothing is judged)' }),
    last_status: nullable(oneOf<HeartbeatStatus>(['ok', 'degraded', 'failing'])),
    checks: nullable(shape<Record<string, TypeOf<typeof check>>>({ type: 'object', additionalProperties: check.schema })),
  }),
}, {
  // A ping changes the node's state (a `fail` opens an incident; a success keeps a dead job
  // looking healthy), so, as Healthchecks does, read-only keys are not shown the key.
  optional: pingFields,
});

const apiKey = object({ id: uuid, name: str, scope: oneOf(SCOPES), created_at: time, revoked_at: nullable(time) });

const channel = object({
  id: uuid,
  name: str,
  type: oneOf(CHANNEL_TYPES),
  config: with_(jsonObject, { description: "The configuration without its secret field; a webhook's url as its origin only (`https://chat.example/…`)" }),
  has_secret: with_(bool, { description: 'Whether a secret (webhook secret, Slack URL, routing key) is stored' }),
  created_at: time,
  updated_at: time,
}, { optional: { warnings: with_(array(str), { description: 'In a 201 only: why this channel cannot deliver yet (an email channel without SMTP_URL)' }) } });

/** An incident as the API and every notification show it, minus its timeline. */
const incidentFields = {
  id: uuid,
  node_id: uuid,
  node_name: str,
  category: oneOf(Object.keys(CATEGORIES) as Category[]),
  severity: oneOf<Severity>(['critical', 'warning']),
  status: oneOf(INCIDENT_STATUSES),
  title: str,
  reason: with_(nullable(str), { description: 'Why the incident opened, e.g. "no heartbeat for 1m30s"; null when the check gave no reason' }),
  opened_at: time,
  acknowledged_at: nullable(time),
  acknowledged_by: nullable(str),
  resolved_at: nullable(time),
  resolved_by: with_(nullable(str), { description: '"auto" when the node recovered' }),
  escalation_level: int,
  escalation_held: with_(bool, { description: 'Its next escalation step fell due while the node was in maintenance and waits: it pages when the node is judged down or degraded again' }),
  version: with_(int, { description: 'Send as If-Match to act only on this version' }),
};
const timelineEntry = object({ at: time, kind: str, detail: jsonObject });

const restriction = object({
  days: array(oneOf(WEEKDAYS)),
  from: with_(str, { description: 'Local HH:MM' }),
  to: with_(str, { description: 'Local HH:MM; earlier than `from` runs into the next day, equal means 24 hours (24:00 is taken, kept as 00:00)' }),
});
const layer = object(
  {
    name: str,
    user_ids: with_(array(uuid), { description: 'Who takes turns, in order' }),
    starts_at: time,
    rotation: with_(str, { description: 'ISO 8601 duration: P1W, P1D, PT12H, P1M …' }),
  },
  { optional: { restrictions: with_(array(restriction), { description: 'When the layer has someone; outside them the layer below shows through' }) } },
);

/** A person on call, by name and until when. */
const onCallFields = {
  id: uuid,
  name: with_(nullable(str), { description: 'null: deleted since' }),
  until: with_(nullable(time), { description: 'When their unbroken run of shifts ends (a hand-off, a restriction closing); null: not within the 93 days looked ahead' }),
};

const seconds = nullable(shape<number>({ type: 'number', minimum: 0 }));
const timeFigures = (what: string) =>
  object(
    { mean_seconds: seconds, median_seconds: seconds, p90_seconds: seconds },
    { description: `Seconds from opening to ${what}, over the incidents ${what === 'resolution' ? 'resolved (by hand or by Lifeline when the node recovered)' : 'ever acknowledged (resolved since or not), to their first acknowledgement even if it expired since'}; null when there are none` },
  );

const SHAPES = {
  Error: object({
    error: shape<{ code: string; message: string; details?: { field: string; message: string; value?: string }[] }>({
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', pattern: '^[a-z_]+$', examples: ['validation_failed', 'not_found'] },
        message: { type: 'string', description: 'A human sentence' },
        details: {
          type: 'array',
          minItems: 1,
          description:
            "With validation_failed: each bad field, as a dot path. With conflict, when it says which row's fields it turned on: each of them, with its `value` as that row reads (a resolved incident's `resolved_by` and `resolved_at`)",
          items: {
            type: 'object',
            required: ['field', 'message'],
            additionalProperties: false,
            properties: { field: str.schema, message: str.schema, value: { type: 'string', description: "The field's value, as the row it conflicts with reads in the API" } },
          },
        },
      },
    }),
  }),
  Liveness: object({ status: shape<'ok'>({ const: 'ok' }) }),
  Readiness: object(
    { status: oneOf(['ready', 'unavailable', 'starting', 'draining']), queue: with_(oneOf(['redis', 'postgres']), { description: 'Where the notification queues run' }) },
    { optional: { down: array(oneOf(['postgres', 'redis', 'secret_key'])), warnings: with_(array(str), { description: 'Setup that makes notifications reach nobody, each naming its fix' }) } },
  ),
  Node: node,
  // Only a write or admin key gets this answer (creating a node, rotating its token).
  NodeWithToken: withFields(node, { token: with_(str, { description: 'The node token; shown only in this answer' }), ...pingFields }, 'The node and its new token'),
  Transition: object({ from: oneOf(STATES), to: oneOf(STATES), at: time, reason: nullable(str), state_version: int }),
  Run: object(
    {
      started_at: with_(nullable(time), { description: 'The start ping; null for an end or a log with no start before it' }),
      finished_at: with_(nullable(time), { description: 'The end ping; null while running' }),
      duration_ms: with_(nullable(int), { description: 'finished_at − started_at, when both are known' }),
      exit_code: with_(nullable(shape<number>({ type: 'integer', minimum: 0, maximum: 255 })), { description: 'From /ping/{key}/{exit_code}; null for /, /fail and /log' }),
      status: oneOf(RUN_STATUSES),
      output: with_(nullable(str), { description: 'The last 10 KB of the POST body' }),
      rid: with_(nullable(str), { description: "The run id its pings carried (`?rid=`, a UUID, lower case); null for pings without one" }),
    },
    { description: 'A run of a scheduled job (running, success, failure, unfinished: superseded by a new start), or a /log message' },
  ),
  Accepted: object(
    { accepted: shape<number>({ type: 'integer', minimum: 0, description: 'Heartbeats accepted (including stale ones, which are ignored)' }) },
    {
      optional: {
        refused: with_(array(object({ node: str, message: str })), {
          description: 'Only when some were refused: names and ids of a batch whose heartbeats were not stored, because no node has them and this key may not register them (an unknown id, LIFELINE_AUTO_REGISTER off, a write or admin key) or not now (LIFELINE_AUTO_REGISTER_LIMIT)',
        }),
      },
    },
  ),
  ApiKey: apiKey,
  ApiKeyWithSecret: withFields(apiKey, { secret: with_(str, { description: 'The bearer secret; shown only in this answer' }) }, 'The key and its secret'),
  Incident: object({ ...incidentFields, timeline: array(timelineEntry) }),
  TimelineEntry: with_(timelineEntry, { description: 'One line of an incident\'s history: `kind` says what happened (`opened`, `acknowledged`, `note` …), `detail` the rest' }),
  IncidentSummary: object(
    {
      count: with_(int, { minimum: 0, description: 'Incidents opened in the range, whatever their status now' }),
      acknowledged: with_(int, { minimum: 0, description: 'Of those, the ones acknowledged (resolved since or not)' }),
      resolved: with_(int, { minimum: 0, description: 'Of those, the ones resolved' }),
      time_to_acknowledge: timeFigures('acknowledgement'),
      time_to_resolve: timeFigures('resolution'),
      by_category: object(
        Object.fromEntries(Object.keys(CATEGORIES).map((c) => [c, with_(int, { minimum: 0 })])) as Record<Category, Shape<number>>,
        { description: 'How many of them were of each category' },
      ),
    },
    { description: 'The incidents opened in a range, for a review' },
  ),
  IncidentChange: object(incidentFields, { description: 'An incident as it is after a change (GET /v1/events), without its timeline' }),
  BadgeJson: object(
    { schemaVersion: shape<1>({ const: 1 }), label: str, message: str, color: str },
    { description: "A badge in shields.io's endpoint schema (https://shields.io/badges/endpoint-badge)" },
  ),
  WebhookEvent: object(
    {
      type: oneOf(INCIDENT_EVENTS.map((e) => `incident.${e}` as const)),
      timestamp: with_(time, { description: 'When the event happened (a retry keeps it)' }),
      data: object(
        {
          incident: object(incidentFields, { description: 'As GET /v1/incidents/{id} has it, without its timeline' }),
          node: object({ id: uuid, name: str, labels: stringMap }),
          reason: with_(nullable(str), {
            description:
              "Why the node is failing as the message is built (a retry builds it again, so it can be newer): its reason then while it stays in the state the incident opened for (a later page says what it says then); once resolved, or its node left that state (maintenance, unknown, deleted), the last one the outage had; incident.reason keeps the one it opened with",
          }),
          display_names: object({ acknowledged_by: nullable(str), resolved_by: nullable(str) }, { description: "The incident's acknowledged_by and resolved_by as messages name them" }),
        },
        {
          optional: {
            links: with_(object({}, { optional: { acknowledge: str, resolve: str } }), { description: 'Signed acknowledge and resolve links (with LIFELINE_PUBLIC_URL)' }),
            incident_url: with_(str, { description: "The incident's console page (with LIFELINE_PUBLIC_URL)" }),
            note: with_(str, { description: "A resolve's note" }),
            note_by: with_(str, { description: 'Who wrote the note, as messages name them' }),
            paged: with_(array(object({ user_id: uuid, name: str }, { optional: { schedule_id: nullable(uuid), schedule_name: nullable(str) } })), { description: 'On a page: the people its level reached, and the schedule that put each on call' }),
            acknowledgement_expired: with_(object({ by: str, at: time, after_seconds: int }), { description: 'On a page that restarted the levels: the acknowledgement that timed out' }),
          },
        },
      ),
    },
    { description: 'A webhook delivery\'s body, signed as Standard Webhooks sign (see the README\'s Webhooks section)' },
  ),
  StateChanged: object(
    { node_id: uuid, node_name: str, from: oneOf(STATES), to: oneOf(STATES), at: time, reason: nullable(str), state_version: int },
    { description: 'A committed transition with its node (GET /v1/events)' },
  ),
  ReasonChanged: object(
    { node_id: uuid, node_name: str, state: oneOf(STATES), reason: str, state_version: int },
    { description: 'A node that stays in its state (down, degraded) for a new reason, with its node (GET /v1/events): no transition, the same state_version' },
  ),
  Delivery: object({
    id: with_(str, { description: 'Stable across retries; the webhook-id of a webhook delivery' }),
    channel_id: with_(nullable(uuid), { description: "The channel told; null for a person's email" }),
    user_id: with_(nullable(uuid), { description: 'The person told (by email, or by this channel of theirs); null for a channel named on the level' }),
    channel_type: str,
    event: oneOf(INCIDENT_EVENTS),
    status: with_(oneOf(DELIVERY_STATUSES), { description: 'failed is retrying; dead gave up' }),
    attempts: int,
    last_error: nullable(str),
    created_at: time,
    sent_at: nullable(time),
  }),
  Channel: channel,
  ChannelTest: object({
    channel_id: uuid,
    at: time,
    by: with_(str, { description: 'Who asked for the test' }),
    status: with_(oneOf(['sent', 'failed']), { description: 'sent: the receiver accepted it' }),
    error: with_(nullable(str), { description: 'Why it failed: a code and a sentence, as in a delivery' }),
  }),
  EscalationPolicy: object({
    id: uuid,
    name: str,
    levels: array(object({ after_seconds: int, channel_ids: array(uuid), user_ids: array(uuid), schedule_ids: array(uuid) })),
    repeat: int,
    ack_timeout_seconds: with_(nullable(int), { description: 'An acknowledged incident not resolved this long after its acknowledgement reopens and pages the first level again; null: never' }),
    is_default: bool,
    created_at: time,
    updated_at: time,
  }),
  User: object({
    id: uuid,
    name: str,
    email: str,
    time_zone: with_(str, { description: 'IANA time zone' }),
    channel_ids: with_(array(uuid), { description: "The user's own channels, besides their email" }),
    created_at: time,
    updated_at: time,
  }),
  Schedule: object({
    id: uuid,
    name: str,
    time_zone: with_(str, { description: 'IANA time zone the layers are written in' }),
    layers: with_(array(layer), { description: 'Lowest first: a later layer wins where it has someone' }),
    created_at: time,
    updated_at: time,
  }),
  Override: object({ id: uuid, schedule_id: uuid, user_id: uuid, starts_at: time, ends_at: time, created_at: time }),
  OnCall: object({
    at: time,
    user_ids: with_(array(uuid), { description: 'Usually one person; empty when nobody is on call' }),
    users: with_(array(object(onCallFields)), { description: 'The same people, by name and until when' }),
  }),
  PolicyOnCall: object({
    at: time,
    levels: with_(
      array(
        object({
          after_seconds: int,
          channel_ids: array(uuid),
          user_ids: with_(array(uuid), { description: 'Everyone the level would page then: the users it names, then whoever its schedules have on call, each once' }),
          users: with_(array(object({ ...onCallFields, schedule_id: with_(nullable(uuid), { description: 'The schedule that has them on call; null: named on the level' }) })), {
            description: 'The same people, by name; `until` is null for one named on the level (paged whenever it fires)',
          }),
          empty_schedule_ids: with_(array(uuid), { description: 'Schedules the level names that have nobody on call then' }),
          reaches_anyone: with_(bool, { description: 'false: the level would be recorded as reaching nobody and the next one fire at once' }),
        }),
      ),
      { description: 'As the policy lists them: what each would do if it fired at `at`' },
    ),
  }),
  Shift: object({
    user_id: uuid,
    starts_at: time,
    ends_at: time,
    layer: with_(str, { description: 'The layer that puts the user on call, or "override"' }),
  }),
  Maintenance: object({
    id: uuid,
    node_ids: array(uuid),
    labels: stringMap,
    starts_at: time,
    ends_at: with_(nullable(time), { description: 'null: open-ended' }),
    reason: nullable(str),
    time_zone: with_(nullable(str), { description: 'IANA time zone the times were typed in, shown on that clock in the console; null: UTC' }),
    created_at: time,
    active: with_(bool, { description: 'Whether the window covers the moment of the answer' }),
  }),
  DeadEvent: object({
    id: shape<string>({ type: 'string', pattern: '^\\d+$' }),
    topic: str,
    key: str,
    payload: jsonObject,
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
      up_seconds: shape<number>({ type: 'number', description: 'healthy + degraded' }),
      monitored_seconds: shape<number>({ type: 'number', description: 'Everything but maintenance and unknown' }),
      seconds: stateSeconds,
    },
    { optional: { buckets: array(object({ start: time, uptime_ratio: ratio, seconds: stateSeconds }), { description: 'With ?bucket=hour|day' }) } },
  ),
  StatusPage: object({
    id: uuid,
    slug: str,
    title: str,
    description: nullable(str),
    public: with_(bool, { description: 'Whether anyone may open the page' }),
    show_nodes: with_(bool, { description: 'Whether node names, labels and reasons appear on the page' }),
    components: array(
      object({
        id: with_(uuid, { description: 'Stable through renames: send it back in a PATCH to keep the component’s past days' }),
        name: str,
        node_ids: array(uuid, { description: 'Nodes listed by id (nodes deleted since are left out)' }),
        labels: with_(stringMap, { description: 'Nodes carrying all of these labels' }),
      }),
    ),
    path: with_(str, { description: 'Where the page is published on this engine (`.json` appended: its data)' }),
    created_at: time,
    updated_at: time,
  }),
  AuditEntry: object(
    {
      id: shape<string>({ type: 'string', pattern: '^\\d+$' }),
      at: time,
      actor: object({
        kind: with_(oneOf(['key', 'node', 'person', 'operator'] as const), { description: '`key`: an API key, through the API or a console session opened with it; `person`: the recipient of a signed link; `operator`: the system account that ran `lifeline admin create-key` at the database' }),
        id: with_(str, { description: "The key's id, the user's or channel's a signed link names, or the operator's account" }),
        name: with_(str, { description: 'Its name when it acted' }),
      }),
      via: with_(oneOf(['api', 'console', 'link', 'cli'] as const), { description: 'The door the change came through' }),
      action: with_(str, { description: '`<target type>.<verb>`, such as `node.create` or `incident.acknowledge`' }),
      target: object({ type: str, id: str, name: nullable(str) }),
      result: with_(oneOf(['done', 'unchanged'] as const), { description: '`unchanged` when the command found nothing to do (acknowledged twice, a patch naming no field)' }),
      request_id: with_(str, { description: 'The X-Request-Id of the request that made the change' }),
      detail: with_(jsonObject, { description: 'More about the change; never a secret. An update has `fields`, the names of the fields it set, and `changes`, by field (`labels.team`, `config.url` inside an object): `{"from": …, "to": …}` (a side absent where the field was), or `"changed"` alone for a credential or a URL that may hold one; a value over 4,000 characters as JSON is `{"omitted": …, "chars": n}`. Updates recorded before values were kept have `fields` only' }),
    },
    { description: 'One privileged change: who made it, what, to what, and through which request' },
  ),
  FleetUptime: object({
    from: time,
    to: time,
    uptime_ratio: ratio,
    items: array(object({ node_id: uuid, name: str, uptime_ratio: ratio, seconds: stateSeconds })),
    next_cursor: nullable(str),
  }),
} satisfies Record<string, Shape<unknown, SchemaObject>>;

export type ShapeName = keyof typeof SHAPES;

/** The components.schemas section of the OpenAPI document. */
export const SCHEMA_COMPONENTS = Object.fromEntries(Object.entries(SHAPES).map(([name, s]) => [name, s.schema])) as Record<ShapeName, SchemaObject>;

type Shapes = { [K in ShapeName]: TypeOf<(typeof SHAPES)[K]> };

export type ErrorBody = Shapes['Error'];
export type Node = Shapes['Node'];
export type NodeState = Node['health']['state'];
export type NodeWithToken = Shapes['NodeWithToken'];
export type Transition = Shapes['Transition'];
export type Run = Shapes['Run'];
export type StateChanged = Shapes['StateChanged'];
export type ReasonChanged = Shapes['ReasonChanged'];
export type Accepted = Shapes['Accepted'];
export type ApiKey = Shapes['ApiKey'];
export type ApiKeyWithSecret = Shapes['ApiKeyWithSecret'];
export type Incident = Shapes['Incident'];
export type IncidentView = Omit<Incident, 'timeline'>;
export type IncidentSummary = Shapes['IncidentSummary'];
export type TimelineEntryView = TypeOf<typeof timelineEntry>;
export type Delivery = Shapes['Delivery'];
export type Channel = Shapes['Channel'];
export type ChannelTest = Shapes['ChannelTest'];
export type EscalationPolicy = Shapes['EscalationPolicy'];
export type User = Shapes['User'];
export type Schedule = Shapes['Schedule'];
export type Override = Shapes['Override'];
export type OnCall = Shapes['OnCall'];
export type PolicyOnCall = Shapes['PolicyOnCall'];
export type Shift = Shapes['Shift'];
export type Maintenance = Shapes['Maintenance'];
export type DeadEvent = Shapes['DeadEvent'];
export type NodeUptime = Shapes['NodeUptime'];
export type UptimeBucket = NonNullable<NodeUptime['buckets']>[number];
export type StatusPage = Shapes['StatusPage'];
export type FleetUptime = Shapes['FleetUptime'];
export type AuditEntry = Shapes['AuditEntry'];
export type FleetUptimeItem = FleetUptime['items'][number];
