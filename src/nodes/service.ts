import { isDeepStrictEqual } from 'node:util';
import { writtenAt } from '../clock.ts';
import { announceIdentityChange, NODE_CHANGED } from '../access/store.ts';
import { patched, type Acting, type AuditResult } from '../audit/model.ts';
import { audit, auditEach } from '../audit/service.ts';
import type { Sql } from '../db/client.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { checkVersion, conflict, notFound, Refusal, validationFailed } from '../errors.ts';
import { insertOutbox } from '../outbox/store.ts';
import { PUBLIC_CACHES } from '../statuspages/model.ts';
import { keepDaysOfDeleted, keepDaysOfNode, type KeepReport } from '../statuspages/service.ts';
import { announcePublicChange } from '../statuspages/store.ts';
import { generateSecret, hashSecret } from '../secrets.ts';
import { checkSchedule, desiredChange, NODE_DEFAULTS, patchedSchedule, type DesiredNode, type NodeChange, type NodePatch, type NodeRef, type NodeRow } from './model.ts';
import * as store from './store.ts';

/** A name or given ping key taken, or a policy id that does not exist (or was deleted meanwhile), as a refusal. */
function refusalOf(err: unknown, name: string | undefined): unknown {
  // The key is not repeated: it is a credential, and the caller has it.
  if (isUniqueViolation(err) && (err as { constraint_name?: string }).constraint_name === 'nodes_ping_key') return conflict('Another node has this ping key.');
  if (isUniqueViolation(err)) return conflict(`A node named "${name}" already exists.`);
  if ((err as { constraint_name?: string }).constraint_name === 'nodes_escalation_policy_fk') {
    return validationFailed([{ field: 'escalation_policy_id', message: 'is not an escalation policy' }]);
  }
  return err;
}

async function shown(sql: Sql, id: string): Promise<NodeRow> {
  const node = await store.getNode(sql, id);
  if (!node) throw notFound(`Node "${id}"`);
  return node;
}

/** A node as POST /v1/nodes and the console's "Add node" ask for it: without an interval, a heartbeat node beats every NODE_DEFAULTS'. */
export type NodeRequest = DesiredNode & { name: string };

/**
 * A new node, born unknown, and its token, which is stored hashed and so shown only this once. A
 * schedule is checked here (an interval beside it, an expression that never matches), so every
 * way of creating a node refuses the same things in the same words.
 */
export async function createNode(sql: Sql, request: NodeRequest, now: Date, acting: Acting, report: KeepReport): Promise<{ node: NodeRow; token: string }> {
  checkSchedule(request.schedule, request.heartbeat_interval_seconds, false, now);
  const input = { ...request, heartbeat_interval_seconds: request.heartbeat_interval_seconds ?? NODE_DEFAULTS.heartbeat_interval_seconds };
  const token = generateSecret('lln');
  // It joins the components its labels select: their past days are kept as they were without it.
  if (Object.keys(input.labels).length > 0) await keepDaysOfNode(sql, { nodeId: undefined, labels: [input.labels] }, now.getTime(), report);
  let id: string;
  try {
    id = await sql.begin(async (tx) => {
      const id = await store.insertNode(tx, { ...input, token_hash: hashSecret(token) }, now);
      await audit(tx, acting, { action: 'node.create', target: { type: 'node', id, name: input.name } }, now);
      // A page showing every node, or the labels it was made with, shows it from now on.
      await announcePublicChange(tx, ['pages']);
      // A crontab switched over before its job was made left a given key remembered as unknown.
      if (input.ping_key !== undefined) await store.announcePingKeyChange(tx);
      return id;
    });
  } catch (err) {
    throw refusalOf(err, input.name);
  }
  return { node: await shown(sql, id), token };
}

/**
 * Changes settings, name or labels; the evaluator judges the node afresh as this commits (the
 * store's updateNode says which changes tell it). The fields given in `schedule` go over the
 * stored schedule, read with the row locked in the same transaction: two requests editing
 * different fields of one schedule each merge over the other's result, where reading it first lost
 * one of them. The schedule it leaves is checked there too, as is one of the versions an If-Match
 * lists (`expected`, checkVersion).
 */
export async function updateNode(sql: Sql, id: string, change: NodeChange, now: Date, acting: Acting, report: KeepReport, expected?: readonly number[]): Promise<NodeRow> {
  return (await changeNode(sql, id, change, now, acting, report, expected)).node;
}

/** What changeNode did: whether it wrote (`done`), and the ping key the node had. */
type Changed = { node: NodeRow; result: AuditResult; pingKeyBefore: string | undefined };

/**
 * updateNode, saying too whether the change was written (`done`) or found nothing to change, and
 * the ping key the node had, read with its row locked (so the caller forgets it when it moved: one
 * read before, a concurrent move could have replaced).
 */
export async function changeNode(sql: Sql, id: string, change: NodeChange, now: Date, acting: Acting, report: KeepReport, expected?: readonly number[]): Promise<Changed> {
  const changed = await changeNamed(sql, id, undefined, change, now, acting, report, expected);
  if (!changed) throw notFound(`Node "${id}"`);
  return changed;
}

