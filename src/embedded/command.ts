import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Account } from './account.ts';

/** Where `name` is on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this one
    }
  }
  return undefined;
}

export interface Command {
  file: string;
  args: string[];
  /** Whether the kernel stops the process when this one dies. */
  parentDeathSignal: boolean;
}

/**
 * How to run initdb or postgres so that no Postgres outlives the engine and none runs as root.
 *
 * Node cannot call prctl(PR_SET_PDEATHSIG) itself, but util-linux's setpriv (in every Debian and
 * Ubuntu base image) can, and then execs the program: same pid, the engine still its parent. Once
 * the engine dies, even by SIGKILL, the kernel sends SIGINT, which Postgres takes as a fast
 * shutdown (initdb as a request to clean up and quit). setpriv also drops root for us, and sets
 * the signal after changing uid (a uid change clears it). The signal is tied to the spawning
 * thread: spawn from the main thread, not a worker thread.
 *
 * Without setpriv (macOS, Alpine) nothing stops an orphan at once; the next start finds it
 * through postmaster.pid and stops it.
 */
export function guardedCommand(program: string, args: string[], account: Account | undefined): Command {
  const setpriv = process.platform === 'linux' ? onPath('setpriv') : undefined;
  if (!setpriv) {
    if (account) throw new Error(`running as root, the embedded Postgres needs setpriv (util-linux) to run as "${account.name}"`);
    return { file: program, args, parentDeathSignal: false };
  }
  const identity = account ? ['--reuid', String(account.uid), '--regid', String(account.gid), '--clear-groups'] : [];
  return { file: setpriv, args: [...identity, '--pdeathsig', 'SIGINT', '--', program, ...args], parentDeathSignal: true };
}
