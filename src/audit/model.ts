// Who changed what: the audit log's rows and the rules that make one from a command's context.
import type { Principal } from '../access/model.ts';

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
  /** What else is worth knowing (names of the fields a patch changed …), never a secret. */
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
 * A change by a patch: the names of the fields it sets (never their values, which may be
 * secrets); `unchanged` when it sets none.
 */
export function patched(action: string, target: AuditChange['target'], patch: object): AuditChange {
  const fields = Object.entries(patch)
    .filter(([, value]) => value !== undefined)
    .map(([key]) => key)
    .sort();
  return { action, target, result: fields.length ? 'done' : 'unchanged', detail: { fields } };
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