/**
 * changeNode of the node `id`. `named` is a PUT's: the node must still have that name once its row
 * is locked (undefined, changing nothing, when it is gone or was renamed since), and settings as
 * they are leave no audit row. A PATCH (`named` undefined) records them as `unchanged`: one person
 * or script asked for it, where a PUT is re-sent by a reconcile loop, 500 nodes a minute being
 * 720,000 rows a day that say nothing.
 */
async function changeNamed(
  sql: Sql,
  id: string,
  named: string | undefined,
  change: NodeChange,
  now: Date,
  acting: Acting,
  report: KeepReport,
  expected?: readonly number[],
): Promise<Changed | undefined> {
  let found = false;
  let name: string | undefined;
  let result: AuditResult = 'unchanged';
  let pingKeyBefore: string | undefined;
  if (change.labels !== undefined) {
    // The past days of the pages it leaves or joins are kept as their components held it before.
    // A reconcile loop re-sending the same labels changes no membership and keeps nothing.
    const before = await store.getNode(sql, id);
    if (!before) return undefined;
    if (!isDeepStrictEqual(before.labels, change.labels)) await keepDaysOfNode(sql, { nodeId: id, labels: [before.labels, change.labels] }, now.getTime(), report);
  }
  try {
    await sql.begin(async (tx) => {
      const stored = await store.lockEditable(tx, id);
      if (!stored || (named !== undefined && stored.name !== named)) return;
      found = true;
      checkVersion(`Node "${stored.name}"`, expected, stored.updated_at);
      pingKeyBefore = stored.ping_key;
      const { schedule, ...given } = change;
      // Postgres gives a uuid back in lower case: compared as sent, one in capitals read as a
      // change on every re-send of the same settings, and was written each time.
      if (given.escalation_policy_id) given.escalation_policy_id = given.escalation_policy_id.toLowerCase();
      const patch: NodePatch = schedule === undefined ? given : { ...given, schedule: patchedSchedule(stored.schedule, schedule) };
      checkSchedule(patch.schedule, patch.heartbeat_interval_seconds, stored.schedule !== null, now);
      name = patch.name;
      const entry = patched('node.update', { type: 'node', id, name: patch.name ?? stored.name }, patch, stored);
      // Settings re-sent as they are (a reconcile loop over the fleet) are neither written, nor
      // judged afresh, nor announced to every process's caches: a PATCH records them as unchanged,
      // a PUT not at all.
      if (entry.result === 'done' && !(await store.updateNode(tx, id, patch, writtenAt(now, stored.updated_at)))) return;
      if (entry.result === 'done' || named === undefined) await audit(tx, acting, entry, now);
      if (entry.result === 'unchanged') return;
      result = 'done';
      // A cached name would otherwise still post heartbeats for this node.
      if (patch.name !== undefined) await announceIdentityChange(tx, NODE_CHANGED);
      // Status pages show node names and select nodes by labels.
      if (patch.name !== undefined || patch.labels !== undefined) await announcePublicChange(tx, ['pages']);
      // The old key must stop reaching this node everywhere, before another node is given it.
      if (patch.ping_key !== undefined) await store.announcePingKeyChange(tx);
    });
  } catch (err) {
    throw refusalOf(err, name);
  }
  if (!found) return undefined;
  return { node: await shown(sql, id), result, pingKeyBefore };
}

/** What applying a node's desired state did: created it (its token shown this once), changed it, or found it as asked. */
export type Applied = { outcome: 'created'; node: NodeRow; token: string } | { outcome: 'updated' | 'unchanged'; node: NodeRow; pingKeyBefore: string | undefined };

/**
 * How many times applyNode looks the name up again after a concurrent request deleted, renamed or
 * created its node in between: each retry needs another request's commit in that gap, so three
 * in a row is someone churning the name, answered 409 rather than chased.
 */
const APPLY_ATTEMPTS = 3;

/**
 * Makes the node named `name` what `desired` describes (desiredChange): created with it when there
 * is none, else changed through changeNode, so settings as they are write nothing and keep the
 * node's ETag. A deploy script may run it any number of times. `match` is the request's If-Match:
 * any one (even `*`) asks for an existing node, so none is 412 and nothing is created; a version
 * is checked as by a PATCH. The name is looked up before the row is locked, so what a concurrent
 * request did in between is met as a later apply would meet it: two first applies at once, the
 * one whose insert loses applies its settings over the node the other created; a node deleted
 * or renamed meanwhile is looked up again, so the name gets a node (created) and a renamed node is
 * left as its new name has it.
 */
