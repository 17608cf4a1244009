import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { revokeKey } from '../../src/access/service.ts';
import { insertSession } from '../../src/access/store-sessions.ts';
import { createSql } from '../../src/db/client.ts';
import { hashSecret } from '../../src/secrets.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { createHarness, type Harness } from '../helpers/app.ts';
import { afterQuery, waitsOnLock } from '../helpers/locks.ts';

// A revocation and a console sign-in, each in its own transaction, interleaved as they can be:
// the sign-in sweeps expired sessions (one of them the revoked key's), the revocation then locks
// what it locks and waits to delete that session, and the sign-in inserts its own session, whose
// foreign key check takes FOR KEY SHARE on its key's row. Nothing the revocation holds may block
// that, or the two deadlock (40P01) and the revocation fails.

const HOUR = 3_600_000;

describe('revoking a key while a console sign-in sweeps its expired session', () => {
  let h: Harness;
  let signIns: ReturnType<typeof createSql>;
  let revocations: ReturnType<typeof createSql>;
  before(async () => {
    h = await createHarness();
    signIns = createSql(h.db.url, { dedicated: true, applicationName: 'lifeline-test-sign-in' });
    revocations = createSql(h.db.url, { dedicated: true, applicationName: 'lifeline-test-revoke' });
  });
  after(async () => {
    await signIns.end({ timeout: 1 });
    await revocations.end({ timeout: 1 });
    await h.close();
  });

  const session = (keySecret: string, now: Date) => ({
    idHash: hashSecret(randomBytes(32).toString('hex')),
    keySecretHash: hashSecret(keySecret),
    now,
    idleSince: new Date(now.getTime() - 12 * HOUR),
    expiresAt: new Date(now.getTime() + HOUR),
  });

  async function interleave(revoked: { id: string; secret: string }, signingIn: { secret: string }) {
    const now = h.clock.now();
    // An expired session of the key to revoke: the sign-in's sweep deletes it.
    await insertSession(h.sql, session(revoked.secret, new Date(now.getTime() - 2 * HOUR)));
    let revocation!: Promise<boolean>;
    const opened = await signIns.begin(async (tx) => {
      // Bounds the insert's wait: without the fix Postgres reports the deadlock after
      // deadlock_timeout (1 s); anything else holding the insert fails the test, not hangs it.
      await tx`set local lock_timeout = '10s'`;
      const afterSweep = afterQuery(tx, 1, async () => {
        revocation = revokeKey(revocations, revoked.id, now, TEST_ACTING);
        await waitsOnLock(h.db, 'lifeline-test-revoke');
      });
      return insertSession(afterSweep, session(signingIn.secret, now));
    });
    assert.ok(opened, 'the sign-in opened its session');
    assert.equal(await revocation, true);
    const [key] = await h.sql<{ revoked_at: Date | null }[]>`select revoked_at from api_keys where id = ${revoked.id}`;
    assert.ok(key!.revoked_at);
  }

  it('a read key, while another key signs in', async () => {
    const admin = await h.createKey('admin', 'signs-in-1');
    await interleave(await h.createKey('read', 'revoked-read'), admin);
  });

  it('an admin key that is not the last, while another admin key signs in', async () => {
    const admin = await h.createKey('admin', 'signs-in-2');
    await interleave(await h.createKey('admin', 'revoked-admin'), admin);
  });

  it('a key, while that very key signs in', async () => {
    const reader = await h.createKey('read', 'revoked-while-signing-in');
    await interleave(reader, reader);
  });
});
