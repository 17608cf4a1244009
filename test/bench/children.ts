import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { progress } from './log.ts';
import { GiveUp, waitFor, type Scope } from './scope.ts';
import { LOCAL_RECEIVERS_ENV } from '../helpers/local-receivers.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ChildLine {
  text: string;
  /** The parsed line when the child logs JSON (pino), else undefined. */
  json: Record<string, unknown> | undefined;
  /** performance.now() in this process when the line arrived. */
  at: number;
}

// Every child ever started, so an exit of the benchmark for any reason takes them all down.
const live = new Set<ChildProc>();
process.on('exit', () => {
  for (const c of live) c.proc.kill('SIGKILL');
});

const HISTORY = 500;
const FORWARDED_ERRORS = 20;

/**
 * A child process running a TypeScript entry under `node --import tsx`. The `tsx` CLI would run
 * the script in a grandchild and relay signals, so a SIGKILL meant for the engine would kill only
 * the relay; loading tsx as a hook keeps one process per child, and the signals we send (and the
 * timings we take around them) hit the process that does the work.
 */
export class ChildProc {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private readonly history: ChildLine[] = [];
  private readonly listeners = new Set<(line: ChildLine) => void>();
  private forwarded = 0;

  constructor(
    readonly name: string,
    script: string,
    env: Record<string, string>,
  ) {
    // BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles every child (Node refuses
    // --cpu-prof in NODE_OPTIONS); the engine's profile is the one whose frames are hono's and ours.
    const nodeArgs = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    this.proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal, at: performance.now() });
      });
    });
    for (const stream of [this.proc.stdout!, this.proc.stderr!]) {
      createInterface({ input: stream }).on('line', (text) => this.receive(text, stream === this.proc.stderr));
    }
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The last lines the child wrote, for error messages. */
  tail(n = 15): string {
    return this.history.slice(-n).map((l) => l.text).join('\n');
  }

  /** Calls `fn` for every line from now on (and, with `replay`, for every line kept so far). */
  onLine(fn: (line: ChildLine) => void, replay = false): () => void {
    if (replay) for (const l of this.history) fn(l);
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The first line (already received after `after`, or still to come) that `match` accepts. */
  waitForLine(what: string, match: (l: ChildLine) => boolean, timeoutMs: number, after = 0): Promise<ChildLine> {
    const seen = this.history.find((l) => l.at >= after && match(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${this.name}: no "${what}" within ${timeoutMs} ms; last output:\n${this.tail()}`));
      }, timeoutMs);
      const off = this.onLine((l) => {
        if (!match(l)) return;
        clearTimeout(timer);
        off();
        resolve(l);
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        off();
        reject(new Error(`${this.name} exited while waiting for "${what}"; last output:\n${this.tail()}`));
      });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.proc.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private receive(text: string, stderr: boolean): void {
    let json: Record<string, unknown> | undefined;
    if (text.startsWith('{')) {
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
    }
    const line: ChildLine = { text, json, at: performance.now() };
    this.history.push(line);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    // Errors a child reports are worth seeing while the run goes on, but never a flood of them.
    const isError = stderr || (typeof json?.level === 'number' && json.level >= 50);
    if (isError && this.forwarded < FORWARDED_ERRORS) {
      this.forwarded += 1;
      progress(`${this.name}: ${text.slice(0, 400)}${this.forwarded === FORWARDED_ERRORS ? ' (further errors not shown)' : ''}`);
    }
    for (const fn of this.listeners) fn(line);
  }
}

/** Starts a child and registers its stop with `scope`. */
export function spawnScript(scope: Scope, name: string, script: string, env: Record<string, string>): ChildProc {
  const child = new ChildProc(name, script, env);
  scope.defer(`stop ${name}`, () => child.stop(5_000));
  return child;
}

/** A port free right now on 127.0.0.1 (the child binds it a moment later; a clash fails loudly). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Waits until GET `url` answers 200, failing early if the child died. */
export async function waitHttpOk(child: ChildProc, url: string, timeoutMs: number): Promise<void> {
  await waitFor(
    `${child.name} to answer ${url}`,
    async () => {
      if (!child.alive) throw new GiveUp(`${child.name} exited during start; last output:\n${child.tail()}`);
      const res = await fetch(url).catch(() => undefined);
      if (!res) return undefined;
      await res.arrayBuffer();
      return res.ok ? true : undefined;
    },
    timeoutMs,
    100,
  );
}

export interface EngineChild {
  child: ChildProc;
  port: number;
  base: string;
  adminToken: string;
}

export interface EngineOptions {
  name: string;
  databaseUrl: string;
  roles: string;
  logLevel?: string;
  env?: Record<string, string>;
}

/** Fixed per run; the engine upserts it as the bootstrap admin key of each benchmark database. */
export const ADMIN_TOKEN = `bench-admin-${process.pid}-0123456789abcdef`;

/** Starts `workers/main.ts` as its own process (so load generation never shares its event loop). */
export async function startEngine(scope: Scope, o: EngineOptions): Promise<EngineChild> {
  const port = await freePort();
  const child = spawnScript(scope, o.name, 'workers/main.ts', {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL,
    PORT: String(port),
    HOST: '127.0.0.1',
    LIFELINE_ROLES: o.roles,
    LIFELINE_ADMIN_TOKEN: ADMIN_TOKEN,
    // Each engine its own BullMQ namespace, so nothing it might enqueue meets another run's workers.
    LIFELINE_QUEUE_PREFIX: `bench-${process.pid}-${port}`,
    LOG_LEVEL: o.logLevel ?? 'warn',
    // The load generators send each node token ~20 heartbeats a second, past the default of 1,200
    // a minute: the limit is still counted (its cost is measured), never met.
    LIFELINE_NODE_TOKEN_RATE_LIMIT: '1000000',
    ...LOCAL_RECEIVERS_ENV,
    ...o.env,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitHttpOk(child, `${base}/healthz`, 60_000);
  return { child, port, base, adminToken: ADMIN_TOKEN };
}

export interface BaselineServer {
  child: ChildProc;
  base: string;
}

/** Starts test/bench/baseline-server.ts in `mode` (see that file) and waits until it listens. */
export async function startBaseline(scope: Scope, mode: 'bare' | 'update' | 'metrics' | 'page', env: Record<string, string> = {}): Promise<BaselineServer> {
  const port = await freePort();
  const child = spawnScript(scope, `baseline-${mode}`, 'test/bench/baseline-server.ts', { ...env, BENCH_BASELINE_MODE: mode, PORT: String(port) });
  await child.waitForLine('listening', (l) => l.json?.msg === 'listening', 30_000);
  return { child, base: `http://127.0.0.1:${port}` };
}