export async function applyNode(sql: Sql, name: string, desired: DesiredNode, now: Date, acting: Acting, report: KeepReport, match: { given: boolean; versions?: readonly number[] | undefined }): Promise<Applied> {
  for (let attempt = 1; ; attempt++) {
    let id = await store.nodeIdByName(sql, name);
    if (id === undefined) {
      if (match.given) throw new Refusal('precondition_failed', `Node "${name}" does not exist, and If-Match names a version of it; nothing was created.`);
      try {
        return { outcome: 'created', ...(await createNode(sql, { ...desired, name }, now, acting, report)) };
      } catch (err) {
        id = err instanceof Refusal && err.code === 'conflict' ? await store.nodeIdByName(sql, name) : undefined;
        if (id === undefined) throw err;
      }
    }
    const changed = await changeNamed(sql, id, name, desiredChange(desired), now, acting, report, match.versions);
    if (changed) return { outcome: changed.result === 'done' ? 'updated' : 'unchanged', node: changed.node, pingKeyBefore: changed.pingKeyBefore };
    if (attempt === APPLY_ATTEMPTS) throw conflict(`Node "${name}" was deleted, renamed or created by other requests ${APPLY_ATTEMPTS} times while this one applied it; nothing was changed. Try again.`);
  }
}

/** A new token; the old one stops working in every process as the NOTIFY commits. */
export async function rotateToken(sql: Sql, id: string, now: Date, acting: Acting): Promise<{ node: NodeRow; token: string }> {
  const token = generateSecret('lln');
  await sql.begin(async (tx) => {
    const name = await store.setNodeToken(tx, id, hashSecret(token), now);
    if (name === undefined) return;
    await audit(tx, acting, { action: 'node.rotate_token', target: { type: 'node', id, name } }, now);
    await announceIdentityChange(tx, NODE_CHANGED);
  });
  return { node: await shown(sql, id), token };
}

/**
 * A new ping key: the old ping URL stops working in every process as this commits, which cuts off every crontab that pings it, so it is audited like a new token.
 */
export async function rotatePingKey(sql: Sql, id: string, now: Date, acting: Acting): Promise<NodeRow> {
  await sql.begin(async (tx) => {
    const name = await store.rotatePingKey(tx, id, now);
    if (name === undefined) throw notFound(`Node "${id}"`);
    await audit(tx, acting, { action: 'node.rotate_ping_key', target: { type: 'node', id, name } }, now);
    await store.announcePingKeyChange(tx);
  });
  return shown(sql, id);
}

/**
 * Deletes a node with its rows. Deletion is an event too (`node.deleted`): handlers downstream
 * close what they opened for the node. False when there was no such node. The row is locked
 * first, and with `expected` (an If-Match) its version checked (checkVersion).
 */
export async function deleteNode(sql: Sql, id: string, now: Date, acting: Acting, report: KeepReport, expected?: readonly number[]): Promise<boolean> {
  // Its uptime rows go with it: the past days of the pages that select it are kept first.
  const node = await store.getNode(sql, id);
  if (!node) return false;
  await keepDaysOfDeleted(sql, node, now.getTime(), report);
  return sql.begin(async (tx) => {
    // Locked as an edit locks it, node_due first: deleting the node first locked its row, then its
    // cascade waited on node_due, which an edit (or a flush) held while waiting on the row — a
    // deadlock (40P01, a 500) in 3 of 40 PATCHes racing a DELETE.
    const stored = await store.lockEditable(tx, id);
    if (!stored) return false;
    if (expected !== undefined) checkVersion(`Node "${stored.name}"`, expected, stored.updated_at);
    const gone = await store.deleteNode(tx, id);
    if (!gone) return false;
    await audit(tx, acting, { action: 'node.delete', target: { type: 'node', id, name: gone.name } }, now);
    await insertOutbox(tx, [{ topic: 'node.deleted', key: id, payload: { node_id: id, node_name: gone.name, at: now.toISOString() } }], now);
    await announceIdentityChange(tx, NODE_CHANGED);
    await store.announcePingKeyChange(tx);
    // Its badge answers 404 and the pages that showed it leave it out, everywhere as this commits.
    await announcePublicChange(tx, PUBLIC_CACHES);
    return true;
  });
}

/**
 * Creates nodes for unknown names with default settings but the interval their agent sends at,
 * when it says (ingest auto-registration); concurrent registrations of one name resolve to the
 * same node. Each gets a random token nobody has seen; rotating it is how an operator hands one to
 * an agent. Each node this call created is audited as `node.create` by the key whose heartbeats
 * named it; one a concurrent request created is that request's.
 */
export async function registerNodes(sql: Sql, nodes: { name: string; heartbeat_interval_seconds: number | undefined }[], now: Date, acting: Acting): Promise<NodeRef[]> {
  const names = nodes.map((n) => n.name);
  const intervals = nodes.map((n) => n.heartbeat_interval_seconds ?? NODE_DEFAULTS.heartbeat_interval_seconds);
  return sql.begin(async (tx) => {
    const { refs, created } = await store.registerNodes(tx, names, names.map(() => hashSecret(generateSecret('lln'))), NODE_DEFAULTS, now, intervals);
    await auditEach(tx, acting, { action: 'node.create', detail: { auto_registered: true } }, 'node', created, now);
    return refs;
  });
}
