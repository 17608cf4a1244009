import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBootstrapAdmin } from '../../src/access/service.ts';
import { LOCKS } from '../../src/db/locks.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectJson, type Harness } from '../helpers/app.ts';
import { EngineProcess } from '../helpers/engine-process.ts';
import { holdOpen, waitsOnLock } from '../helpers/locks.ts';
import { hashSecret } from '../../src/secrets.ts';
import { FIRST_ADMIN_FILE, firstAdminFileFor, offerFirstAdmin } from '../../workers/first-admin.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';

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

  it('leaves an admin key working after a start without it, whatever the roles of that start', async () => {
    // Revoking another admin key was allowed while this one worked; a start that serves no API then
    // revoked this one, and nothing made a new one until an api process started.
    const other = (await expectJson<{ id: string }>(await h.admin('POST', '/v1/api-keys', { name: 'other-admin', scope: 'admin' }), 201)).id;
    assert.equal((await h.admin('DELETE', `/v1/api-keys/${other}`)).status, 204);
    const dataDir = await mkdtemp(join(tmpdir(), 'lifeline-first-admin-'));
    const engine = EngineProcess.start({
      DATABASE_URL: h.db.url,
      LIFELINE_ROLES: 'evaluator',
      LIFELINE_ADMIN_TOKEN: '',
      LIFELINE_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
    });
    try {
      await engine.listeningPort();
    } finally {
      engine.kill('SIGTERM');
      await engine.exited;
    }
    const working = await h.sql<{ name: string; secret_hash: string }[]>`select name, secret_hash from api_keys where scope = 'admin' and revoked_at is null`;
    assert.deepEqual(
      working.map((k) => k.name),
      ['first-admin'],
    );
    const secret = (await readFile(join(dataDir, FIRST_ADMIN_FILE), 'utf8')).trim();
    await rm(dataDir, { recursive: true });
    assert.equal(working[0]!.secret_hash, hashSecret(secret), 'the secret kept in the data directory is the working key');
  });

  it("never overwrites another database's secret in the data directory: the new one goes to this database's own file", async () => {
    // The embedded Postgres wrote its first admin secret here; then DATABASE_URL points at a new
    // database without admin keys. Overwriting the file once left the embedded database with no
    // secret that opens it when the operator went back to it.
    const dataDir = await mkdtemp(join(tmpdir(), 'lifeline-first-admin-'));
    const db = await createTestDatabase();
    try {
      await writeFile(join(dataDir, FIRST_ADMIN_FILE), 'llk_of_the_embedded_database\n', { mode: 0o600 });
      const said: Array<{ fields: Record<string, unknown>; msg: string }> = [];
      const log = Object.assign(Object.create(testLog), { warn: (fields: Record<string, unknown>, msg: string) => said.push({ fields, msg }) });
      await offerFirstAdmin(db.sql, dataDir, db.url, log, h.clock.now(), undefined);
      assert.equal(await readFile(join(dataDir, FIRST_ADMIN_FILE), 'utf8'), 'llk_of_the_embedded_database\n');
      const own = join(dataDir, firstAdminFileFor(db.url));
      const secret = (await readFile(own, 'utf8')).trim();
      const [key] = await db.sql<{ secret_hash: string }[]>`select secret_hash from api_keys where scope = 'admin' and revoked_at is null`;
      assert.equal(key!.secret_hash, hashSecret(secret), "this database's own file holds its working key");
      assert.equal(said.length, 1);
      assert.equal(said[0]!.fields.file, own);
      assert.match(said[0]!.msg, new RegExp(`its secret is in ${own}.*${join(dataDir, FIRST_ADMIN_FILE)} was kept.*lifeline admin create-key`));
    } finally {
      await db.drop();
      await rm(dataDir, { recursive: true });
    }
  });
});
