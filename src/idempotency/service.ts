import { isUnbound, openSecret, openUnbound, sealSecret } from '../../alerting/secret-box.ts';
import type { Sql } from '../db/client.ts';
import { ABANDONED_AFTER_MS, KEY_LIFETIME_MS, type Claim, type KeyClaim, type StoredAnswer } from './model.ts';
import { claimKey, deleteKeysBefore, findKey, releaseKey, saveAnswer } from './store.ts';

// A claim that finds a row which is then released (its first request failed) tries again; a
// handful of rounds covers any realistic pile-up of retries.
const CLAIM_ROUNDS = 3;

/**
 * What a request with an Idempotency-Key may do: act first, replay the first answer, or neither.
 * A first request unanswered after `abandonedAfterMs` is taken over.
 */
export async function claim(sql: Sql, secretKey: Buffer, k: KeyClaim, now: Date, abandonedAfterMs = ABANDONED_AFTER_MS): Promise<Claim> {
  const expiredBefore = new Date(now.getTime() - KEY_LIFETIME_MS);
  const abandonedBefore = new Date(now.getTime() - abandonedAfterMs);
  for (let round = 1; ; round++) {
    if (await claimKey(sql, k, now, expiredBefore, abandonedBefore)) return { kind: 'first' };
    const row = await findKey(sql, k.credential, k.key);
    if (!row) {
      if (round < CLAIM_ROUNDS) continue;
      return { kind: 'in_flight' };
    }
    if (row.fingerprint !== k.fingerprint) return { kind: 'mismatch' };
    if (row.answer === null) return { kind: 'in_flight' };
    // Answers kept before sealed values were bound (v1) live at most a key's lifetime after an upgrade.
    const opened = isUnbound(row.answer) ? openUnbound(row.answer, secretKey) : openSecret(row.answer, secretKey, boundTo(k));
    return { kind: 'replay', answer: JSON.parse(opened) as StoredAnswer };
  }
}

/** A kept answer opens only for the credential and key it was kept under, not copied to another. */
const boundTo = (k: Pick<KeyClaim, 'credential' | 'key'>) => `idempotency ${k.credential} ${k.key}`;

/**
 * Keeps the first request's answer for its retries, sealed like channel secrets: it may carry a
 * node token, a key's secret or a webhook signing secret, which are stored nowhere else in clear.
 */
export async function remember(sql: Sql, secretKey: Buffer, k: KeyClaim, answer: StoredAnswer): Promise<void> {
  await saveAnswer(sql, k.credential, k.key, sealSecret(JSON.stringify(answer), secretKey, boundTo(k)));
}

/** The first request did not succeed: nothing was done, so a retry may act. */
export async function release(sql: Sql, k: KeyClaim): Promise<void> {
  await releaseKey(sql, k.credential, k.key);
}

/** Forgets keys past their 24 h; returns how many. */
export async function pruneKeys(sql: Sql, now: Date): Promise<number> {
  return deleteKeysBefore(sql, new Date(now.getTime() - KEY_LIFETIME_MS));
}
