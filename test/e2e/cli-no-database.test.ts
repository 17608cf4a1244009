// The commands that open the database directly, run where no engine has made one: in a fresh
// directory without LIFELINE_DATA_DIR, or with a DATABASE_URL naming a database that does not
// exist. Each once made an empty Postgres (or database) there and reported success.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSql } from '../../src/db/client.ts';
import { BASE_URL, freshDatabaseName, urlFor } from '../helpers/db.ts';
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
      assert.notEqual(run.code, 0, run.stdout + run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, new RegExp(`no Lifeline database in ${join(dir, '.lifeline')}: `));
      assert.match(run.stderr, /LIFELINE_DATA_DIR=/);
      assert.match(run.stderr, /DATABASE_URL=/);
      assert.deepEqual(await readdir(dir), [], 'nothing is created');
    });

    it(`${said} with a DATABASE_URL naming no database refuses and creates none`, async () => {
      const name = freshDatabaseName();
      const run = await runIn(dir, command, { DATABASE_URL: urlFor(name) });
      assert.notEqual(run.code, 0, run.stdout + run.stderr);
      const at = new URL(urlFor(name));
      assert.match(run.stderr, new RegExp(`no database at ${at.host}/${name} \\(DATABASE_URL\\)`));
      const sql = createSql(BASE_URL, { dedicated: true });
      try {
        assert.equal((await sql`select datname from pg_database where datname = ${name}`).length, 0, 'no database is created');
      } finally {
        await sql.end();
      }
      assert.deepEqual(await readdir(dir), []);
    });
  }
});
