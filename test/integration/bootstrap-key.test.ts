import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBootstrapAdmin } from '../../src/access/service.ts';
import { LOCKS } from '../../src/db/locks.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectJson, type Harness } from '../helpers/app.ts';
import { engineEnv, EngineProcess } from '../helpers/engine-process.ts';
import { holdOpen, waitsOnLock } from '../helpers/locks.ts';
import { hashSecret } from '../../src/secrets.ts';
import { FIRST_ADMIN_FILE, firstAdminFileFor, offerFirstAdmin } from '../../workers/first-admin.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';

// LIFELINE_ADMIN_TOKEN gives an admin key; every start of a process serving the API applies the
// variable as it is then, so unsetting it takes the key away again (applyAdminToken, once it
// listens). Processes of other roles never touch it.

let h: Harness;

/** An engine of `roles` on the harness's database, without LIFELINE_ADMIN_TOKEN. */
function withoutToken(roles: string, dataDir: string, port: string): Record<string, string> {
  return engineEnv(h.db.name, '', { LIFELINE_ROLES: roles, LIFELINE_DATA_DIR: dataDir, PORT: port });
}

/** The names of the admin keys that work, by name. */
async function workingAdminKeys(): Promise<string[]> {
  const rows = await h.sql<{ name: string }[]>`select name from api_keys where scope = 'admin' and revoked_at is null order by name`;
  return rows.map((r) => r.name);
}

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

  it('is left alone by a process that serves no API, started without LIFELINE_ADMIN_TOKEN', async () => {
    // A worker (outbox,notifier) or an evaluator is often started without the variable: its start
    // revoked the key for the whole cluster, then made a first admin key in its own data directory.
    const dataDir = await mkdtemp(join(tmpdir(), 'lifeline-first-admin-'));
    try {
      for (const roles of ['outbox,notifier', 'evaluator']) {
        const engine = EngineProcess.start(withoutToken(roles, dataDir, '0'));
        try {
          await engine.listeningPort();
        } finally {
          engine.kill('SIGTERM');
          await engine.exited;
        }
        assert.deepEqual(await workingAdminKeys(), ['bootstrap-admin'], `a start of ${roles} changed the admin keys`);
        h.identity.forget();
        await expectJson(await h.admin('GET', '/v1/nodes'), 200);
        assert.ok(!engine.lines.some((l) => /LIFELINE_ADMIN_TOKEN|first run/.test(l.msg)), engine.said());
      }
      assert.deepEqual(await readdir(dataDir), [], 'no admin secret was written');
    } finally {
      await rm(dataDir, { recursive: true });
    }
  });

  it('is left alone by an api start that cannot listen, and revoked, saying so, by one that does', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lifeline-first-admin-'));
    const taken = createServer();
    try {
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const failed = EngineProcess.start(withoutToken('api', dataDir, String((taken.address() as AddressInfo).port)));
      assert.equal((await failed.exited).code, 1, failed.said());
      assert.deepEqual(await workingAdminKeys(), ['bootstrap-admin'], 'a start that never served changed the admin keys');
      assert.deepEqual(await readdir(dataDir), []);

      // The one that serves applies the variable as it is: unset, it takes the key away, and the
      // log says so before it makes the first admin key in its place.
      const engine = EngineProcess.start(withoutToken('api', dataDir, '0'));
      try {
        await engine.listeningPort();
      } finally {
        engine.kill('SIGTERM');
        await engine.exited;
      }
      assert.deepEqual(await workingAdminKeys(), ['first-admin']);
      const said = engine.lines.map((l) => l.msg);
      const revoked = said.findIndex((m) => m.startsWith('LIFELINE_ADMIN_TOKEN is not set: the bootstrap-admin key it gave was revoked'));
      assert.ok(revoked >= 0 && revoked < said.findIndex((m) => m.startsWith('first run:')), engine.said());
      const [key] = await h.sql<{ secret_hash: string }[]>`select secret_hash from api_keys where scope = 'admin' and revoked_at is null`;
      const secret = (await readFile(join(dataDir, FIRST_ADMIN_FILE), 'utf8')).trim();
      assert.equal(key!.secret_hash, hashSecret(secret), 'the secret kept in the data directory is the working key');
    } finally {
      taken.close();
      await rm(dataDir, { recursive: true });
      await ensureBootstrapAdmin(h.sql, ADMIN_TOKEN, h.clock.now());
      h.identity.forget();
    }
  });

  it('is left working by an api start that cannot keep the first admin secret', async () => {
    // The revocation once committed on its own, before the secret file was written: a data
    // directory that is a file (or read-only, or full) failed the start and left no admin key.
    const parent = await mkdtemp(join(tmpdir(), 'lifeline-first-admin-'));
    const dataDir = join(parent, 'not-a-directory');
    try {
      // No other admin key works, so the start must make the first one, and keep its secret.
      await h.sql`update api_keys set revoked_at = now() where scope = 'admin' and name <> 'bootstrap-admin' and revoked_at is null`;
      await writeFile(dataDir, 'a file where the data directory should be\n');
      const failed = EngineProcess.start(withoutToken('api', dataDir, '0'));
      assert.equal((await failed.exited).code, 1, failed.said());
      assert.deepEqual(await workingAdminKeys(), ['bootstrap-admin'], failed.said());
      h.identity.forget();
      await expectJson(await h.admin('GET', '/v1/nodes'), 200);
    } finally {
      await rm(parent, { recursive: true });
    }
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
      await offerFirstAdmin(db.sql, { dataDir, databaseUrl: db.url, embedded: false, consoleUrl: 'http://127.0.0.1:8080/', apiUrl: 'http://127.0.0.1:8080' }, log, h.clock.now());
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
