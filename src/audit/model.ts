// Who changed what: the audit log's rows and the rules that make one from a command's context.
import { isDeepStrictEqual } from 'node:util';
import type { Principal } from '../access/model.ts';
import { isSensitive, redactDeep } from '../logger.ts';

/** Who acts: an API key (through the API or a console session opened with it), or a person through a signed link. */
export type AuditActor =
  | { kind: 'key'; keyId: string; keyName: string }
  | { kind: 'node'; nodeId: string; nodeName: string }
  | { kind: 'person'; id: string; name: string }
  /** Someone at the database itself (`lifeline admin create-key`), named by their system account. */
  | { kind: 'operator'; name: string };

/** The door a change came through. */
export type Via = 'api' | 'console' | 'link' | 'cli';

/**
 * What every privileged command is handed besides its input: who acts, through which door, and
 * the request that carried it (its X-Request-Id), so the audit row names all three.
 */
export interface Acting {
  actor: AuditActor;
  via: Via;
  requestId: string;
}

/** `done`, or `unchanged` when the command found nothing to do (a key revoked twice, an incident acknowledged twice). */
export type AuditResult = 'done' | 'unchanged';

/** One change as the command that made it describes it. */
export interface AuditChange {
  /** `<target type>.<verb>`: `node.create`, `incident.acknowledge` … */
  action: string;
  target: { type: string; id: string; name?: string | null | undefined };
  result?: AuditResult;
  /** What else is worth knowing (the fields a patch changed, from what to what: patched …), never a secret. */
  detail?: Record<string, unknown>;
}

export interface AuditRow {
  id: string;
  at: Date;
  actor_kind: AuditActor['kind'];
  actor_id: string;
  actor_name: string;
  via: Via;
  action: string;
  target_type: string;
  target_id: string;
  target_name: string | null;
  result: AuditResult;
  request_id: string;
  detail: Record<string, unknown>;
}

export type NewAuditRow = Omit<AuditRow, 'id'>;

function actorColumns(a: AuditActor): Pick<AuditRow, 'actor_kind' | 'actor_id' | 'actor_name'> {
  if (a.kind === 'key') return { actor_kind: 'key', actor_id: a.keyId, actor_name: a.keyName };
  if (a.kind === 'node') return { actor_kind: 'node', actor_id: a.nodeId, actor_name: a.nodeName };
  if (a.kind === 'operator') return { actor_kind: 'operator', actor_id: a.name, actor_name: a.name };
  return { actor_kind: 'person', actor_id: a.id, actor_name: a.name };
}

export function auditRow(acting: Acting, change: AuditChange, at: Date): NewAuditRow {
  return {
    at,
    ...actorColumns(acting.actor),
    via: acting.via,
    action: change.action,
    target_type: change.target.type,
    target_id: change.target.id,
    target_name: change.target.name ?? null,
    result: change.result ?? 'done',
    request_id: acting.requestId,
    detail: change.detail ?? {},
  };
}

/**
 * What one field of a patch did: its value before and after (a side is absent where the field was
 * absent: a label added or removed), or only `changed` for a credential (hiddenField).
 */
export type FieldChange = { from?: unknown; to?: unknown } | 'changed';

/**
 * Fields recorded as `changed` without their values: any URL (a label's `dsn_url` or `docs_url`
 * may carry a token the log would keep for good), and whatever the logger censors (isSensitive:
 * passwords, tokens, secrets, credentials, auth, DSNs, webhook and ping URLs, and any `…_key` — a node's ping
 * key names it in /ping/{key}, as any API key would — by the parts of the name, so `labels.db_password`
 * is hidden and `labels.monkey` is not), and besides a badge id, which names a node's public
 * badge: written down, each would hand its power to whoever may read the log. One rule at every
 * depth: a walked object's fields and what redactDeep walks in a value recorded whole.
 */
const hiddenField = (key: string): boolean => isSensitive(key) || /url$|badge[-_]?id$/i.test(key);

/**
 * A value longer than this as JSON is recorded by its size only. Each edit's row is kept for good,
 * and a status page's components or a policy's levels may name hundreds of nodes or people (a
 * UUID is 38 characters as JSON, so a 1,000-node page is about 40,000 per side, re-sent whole by
 * every edit of its title); 4,000 keeps about a hundred ids, which is every policy and schedule
 * as people write them, while the row stays a few kilobytes at most.
 */
export const AUDIT_VALUE_MAX = 4_000;

/**
 * A value as the log keeps it: URL passwords and nested credentials censored (redactDeep, by the
 * same hiddenField as a walked object's fields, so a ping key in a list of levels or in an object
 * replacing null is hidden too), then capped.
 */
function recorded(value: unknown): unknown {
  const censored = redactDeep(value, hiddenField);
  const chars = JSON.stringify(censored)?.length ?? 0;
  return chars > AUDIT_VALUE_MAX ? { omitted: 'too large to record', chars } : censored;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

/**
 * The field `key` of `thing`, undefined unless it is the thing's own: a label named `constructor`
 * or `__proto__` read as `labels[key]` gave Object's function or prototype as the side it lacked.
 */
const own = (thing: object, key: string): unknown => (Object.hasOwn(thing, key) ? (thing as Record<string, unknown>)[key] : undefined);

/**
 * The changes from `before` to `after` under `path` into `into`: an object (labels, a schedule, a
 * channel's config) field by field (`labels.team`, `config.url`), so one changed label or one
 * rotated secret is all that is recorded of it, and a credential's name is found at any depth.
 */
function diffInto(into: Record<string, FieldChange>, path: string, key: string, before: unknown, after: unknown): void {
  if (isDeepStrictEqual(before, after)) return;
  if (hiddenField(key)) {
    into[path] = 'changed';
    return;
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) diffInto(into, `${path}.${k}`, k, own(before, k), own(after, k));
    return;
  }
  into[path] = { ...(before === undefined ? {} : { from: recorded(before) }), ...(after === undefined ? {} : { to: recorded(after) }) };
}

/**
 * A change by a patch, the one way every update command records itself: the names of the fields
 * it sets and, in `changes`, what each that differs from `before` (the thing as stored before it)
 * was and became, credentials only as `changed`; `unchanged` when none differs (it sets nothing,
 * or only the values the thing has: a reconcile loop re-sending 1,000 nodes' settings), which the
 * update then skips (auditedUpdate). Rows written before values were recorded have `fields` alone.
 */
export function patched(action: string, target: AuditChange['target'], patch: object, before: object): AuditChange {
  const set = Object.entries(patch)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const changes: Record<string, FieldChange> = {};
  for (const [key, value] of set) diffInto(changes, key, key, own(before, key), value);
  return { action, target, result: Object.keys(changes).length ? 'done' : 'unchanged', detail: { fields: set.map(([key]) => key), changes } };
}

/** What GET /v1/audit filters by; every field narrows. */
export interface AuditFilter {
  actorId?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  requestId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Rows older than this id (the cursor). */
  beforeId?: string | undefined;
}

/** The actor a bearer secret or a console session stands for. */
export const actorOf = (p: Principal): AuditActor =>
  p.kind === 'key' ? { kind: 'key', keyId: p.keyId, keyName: p.keyName } : { kind: 'node', nodeId: p.nodeId, nodeName: p.nodeName };
