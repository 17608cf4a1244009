// A first start on its own Postgres, on another port and data directory than the defaults: the
// commands its log gives work pasted as they are into a shell that has none of the engine's
// settings; a later start says where the secret still is.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { finished } from '../helpers/cli-engine.ts';
import { EngineProcess, ROOT } from '../helpers/engine-process.ts';
import { useDataDir } from '../helpers/postgres-processes.ts';

/** A first start creates its cluster and schema: a minute or more beside a busy test run. */
const FIRST_START_MS = 300_000;

/** What the engine's shell had and a new terminal does not. */
const ENGINE_ONLY = ['DATABASE_URL', 'REDIS_URL', 'LIFELINE_DATA_DIR', 'LIFELINE_URL', 'LIFELINE_TOKEN', 'LIFELINE_TOKEN_FILE', 'LIFELINE_ADMIN_TOKEN', 'PORT', 'HOST', 'LIFELINE_PUBLIC_URL'];

/**
 * `line` run by sh in the project directory, as pasted into a new terminal there. With npm's
 * scripts off: the first `npx lifeline` from a checkout links it into npm's cache and runs its
 * `prepare`, a build that empties dist/ first, and engines other tests start from dist/ meanwhile
 * failed to load (MODULE_NOT_FOUND, seen in a CI run).
 */
async function paste(line: string) {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !ENGINE_ONLY.includes(k))), npm_config_ignore_scripts: 'true' };
  return finished(spawn('sh', ['-c', line], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

describe('the first-run line on a non-default port and data directory', () => {
  const engines: EngineProcess[] = [];
  const data = useDataDir('lifeline-hints-', engines, 'SIGTERM');
  const start = () => {
    const engine = EngineProcess.start({ DATABASE_URL: '', REDIS_URL: '', LIFELINE_ADMIN_TOKEN: '', LIFELINE_PUBLIC_URL: '', LIFELINE_DATA_DIR: data.dir(), PORT: '0', HOST: '127.0.0.1' });
    engines.push(engine);
    return engine;
  };

  it('gives commands that work as printed, and a later start says where the secret is', { timeout: 800_000 }, async () => {
    const dataDir = data.dir();
    let engine = start();
    const firstRun = await engine.waitFor((l) => l.msg.startsWith('first run:'), FIRST_START_MS);
    const port = (await engine.listeningPort()).toString();
    const commands = [...firstRun.msg.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    assert.equal(commands.length, 2, firstRun.msg);
    const [keys, admin] = commands as [string, string];
    assert.match(keys, new RegExp(`LIFELINE_URL=http://127\\.0\\.0\\.1:${port} `));
    assert.match(admin, new RegExp(`^LIFELINE_DATA_DIR=${dataDir} npx lifeline admin create-key`));

    const made = await paste(keys);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /llk_/);
    const direct = await paste(admin);
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stderr, new RegExp(`^Database: the embedded Postgres in ${dataDir} \\(LIFELINE_DATA_DIR\\), the running engine's\\.\n`));

    engine.kill('SIGTERM');
    assert.equal((await engine.exited).code, 0, engine.said());
    engine = start();
    const kept = await engine.waitFor((l) => l.msg.startsWith("the first admin key's secret is still in"));
    assert.equal(kept.file, join(dataDir, 'admin-secret'));
    assert.ok(!engine.lines.some((l) => l.msg.startsWith('first run:')), 'no second first run');
  });
});
