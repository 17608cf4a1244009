import { chmod, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { layout } from '../../src/embedded/postgres.ts';
import type { EngineProcess } from './engine-process.ts';

/** Every process working in `cluster`: the postmaster and its children all chdir there (Linux /proc). */
export async function processesIn(cluster: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => undefined);
    if (cwd === cluster) found.push(Number(entry));
  }
  return found;
}

/**
 * A data directory for engines on their own embedded Postgres (`dir()`, set once the file's before
 * has run), in a new temporary directory that the account Postgres runs as (as root) can pass
 * through. After the file's tests the engines in `engines` get `signal` and are waited for, any
 * Postgres still working in the cluster is killed, and the directory is removed.
 */
export function useDataDir(prefix: string, engines: EngineProcess[], signal: NodeJS.Signals): { dir: () => string } {
  let parent = '';
  before(async () => {
    parent = await mkdtemp(join(tmpdir(), prefix));
    await chmod(parent, 0o711);
  });
  after(async () => {
    for (const e of engines) e.kill(signal);
    await Promise.all(engines.map((e) => e.exited));
    for (const pid of await processesIn(layout(join(parent, 'data')).cluster)) process.kill(pid, 'SIGKILL');
    await rm(parent, { recursive: true, force: true });
  });
  return { dir: () => join(parent, 'data') };
}
