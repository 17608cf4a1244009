import { writtenAt } from '../clock.ts';
import { patched, type Acting } from '../audit/model.ts';
import { audit, auditedUpdate } from '../audit/service.ts';
import type { Sql, Tx } from '../db/client.ts';
import { uniqueViolated } from '../db/errors.ts';
import { lockExisting } from '../db/named-rows.ts';
import { checkVersion, conflict, notFound, validationFailed } from '../errors.ts';
import { missingIds, type NewPolicy, type PolicyLevel, type PolicyPatch, type PolicyRow } from './model.ts';
import * as store from './store.ts';
import { policyStep } from '../incidents/events.ts';
import { addTimeline, lockIncidentsOfPolicy, pendingEscalations, replacePolicies, type PendingEscalation } from '../incidents/store.ts';
import { retimeOutbox } from '../outbox/store.ts';

/**
 * Every channel, user and schedule the levels name must exist, and stays locked against deletion
 * until commit.
 */
async function checkReferences(tx: Tx, levels: PolicyLevel[]): Promise<void> {
  const channels = await lockExisting(tx, 'channels', levels.flatMap((l) => l.channel_ids));
  const users = await lockExisting(tx, 'users', levels.flatMap((l) => l.user_ids ?? []));
  const schedules = await lockExisting(tx, 'schedules', levels.flatMap((l) => l.schedule_ids ?? []));
  const missing = levels.flatMap((l, i) => [
    ...missingIds(l.channel_ids, channels, `levels.${i}.channel_ids`, 'is not a channel'),
    ...missingIds(l.user_ids ?? [], users, `levels.${i}.user_ids`, 'is not a user'),
    ...missingIds(l.schedule_ids ?? [], schedules, `levels.${i}.schedule_ids`, 'is not a schedule'),
  ]);
  if (missing.length > 0) throw validationFailed(missing);
}

// Two writers making a policy the default at once: the loser of the index race simply runs again
// (and then demotes the winner). Three rounds cover any realistic pile-up.
const DEFAULT_RACE_ATTEMPTS = 3;

/** Runs one policy write in a transaction, with what it names checked, turning races into refusals. */
async function write(sql: Sql, input: { name?: string | undefined; levels?: PolicyLevel[] | undefined }, work: (tx: Tx) => Promise<PolicyRow | undefined>) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sql.begin(async (tx) => {
        if (input.levels) await checkReferences(tx, input.levels);
        return work(tx);
      });
    } catch (err) {
      const constraint = uniqueViolated(err);
      if (constraint === store.ONE_DEFAULT_INDEX && attempt < DEFAULT_RACE_ATTEMPTS) continue;
      if (constraint === store.ONE_DEFAULT_INDEX) throw conflict('Another policy was made the default at the same moment; try again.');
      if (constraint !== undefined) throw conflict(`An escalation policy named "${input.name}" already exists.`);
      throw err;
    }
  }
}

/** A new policy; a new default replaces the old one in the same transaction. */
export async function createPolicy(sql: Sql, input: NewPolicy, now: Date, acting: Acting): Promise<PolicyRow> {
  return (await write(sql, input, async (tx) => {
    const row = await store.insertPolicy(tx, input, now);
    await audit(tx, acting, { action: 'escalation_policy.create', target: { type: 'escalation_policy', id: row.id, name: row.name } }, now);
    return row;
  }))!;
}

/**
 * Changes a policy; incidents already open keep escalating by it as it now reads. Their waiting
 * timers move to the times the levels now give (opening + the step's delay) in the same commit, so
 * a delay shortened from 3600 s to 60 s pages at +60 s, not an hour later; a lengthened one is also
 * caught when its old timer fires (see escalate).
 */
