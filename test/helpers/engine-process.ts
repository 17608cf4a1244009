import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dropDatabases, freshDatabaseName, REDIS_URL, urlFor } from './db.ts';
import { PATIENCE_MS } from './wait.ts';
import { LOCAL_RECEIVERS_ENV } from './local-receivers.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * What every engine a test starts needs: its own database (created by the engine), its own queue
 * prefix on the shared Redis (so no other engine, in this run or in another run of the suite on
 * the same machine, takes its notification jobs), a free port on loopback, an admin token and a
 * short evaluator tick so nothing waits out a production default.
 */
export function engineEnv(database: string, adminToken: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: urlFor(database),
    REDIS_URL,
    LIFELINE_QUEUE_PREFIX: `lifeline-e2e-${randomBytes(4).toString('hex')}`,
    PORT: '0',
    HOST: '127.0.0.1',
    LIFELINE_ADMIN_TOKEN: adminToken,
    LIFELINE_EVALUATOR_INTERVAL_MS: '250',
    ...extra,
  };
}

export interface LogLine {
  msg: string;
  [k: string]: unknown;
}

/**
 * An engine (or any script) in a child process, with its JSON log lines as events so tests wait on
 * what the process says rather than on time.
 */
export class EngineProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  private waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (raw) => {
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        line = { msg: raw };
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    });
    createInterface({ input: child.stderr! }).on('line', (l) => this.stderr.push(l));
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  /** `command` defaults to the compiled engine, as `npm start` runs it (`npm test` builds it first). */
  static start(env: Record<string, string>, command: string[] = [process.execPath, 'dist/workers/main.js']): EngineProcess {
    const child = spawn(command[0]!, command.slice(1), {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...LOCAL_RECEIVERS_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a signal reaches every process under a wrapper such as npm.
      detached: true,
    });
    return new EngineProcess(child);
  }

  /** What the process said last (its last log lines and stderr), for failure messages. */
  said(): string {
    const out = this.lines.slice(-5).map((l) => JSON.stringify(l).slice(0, 400));
    return `stdout: ${out.join(' | ')}; stderr: ${this.stderr.slice(-5).join(' | ')}`;
  }

  /**
   * Resolves with the first log line (already seen or future) that matches; rejects at once if
   * the process exits first, or after `timeoutMs`, quoting what it last said.
   */
  waitFor(match: (l: LogLine) => boolean, timeoutMs = PATIENCE_MS): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`${why}; ${this.said()}`));
      };
      const timer = setTimeout(() => fail(`no matching log line within ${timeoutMs} ms`), timeoutMs);
      void this.exited.then(({ code, signal }) => fail(`the process exited (code ${code}, signal ${signal}) first`));
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  async listeningPort(): Promise<number> {
    const line = await this.waitFor((l) => l.msg.startsWith('lifeline listening'));
    return line.port as number;
  }

  /** Signals the whole process group, as a terminal's Ctrl-C or an orchestrator would. */
  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      this.child.kill(signal);
    }
  }
}

/** A JSON call to a running engine's API with `token`: its answer parsed, or an error naming it on a 4xx/5xx. */
export async function callEngine(origin: string, token: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(origin + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export interface SuiteEngine {
  /** The engine's admin token. */
  admin: string;
  dbName: string;
  engine: EngineProcess;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** `callEngine` against it, with the admin token unless told otherwise. */
  api(method: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>>;
}

/**
 * An engine of its own for a file's tests (the compiled engine, every role, on a database of its
 * own that it creates), started before them; after them it is stopped and its database dropped.
 * The fields are set once the file's before has run. `name` goes into the database's name.
 */
export function useEngine(name?: string): SuiteEngine {
  const e = {
    admin: `admin-${randomBytes(12).toString('hex')}`,
    dbName: name ? `lifeline_e2e_${name}_${randomBytes(4).toString('hex')}` : freshDatabaseName(),
    origin: '',
    api: (method: string, path: string, body?: unknown, token = e.admin) => callEngine(e.origin, token, method, path, body),
  } as SuiteEngine;
  before(async () => {
    e.engine = EngineProcess.start(engineEnv(e.dbName, e.admin));
    e.origin = `http://127.0.0.1:${await e.engine.listeningPort()}`;
  });
  after(async () => {
    e.engine?.kill('SIGTERM');
    await e.engine?.exited;
    await dropDatabases([e.dbName]);
  });
  return e;
}
