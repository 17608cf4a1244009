// People: created, changed and deleted here, whoever asks (the API, later the console).
import { writtenAt } from '../clock.ts';
import { patched, type Acting } from '../audit/model.ts';
import { audit, auditedUpdate } from '../audit/service.ts';
import type { Sql, Tx } from '../db/client.ts';
import { uniqueViolated } from '../db/errors.ts';
import { DELETE_LOCK_WAIT_MS, deleting, lockExisting } from '../db/named-rows.ts';
import { checkVersion, notFound, Refusal, validationFailed } from '../errors.ts';
import { inUse, missingIds, USER_HOLDER_WORDS, type NewUser, type UserPatch, type UserRow } from './model.ts';
import { holdingIncidents } from '../notifications/holding-incidents.ts';
import { policiesNaming } from './store.ts';
import { schedulesNamingUser, schedulesWithOverridesFor } from './store-schedules.ts';
import * as store from './store-users.ts';

/**
 * Runs a user write: its channels exist (and stay locked until commit), its address is its own.
 * The write runs in a savepoint so that, when the address index refuses it, the holder can still
 * be read in this transaction (a failed statement aborts the rest): the refusal names who has the
 * address at the `email` field, for the API and the console alike. The index never counts the row
 * being saved, so the holder is someone else; the violation waited for their commit, so they are seen.
 */
async function write(sql: Sql, input: UserPatch, work: (tx: Tx) => Promise<UserRow | undefined>): Promise<UserRow | undefined> {
  return sql.begin(async (tx) => {
    if (input.channel_ids) {
      const existing = await lockExisting(tx, 'channels', input.channel_ids);
      const missing = missingIds(input.channel_ids, existing, 'channel_ids', 'is not a channel');
      if (missing.length) throw validationFailed(missing);
    }
    try {
      return await tx.savepoint((sp) => work(sp));
    } catch (err) {
      if (uniqueViolated(err) !== store.USER_EMAIL_INDEX) throw err;
      throw await emailTaken(tx, input.email!);
    }
  });
}

/** The refusal of an address someone has, compared as the index compares them (ALICE@ is alice@). */
async function emailTaken(tx: Tx, email: string): Promise<Refusal> {
  const holder = await store.userWithEmail(tx, email);
  const message = `A user with the address "${email}" already exists.`;
  return new Refusal('conflict', message, holder && [{ field: 'email', message: `already belongs to ${holder.name} (${holder.email})` }]);
}

export async function createUser(sql: Sql, input: NewUser, now: Date, acting: Acting): Promise<UserRow> {
  return (await write(sql, input, async (tx) => {
    const row = await store.insertUser(tx, input, now);
    await audit(tx, acting, { action: 'user.create', target: { type: 'user', id: row.id, name: row.name } }, now);
    return row;
  }))!;
}

/** Changes a user; with `expected` (an If-Match), only a version it lists (checkVersion). */
export async function updateUser(sql: Sql, user: UserRow, patch: UserPatch, now: Date, acting: Acting, expected?: readonly number[]): Promise<UserRow> {
  if (Object.keys(patch).length === 0) {
    checkVersion(`User "${user.name}"`, expected, user.updated_at);
    return user;
  }
  const row = await write(sql, patch, async (tx) => {
    // Read again, locked: `user` was read before this transaction, and a concurrent edit may have changed it since.
    const before = await store.getUser(tx, user.id, true);
    if (!before) return undefined;
    checkVersion(`User "${before.name}"`, expected, before.updated_at);
    const change = patched('user.update', { type: 'user', id: before.id, name: patch.name ?? before.name }, patch, before);
    return auditedUpdate(tx, acting, change, before, () => store.updateUser(tx, user.id, patch, writtenAt(now, before.updated_at)), now);
  });
  if (!row) throw notFound(`User "${user.id}"`);
  return row;
}

/**
 * Deletes a user nothing pages any more: no escalation level, no schedule layer and no override
 * that has not ended names them (ended overrides go with them), and no open incident paged them
 * (its resolve goes to them, as to a channel: see deleteChannel, dead outbox events included).
 * The user is locked first, so a policy, schedule or override being written that names them, or an
 * escalation step paging them (whomLevelsPage), either committed before (and is found here) or
 * waits and then finds the user gone; it waits for them at most `lockWaitMs`, then is refused to
 * be retried (deleting: steps of a storm can hold a person for minutes). With `expected` (an
 * If-Match), the locked row must be at a version it lists (checkVersion).
 */
export async function deleteUser(sql: Sql, id: string, now: Date, acting: Acting, lockWaitMs = DELETE_LOCK_WAIT_MS, expected?: readonly number[]): Promise<void> {
  await deleting(sql, 'user', id, lockWaitMs, async (tx) => {
    if (expected !== undefined) {
      const locked = (await store.getUser(tx, id))!;
      checkVersion(`User "${locked.name}"`, expected, locked.updated_at);
    }
    const used = inUse(
      [
        { kind: 'policy', list: await policiesNaming(tx, 'user_ids', id) },
        { kind: 'schedule', list: await schedulesNamingUser(tx, id) },
        { kind: 'override', list: await schedulesWithOverridesFor(tx, id, now) },
      ],
      (by) => `The user ${by}; take them out first.`,
      USER_HOLDER_WORDS,
    );
    if (used) throw used;
    const held = await holdingIncidents(tx, 'user', id);
    if (held) throw held;
    const name = await store.deleteUser(tx, id);
    await audit(tx, acting, { action: 'user.delete', target: { type: 'user', id, name } }, now);
  });
}