export async function updatePolicy(sql: Sql, policy: PolicyRow, patch: PolicyPatch, now: Date, acting: Acting, expected?: readonly number[]): Promise<PolicyRow> {
  if (Object.keys(patch).length === 0) {
    checkVersion(`Escalation policy "${policy.name}"`, expected, policy.updated_at);
    return policy;
  }
  const row = await write(sql, patch, async (tx) => {
    // Read again, locked: `policy` was read before this transaction, and a concurrent edit may have changed it since.
    const before = await store.getPolicy(tx, policy.id, true);
    if (!before) return undefined;
    checkVersion(`Escalation policy "${before.name}"`, expected, before.updated_at);
    const change = patched('escalation_policy.update', { type: 'escalation_policy', id: before.id, name: patch.name ?? before.name }, patch, before);
    return auditedUpdate(tx, acting, change, before, async () => {
      const row = await store.updatePolicy(tx, policy.id, patch, writtenAt(now, before.updated_at));
      if (row && (patch.levels || patch.repeat !== undefined)) await retimeEscalations(tx, await pendingEscalations(tx, row.id), () => row);
      return row;
    }, now);
  });
  if (!row) throw notFound(`Escalation policy "${policy.id}"`);
  return row;
}

/**
 * Puts waiting escalation timers (pendingEscalations) at the times the policy each incident now
 * follows gives them (`policyOf`: the policy itself, or what replaces it once deleted); a step past
 * that policy's end is left to fire and stop.
 */
async function retimeEscalations(tx: Tx, pending: PendingEscalation[], policyOf: (p: PendingEscalation) => PolicyRow | undefined): Promise<void> {
  await retimeOutbox(
    tx,
    pending.flatMap((p) => {
      const policy = policyOf(p);
      const at = policy && policyStep(p, policy, p.step)?.dueAt;
      return at ? [{ id: p.outbox_id, availableAt: at }] : [];
    }),
  );
}

/**
 * Deletes a policy; nodes that used it fall back to the default (the foreign key sets theirs to
 * null), and so do its open incidents: each now escalates by its node's policy, else the default,
 * says so on its timeline, and its waiting timer moves to that policy's time. They carry that
 * policy's id from now on, so its edits re-time them (pendingEscalations) and a later change of
 * default leaves them on it, as an incident opened by the default is. An incident with nothing to
 * fall back to keeps the deleted id and stops at its next step; one opening while the policy is
 * deleted (not yet visible to lockIncidentsOfPolicy) falls back when its next step fires (see
 * escalate).
 */
export async function deletePolicy(sql: Sql, id: string, now: Date, acting: Acting, expected?: readonly number[]): Promise<boolean> {
  return sql.begin(async (tx) => {
    const incidents = await lockIncidentsOfPolicy(tx, id);
    const pending = await pendingEscalations(tx, id);
    const nodeIds = [...new Set([...incidents, ...pending].map((i) => i.node_id))];
    // The policy and what replaces it, in id order before the delete: deleting first locked this
    // row out of order, and a concurrent "make this the default" holding the old default while
    // waiting for it deadlocked with this delete waiting to share-lock that default.
    await store.lockForDeletion(tx, id, nodeIds);
    // With an If-Match, the version read now, under the lock just taken (checkVersion).
    const locked = expected === undefined ? undefined : await store.getPolicy(tx, id);
    if (locked) checkVersion(`Escalation policy "${locked.name}"`, expected, locked.updated_at);
    const name = await store.deletePolicy(tx, id);
    if (name === undefined) return false;
    const fallback = await store.policiesForNodes(tx, nodeIds);
    await retimeEscalations(tx, pending, (p) => fallback.get(p.node_id));
    const replaced = incidents.flatMap((i) => {
      const policy = fallback.get(i.node_id);
      return policy ? [{ id: i.id, policy }] : [];
    });
    await replacePolicies(tx, replaced.map((r) => ({ id: r.id, policyId: r.policy.id })));
    await addTimeline(
      tx,
      replaced.map((r) => ({ incident_id: r.id, at: now, kind: 'policy_replaced', detail: { policy_id: r.policy.id, policy_name: r.policy.name, reason: 'escalation policy deleted' } })),
    );
    await audit(tx, acting, { action: 'escalation_policy.delete', target: { type: 'escalation_policy', id, name } }, now);
    return true;
  });
}
