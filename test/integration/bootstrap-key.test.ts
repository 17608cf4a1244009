import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensureBootstrapAdmin } from '../../src/access/service.ts';
import { LOCKS } from '../../src/db/locks.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectJson, type Harness } from '../helpers/app.ts';
import { holdOpen, waitsOnLock } from '../helpers/locks.ts';

// LIFELINE_ADMIN_TOKEN gives an admin key; every start applies the variable as it is then, so
// unsetting it takes the key away again (the engine calls ensureBootstrapAdmin at each start).

let h: Harness;

before(async () => {
  h = await createHarness();
});

after(async () => {
  await h?.close();
});

describe('the bootstrap admin key', () => {
  it('is revoked by a start without LIFELINE_ADMIN_TOKEN, and comes back with it', async () => {
    await expectJson(await h.admin('GET', '/v1/nodes'), 200);
    await ensureBootstrapAdmin(h.sql, undefined, h.clock.now());
    // Other processes forget their cached secrets on the NOTIFY; this one too.
    h.identity.forget();
    await expectError(await h.admin('GET', '/v1/nodes'), 401, 'unauthorized');
    const [key] = await h.sql<{ revoked_at: Date | null }[]>`select revoked_at from api_keys where name = 'bootstrap-admin'`;
    assert.ok(key!.revoked_at, 'the key is kept, revoked, so what it did stays attributed');
    // A second start without it changes nothing more.
    await ensureBootstrapAdmin(h.sql, undefined, h.clock.now());
    await ensureBootstrapAdmin(h.sql, ADMIN_TOKEN, h.clock.now());
    h.identity.forget();
    await expectJson(await h.admin('GET', '/v1/nodes'), 200);
  });

  it('is written by one start at a time, so two engines starting at once on a database without it both start', async () => {
    // Two inserts of the key at the same instant collide on api_keys' secret_hash (ON CONFLICT (id)
    // arbitrates the primary key only): one engine's start once failed on it. The instant cannot
    // be forced from outside, so this holds another start's turn and checks that this one waits.
    await h.sql`delete from api_keys where name = 'bootstrap-admin'`;
    const otherStart = await holdOpen(h.db, (tx) => tx`select pg_advisory_xact_lock(${LOCKS.bootstrapAdmin})`);
    let finished = false;
    const start = ensureBootstrapAdmin(h.sql, ADMIN_TOKEN, h.clock.now()).finally(() => (finished = true));
    await waitsOnLock(h.db, 'lifeline-test', () => finished);
    assert.equal(finished, false, 'wrote the key while another start was writing it');
    await otherStart.release();
    await start;
    h.identity.forget();
    await expectJson(await h.admin('GET', '/v1/nodes'), 200);
  });
});
