import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createSql } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { BASE_URL, dropDatabases, freshDatabaseName, urlFor } from '../helpers/db.ts';
import { EngineProcess, engineEnv } from '../helpers/engine-process.ts';

describe('migrations', () => {
  it('four engines migrating one missing database at once all succeed and apply each file once', async () => {
    const name = `lifeline_mig_${randomBytes(4).toString('hex')}`;
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => migrate(urlFor(name))));
      const files = readdirSync(new URL('../../sql/', import.meta.url)).filter((f) => f.endsWith('.sql')).sort();
      assert.deepEqual(results.flatMap((r) => r.applied).sort(), files, 'every file applied exactly once in all');
      const sql = createSql(urlFor(name), { dedicated: true });
      const rows = await sql<{ name: string }[]>`select name from schema_migrations order by name`;
      assert.deepEqual(rows.map((r) => r.name), files);
      await sql.end();
      assert.deepEqual((await migrate(urlFor(name))).applied, [], 'a later start applies nothing');
    } finally {
      const admin = createSql(BASE_URL, { dedicated: true });
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.end();
    }
  });

  it('an engine logs one line for the migrations it applies, and warns at start of migrations a newer release applied', async () => {
    const name = freshDatabaseName();
    const files = readdirSync(new URL('../../sql/', import.meta.url)).filter((f) => f.endsWith('.sql')).sort();
    const run = async () => {
      const engine = EngineProcess.start(engineEnv(name, `admin-${randomBytes(12).toString('hex')}`, { LIFELINE_ROLES: 'evaluator' }));
      try {
        await engine.listeningPort();
      } finally {
        engine.kill('SIGTERM');
        await engine.exited;
      }
      return engine.lines;
    };
    try {
      const first = await run();
      // One line at info (LOG_LEVEL=info here); each migration's own at debug.
      assert.equal(first.filter((l) => l.msg.startsWith('migration applied')).length, 0);
      const summary = first.filter((l) => l.msg.startsWith('applied '));
      assert.deepEqual(summary.map((l) => [l.migrations, l.schema]), [[files.length, files.at(-1)]]);
      assert.match(summary[0]!.msg, new RegExp(`^applied ${files.length} migrations, now at ${files.at(-1)!.slice(0, 4)} \\(slowest \\d{4}_.+\\.sql, \\d+ ms\\)$`));
      const sql = createSql(urlFor(name), { dedicated: true });
      await sql`insert into schema_migrations (name) values ('9999_from_a_newer_release.sql')`;
      await sql.end();
      const second = await run();
      assert.equal(second.filter((l) => l.msg.startsWith('applied ')).length, 0);
      const warning = second.find((l) => l.level === 40 && /migrations this release does not know/.test(l.msg));
      assert.ok(warning, 'no warning of the unknown migration');
      assert.deepEqual(warning.migrations, ['9999_from_a_newer_release.sql']);
    } finally {
      await dropDatabases([name]);
    }
  });
});
