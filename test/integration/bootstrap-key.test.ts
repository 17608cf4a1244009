import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensureBootstrapAdmin } from '../../src/access/service.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectJson, type Harness } from '../helpers/app.ts';

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
});
