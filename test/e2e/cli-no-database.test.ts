// The commands that open the database directly, run where no engine has made one: in a fresh
// directory without LIFELINE_DATA_DIR, with a DATABASE_URL naming a database that does not exist,
// or one that exists but holds no Lifeline schema (a mistyped name, `postgres`). Each once made
// an empty Postgres (or database, or schema) there and reported success, or died on a stack.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSql } from '../../src/db/client.ts';
import { BASE_URL, dropDatabases, freshDatabaseName, urlFor } from '../helpers/db.ts';
import { finished } from '../helpers/cli-engine.ts';
import { ROOT } from '../helpers/engine-process.ts';

/** `command` (relative to the project) run by Node in `cwd`, with what a newcomer's shell has set and `env`. */
async function runIn(cwd: string, command: string[], env: Record<string, string> = {}) {
  const { DATABASE_URL: _db, LIFELINE_DATA_DIR: _dir, ...shell } = process.env;
  return finished(spawn(process.execPath, [join(ROOT, command[0]!), ...command.slice(1)], { cwd, env: { ...shell, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

const COMMANDS: Array<{ said: string; command: string[] }> = [
  { said: 'admin create-key', command: ['bin/lifeline.mjs', 'admin', 'create-key', '--name', 'test2'] },
  { said: 'backup', command: ['bin/lifeline.mjs', 'backup', '--out', 'here.backup.gz'] },
  { said: 'uptime:rebuild', command: ['dist/workers/uptime-rebuild.js', '--all'] },
];

describe('a command that opens the database directly, where there is none', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-elsewhere-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const { said, command } of COMMANDS) {
    it(`${said} in a directory no engine ran in refuses, naming where it looked and how to point it elsewhere, and creates nothing`, async () => {
      const run = await runIn(dir, command);
      assert.equal(run.code, 4, run.stdout + run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, new RegExp(`no Lifeline database in ${join(dir, '.lifeline')}: `));
      assert.match(run.stderr, /LIFELINE_DATA_DIR=/);
      assert.match(run.stderr, /DATABASE_URL=/);
      assert.deepEqual(await readdir(dir), [], 'nothing is created');
    });

    it(`${said} with a DATABASE_URL naming no database refuses and creates none`, async () => {
      const name = freshDatabaseName();
      const sql = createSql(BASE_URL, { dedicated: true });
      try {
        const run = await runIn(dir, command, { DATABASE_URL: urlFor(name) });
        assert.equal(run.code, 4, run.stdout + run.stderr);
        const at = new URL(urlFor(name));
        assert.match(run.stderr, new RegExp(`no database at ${at.host}/${name} \\(DATABASE_URL\\)`));
        assert.equal((await sql`select datname from pg_database where datname = ${name}`).length, 0, 'no database is created');
        assert.deepEqual(await readdir(dir), []);
      } finally {
        await sql.end();
        await dropDatabases([name]);
      }
    });

    it(`${said} with a DATABASE_URL naming a database no engine migrated refuses, pointing to lifeline migrate, and changes nothing`, async () => {
      const name = freshDatabaseName();
      const admin = createSql(BASE_URL, { dedicated: true });
      const there = createSql(urlFor(name), { dedicated: true });
      try {
        await admin`create database ${admin(name)}`;
        const run = await runIn(dir, command, { DATABASE_URL: urlFor(name) });
        assert.equal(run.code, 4, run.stdout + run.stderr);
        assert.equal(run.stdout, '');
        const at = new URL(urlFor(name));
        assert.match(run.stderr, new RegExp(`no Lifeline database at ${at.host}/${name} \\(DATABASE_URL\\): .*lifeline migrate`));
        assert.doesNotMatch(run.stderr, /PostgresError|\n\s+at /, 'no stack');
        assert.equal((await there`select tablename from pg_tables where schemaname = 'public'`).length, 0, 'no table is created');
      } finally {
        await there.end();
        await admin.end();
        await dropDatabases([name]);
      }
    });
  }

  it('under --json, says no_database', async () => {
    const run = await runIn(dir, ['bin/lifeline.mjs', 'admin', 'create-key', '--json']);
    assert.equal(run.code, 4, run.stdout + run.stderr);
    const { error } = JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { error: { code: string; message: string } };
    assert.equal(error.code, 'no_database');
    assert.match(error.message, /^no Lifeline database in /);
  });
});
