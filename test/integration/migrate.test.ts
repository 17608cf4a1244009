import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createSql } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { BASE_URL, urlFor } from '../helpers/db.ts';

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
});
