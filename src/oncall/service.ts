import { lockExistingChannels } from '../channels/store.ts';
import type { Sql, Tx } from '../db/client.ts';
import { conflict, notFound, validationFailed, type ErrorDetail } from '../errors.ts';
import type { NewPolicy, PolicyLevel, PolicyPatch, PolicyRow } from './model.ts';
import * as store from './store.ts';

/** Every channel the levels name must exist, and stays locked against deletion until commit. */
async function checkChannels(tx: Tx, levels: PolicyLevel[]): Promise<void> {
  const existing = await lockExistingChannels(tx, levels.flatMap((l) => l.channel_ids));
  const missing: ErrorDetail[] = levels.flatMap((l, i) =>
    l.channel_ids.flatMap((id, j) => (existing.has(id) ? [] : [{ field: `levels.${i}.channel_ids.${j}`, message: 'is not a channel' }])),
  );
  if (missing.length > 0) throw validationFailed(missing);
}

/** The index or constraint a unique violation hit; undefined for any other error. */
function uniqueViolated(err: unknown): string | undefined {
  const e = err as { code?: string; constraint_name?: string };
  return e.code === '23505' ? (e.constraint_name ?? '') : undefined;
}

// Two writers making a policy the default at once: the loser of the index race simply runs again
// (and then demotes the winner). Three rounds cover any realistic pile-up.
const DEFAULT_RACE_ATTEMPTS = 3;

/** Runs one policy write in a transaction, with its channels checked, turning races into refusals. */
async function write(sql: Sql, input: { name?: string | undefined; levels?: PolicyLevel[] | undefined }, work: (tx: Tx) => Promise<PolicyRow | undefined>) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sql.begin(async (tx) => {
        if (input.levels) await checkChannels(tx, input.levels);
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
export async function createPolicy(sql: Sql, input: NewPolicy, now: Date): Promise<PolicyRow> {
  return (await write(sql, input, (tx) => store.insertPolicy(tx, input, now)))!;
}

/** Changes a policy; incidents already open keep escalating by it as it now reads. */
export async function updatePolicy(sql: Sql, policy: PolicyRow, patch: PolicyPatch, now: Date): Promise<PolicyRow> {
  if (Object.keys(patch).length === 0) return policy;
  const row = await write(sql, patch, (tx) => store.updatePolicy(tx, policy.id, patch, now));
  if (!row) throw notFound(`Escalation policy "${policy.id}"`);
  return row;
}

/** Deletes a policy; nodes that used it fall back to the default (the foreign key sets theirs to null). */
export async function deletePolicy(sql: Sql, id: string): Promise<boolean> {
  return store.deletePolicy(sql, id);
}
