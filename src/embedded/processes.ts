import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * How long each step of a shutdown may take before the next, harsher one. A fast shutdown
 * (SIGINT) ends sessions and writes a checkpoint: 12–76 ms for an idle cluster here, a few seconds
 * only if minutes of heartbeat writes sit in shared_buffers on a slow disk. 5 s covers that and,
 * with the 2 s an immediate shutdown (SIGQUIT: no checkpoint, WAL replay on the next start) gets,
 * is 7 s at worst; the process's stop deadline (workers/main.ts) reserves 2 s after the engine's
 * 13 s, for the usual fast shutdown. SIGKILL is the last resort: it skips the postmaster's
 * own clean-up of its children and shared memory.
 */
export const SHUTDOWN_STEPS: ReadonlyArray<{ signal: NodeJS.Signals; waitMs: number }> = [
  { signal: 'SIGINT', waitMs: 5_000 },
  { signal: 'SIGQUIT', waitMs: 2_000 },
  { signal: 'SIGKILL', waitMs: 5_000 },
];

/**
 * Signals a process through the shutdown steps until `gone(ms)` reports that it exited. Returns
 * the signal that did it.
 */
export async function shutDown(send: (s: NodeJS.Signals) => void, gone: (ms: number) => Promise<boolean>): Promise<NodeJS.Signals> {
  for (const { signal, waitMs } of SHUTDOWN_STEPS) {
    send(signal);
    if (await gone(waitMs)) return signal;
  }
  throw new Error('Postgres did not exit even after SIGKILL');
}

/** State letter and parent pid of a running process (from /proc on Linux, ps elsewhere), or undefined if it is gone. */
async function statusOf(pid: number): Promise<{ state: string; ppid: number } | undefined> {
  try {
    if (process.platform === 'linux') {
      // "pid (comm) S ppid …": comm may hold spaces or parentheses, so parse after the last ')'.
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { state: state!, ppid: Number(ppid) };
    }
    const { stdout } = await promisify(execFile)('ps', ['-o', 'stat=,ppid=', '-p', String(pid)]);
    const [state, ppid] = stdout.trim().split(/\s+/);
    return state ? { state: state[0]!, ppid: Number(ppid) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a running process. A zombie (exited, not yet reaped by whoever inherited it)
 * counts as gone: it holds no port, files or memory.
 */
export async function isRunning(pid: number): Promise<boolean> {
  const status = await statusOf(pid);
  return status !== undefined && status.state !== 'Z';
}

/** The parent of a running process, or undefined. */
export async function parentOf(pid: number): Promise<number | undefined> {
  return (await statusOf(pid))?.ppid;
}

/** Polls until `pid` is gone or `ms` pass: a process that is not our child cannot be awaited. */
export async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (await isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** The command line of a process, its arguments joined by spaces, or undefined if it is gone. */
async function commandLine(pid: number): Promise<string | undefined> {
  try {
    if (process.platform === 'linux') {
      const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      return raw ? raw.replace(/\0$/, '').replaceAll('\0', ' ') : undefined;
    }
    const { stdout } = await promisify(execFile)('ps', ['-ww', '-o', 'command=', '-p', String(pid)]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a postmaster serving `dataDir`. The postmaster never rewrites its own process
 * title (only its children do), so its command line is still the one the launcher gave it,
 * "-D <dataDir>" followed by more options.
 */
export async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  if (!(await isRunning(pid))) return false;
  const line = await commandLine(pid);
  return line !== undefined && `${line} `.includes(` -D ${dataDir} `);
}
