// People: created, changed and deleted here, whoever asks (the API, later the console).
import { lockExistingChannels } from '../channels/store.ts';
import type { Sql, Tx } from '../db/client.ts';
import { uniqueViolated } from '../db/errors.ts';
import { conflict, notFound, validationFailed } from '../errors.ts';
import { missingIds, namedBy, type NewUser, type UserPatch, type UserRow } from './model.ts';
import { policiesNaming } from './store.ts';
import { schedulesNamingUser, schedulesWithOverridesFor } from './store-schedules.ts';
import * as store from './store-users.ts';

/** Runs a user write: its channels exist (and stay locked until commit), its address is its own. */
async function write(sql: Sql, input: UserPatch, work: (tx: Tx) => Promise<UserRow | undefined>): Promise<UserRow | undefined> {
  try {
    return await sql.begin(async (tx) => {
      if (input.channel_ids) {
        const existing = await lockExistingChannels(tx, input.channel_ids);
        const missing = missingIds(input.channel_ids, existing, 'channel_ids', 'is not a channel');
        if (missing.length) throw validationFailed(missing);
      }
      return work(tx);
    });
  } catch (err) {
    if (uniqueViolated(err) === store.USER_EMAIL_INDEX) throw conflict(`A user with the address "${input.email}" already exists.`);
    throw err;
  }
}

export async function createUser(sql: Sql, input: NewUser, now: Date): Promise<UserRow> {
  return (await write(sql, input, (tx) => store.insertUser(tx, input, now)))!;
}

export async function updateUser(sql: Sql, user: UserRow, patch: UserPatch, now: Date): Promise<UserRow> {
  if (Object.keys(patch).length === 0) return user;
  const row = await write(sql, patch, (tx) => store.updateUser(tx, user.id, patch, now));
  if (!row) throw notFound(`User "${user.id}"`);
  return row;
}

/**
 * Deletes a user nothing pages any more: no escalation level, no schedule layer and no override
 * that has not ended names them (ended overrides go with them). The user is locked first, so a
 * policy, schedule or override being written that names them either committed before (and is
 * found here) or waits and then finds the user gone.
 */
export async function deleteUser(sql: Sql, id: string, now: Date): Promise<void> {
  await sql.begin(async (tx) => {
    if (!(await store.lockUserForDelete(tx, id))) throw notFound(`User "${id}"`);
    const by = namedBy([
      ['escalation policy', 'escalation policies', await policiesNaming(tx, 'user_ids', id)],
      ['schedule', 'schedules', await schedulesNamingUser(tx, id)],
      ['an override of schedule', 'overrides of schedules', await schedulesWithOverridesFor(tx, id, now)],
    ]);
    if (by) throw conflict(`The user is on call through ${by}; take them out first.`);
    await store.deleteUser(tx, id);
  });
}
