import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createSql, ping } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { settlesWithin } from '../settles.ts';
import { accountFor, unreachableDir, type Account } from './account.ts';
import { findBinaries, type Binaries } from './binaries.ts';
import { guardedCommand } from './command.ts';
import { choosePort, isFree } from './port.ts';
import { goneWithin, isPostmasterOf, isRunning, parentOf, shutDown } from './processes.ts';

const USER = 'lifeline';
const DATABASE = 'lifeline';
/** Long enough for WAL replay after an unclean stop on a slow disk; a clean start takes < 1 s. */
const READY_TIMEOUT_MS = 60_000;
/** Between connection attempts while Postgres starts (a start takes 0.3–0.6 s here). */
const PROBE_INTERVAL_MS = 25;
/** A start that loses its port to another program between the check and Postgres's bind tries again. */
const PORT_ATTEMPTS = 3;

export interface EmbeddedPostgresOptions {
  /** LIFELINE_DATA_DIR; Postgres keeps everything under <dataDir>/postgres. */
  dataDir: string;
  log: Pick<Logger, 'info' | 'warn'>;
}

export interface EmbeddedPostgres {
  /** postgres://lifeline:<password>@127.0.0.1:<port>/lifeline (the engine creates the database). */
  url: string;
  port: number;
  /** The postmaster. */
  pid: number;
  /** Settles when Postgres exits, whether stopped or not. */
  exited: Promise<Exit>;
  /** Fast shutdown, escalating if it hangs (see SHUTDOWN_STEPS); resolves once Postgres has exited. */
  stop(): Promise<void>;
}

/**
 * Where things live under the data directory. Postgres gets a subdirectory of its own because the
 * engine keeps other files in the data directory; the cluster itself is one level further down
 * since initdb wants an empty directory and the files beside it outlive any one cluster.
 */
export function layout(dataDir: string) {
  const root = resolve(dataDir);
  const home = join(root, 'postgres');
  return {
    root,
    home,
    cluster: join(home, 'data'),
    /** initdb works here and the result is renamed to `cluster`, so a half-made cluster is never used. */
    staging: join(home, 'data.initdb'),
    password: join(home, 'password'),
    port: join(home, 'port'),
    /** The pid of the engine that started the running Postgres, to tell a live owner from a dead one. */
    owner: join(home, 'owner.pid'),
    logFile: join(home, 'postgres.log'),
  };
}
type Layout = ReturnType<typeof layout>;

function urlOf(password: string, port: number): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
}

/**
 * The URL of a Postgres already serving this data directory (a running engine's), or undefined.
 * The port is the one postmaster.pid gives on its fourth line, which is what that Postgres bound.
 */
export async function runningEmbeddedUrl(dataDir: string): Promise<string | undefined> {
  const paths = layout(dataDir);
  const pidFile = await readFile(join(paths.cluster, 'postmaster.pid'), 'utf8').catch(() => '');
  const [pid, , , port] = pidFile.split('\n').map(Number);
  if (!pid || !port || !(await isPostmasterOf(pid, paths.cluster))) return undefined;
  return urlOf((await readFile(paths.password, 'utf8')).trim(), port);
}

/** Whether an engine has made its Postgres cluster in this data directory (a half-made one is not it). */
export async function hasCluster(dataDir: string): Promise<boolean> {
  return stat(layout(dataDir).cluster).then(
    () => true,
    () => false,
  );
}

/** The last lines Postgres or initdb wrote, to quote in an error (never parsed for meaning). */
async function logTail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-8).join('\n');
}

/** The number on the first line of `file` (postmaster.pid has more lines after the pid). */
async function readNumber(file: string): Promise<number | undefined> {
  const n = Number((await readFile(file, 'utf8').catch(() => '')).split('\n')[0]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

async function ownerUid(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.uid, () => undefined);
}

class Launcher {
  constructor(
    readonly paths: Layout,
    readonly binaries: Binaries,
    readonly account: Account | undefined,
    readonly logFd: number,
    readonly log: EmbeddedPostgresOptions['log'],
  ) {}

  /**
   * Own process group (detached): a terminal's Ctrl-C goes to the whole foreground group, and
   * Postgres must not begin its shutdown while the engine is still draining into it.
   */
  spawn(program: string, args: string[]): ChildProcess {
    const cmd = guardedCommand(program, args, this.account);
    return spawn(cmd.file, cmd.args, { cwd: this.paths.home, detached: true, stdio: ['ignore', this.logFd, this.logFd] });
  }

  async chownToAccount(path: string): Promise<void> {
    if (this.account) await chown(path, this.account.uid, this.account.gid);
  }

  /** A new cluster with a new password; a password file without a finished cluster is rewritten. */
  async initialize(): Promise<void> {
    const { staging, password, cluster } = this.paths;
    await rm(staging, { recursive: true, force: true });
    await rm(password, { force: true });
    await writeFile(password, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    await this.chownToAccount(password);
    const started = Date.now();
    this.log.info({ dataDir: this.paths.root }, 'embedded postgres: creating the cluster');
    const child = this.spawn(this.binaries.initdb, [
      '-D', staging,
      '-U', USER,
      `--pwfile=${password}`,
      // Password authentication even on loopback: any local user could otherwise connect.
      '--auth=scram-sha-256',
      '-E', 'UTF8',
      '--locale=C',
      '--no-instructions',
    ]);
    const exit = await exitOf(child);
    if (exit.code !== 0) {
      throw new Error(`initdb failed (${JSON.stringify(exit)}); ${this.paths.logFile} ends with:\n${await logTail(this.paths.logFile)}`);
    }
    await rename(staging, cluster);
    this.log.info({ ms: Date.now() - started }, 'embedded postgres: cluster created');
  }

  /**
   * A Postgres may still serve this cluster: one whose engine was SIGKILLed where no parent-death
   * signal exists, or is still shutting down after it got one. Its engine being gone, it is
   * stopped. A postmaster.pid naming any other process (or none) is stale: removed, as Postgres
   * itself would, except that Postgres cannot tell a reused pid from a live postmaster and refuses.
   * A Postgres whose engine is alive is another engine's: refused, never stopped under it.
   */
  async clearLeftover(): Promise<void> {
    const pidFile = join(this.paths.cluster, 'postmaster.pid');
    const pid = await readNumber(pidFile);
    if (pid !== undefined && (await isPostmasterOf(pid, this.paths.cluster))) {
      const parent = await parentOf(pid);
      if (parent !== undefined && parent !== process.pid && parent === (await readNumber(this.paths.owner)) && (await isRunning(parent))) {
        throw new Error(`the embedded Postgres in ${this.paths.root} belongs to a running engine (pid ${parent}); stop it or use another LIFELINE_DATA_DIR`);
      }
      this.log.warn({ pid }, 'embedded postgres: stopping a Postgres left running on this data directory');
      await shutDown(
        (s) => {
          try {
            process.kill(pid, s);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // ESRCH: already gone
          }
        },
        (ms) => goneWithin(pid, ms),
      );
    }
    await rm(pidFile, { force: true });
  }

  /** Connects until Postgres answers; rejects if it exits first. */
  async waitReady(url: string, exited: Promise<unknown>): Promise<void> {
    let gone = false;
    void exited.then(() => (gone = true));
    const probeUrl = new URL(url);
    probeUrl.pathname = '/postgres'; // the engine's database may not exist yet
    const sql = createSql(probeUrl.toString(), { dedicated: true, applicationName: 'lifeline-embedded-probe' });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    try {
      for (;;) {
        let last: unknown;
        try {
          await ping(sql);
          return;
        } catch (err) {
          last = err;
          // Wrong password: waiting will not fix it.
          if ((err as { code?: string }).code === '28P01') throw err;
        }
        if (gone) throw new ExitedEarly();
        if (Date.now() > deadline) throw new Error(`Postgres did not accept connections within ${READY_TIMEOUT_MS} ms`, { cause: last });
        await settlesWithin(exited, PROBE_INTERVAL_MS);
      }
    } finally {
      await sql.end({ timeout: 0 });
    }
  }
}

class ExitedEarly extends Error {}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it could not be started at all (then code and signal are null). */
  error?: string;
}

/** Settles when the process has exited, or failed to start; never rejects. */
function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => resolve({ code: null, signal: null, error: err.message }));
  });
}

/**
 * Starts Postgres on 127.0.0.1 from the npm-installed binaries, creating the cluster on first use,
 * and resolves once it answers queries. See command.ts for how it is kept from outliving the
 * engine and from running as root.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const paths = layout(opts.dataDir);
  const binaries = await findBinaries();
  const asRoot = process.getuid?.() === 0;
  // As root, Postgres runs as another account, which must pass through the data directory.
  await mkdir(paths.root, { recursive: true, mode: asRoot ? 0o711 : 0o700 });
  const account = asRoot ? accountFor(await ownerUid(paths.home)) : undefined;
  if (account) {
    for (const path of [paths.home, binaries.postgres]) {
      const blocked = unreachableDir(path, account);
      if (blocked) throw new Error(`Postgres runs as "${account.name}", which cannot enter ${blocked}; allow it (chmod o+x) or move LIFELINE_DATA_DIR`);
    }
  }
  await mkdir(paths.home, { recursive: true, mode: 0o700 });
  const logHandle = await open(paths.logFile, 'a', 0o600);
  const launcher = new Launcher(paths, binaries, account, logHandle.fd, opts.log);
  try {
    // Also when an earlier start died between making the directory and handing it over.
    if (account && (await ownerUid(paths.home)) !== account.uid) await launcher.chownToAccount(paths.home);
    if (!guardedCommand(binaries.postgres, [], account).parentDeathSignal) {
      opts.log.warn('embedded postgres: no parent-death signal here (setpriv missing); if the engine is killed, Postgres runs on until the next start stops it');
    }
    if (!(await hasCluster(opts.dataDir))) await launcher.initialize();
    else await launcher.clearLeftover();
    return await run(launcher);
  } finally {
    // Postgres holds its own copy of the descriptor.
    await logHandle.close();
  }
}

async function run(launcher: Launcher): Promise<EmbeddedPostgres> {
  const { paths, log } = launcher;
  const password = (await readFile(paths.password, 'utf8')).trim();
  let kept = await readNumber(paths.port);
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const port = await choosePort(kept);
    if (port !== kept) {
      if (kept !== undefined) log.warn({ kept, port }, 'embedded postgres: the kept port is taken, moving');
      await writeFile(paths.port, `${port}\n`, { mode: 0o600 });
      kept = port;
    }
    const child = launcher.spawn(launcher.binaries.postgres, [
      '-D', paths.cluster,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      // No Unix socket at all (Postgres's default puts one in /tmp): the engine connects over TCP.
      '-c', 'unix_socket_directories=',
    ]);
    const exited = exitOf(child);
    const url = urlOf(password, port);
    const stop = stopper(child, exited, log);
    try {
      await writeFile(paths.owner, `${process.pid}\n`, { mode: 0o600 });
      await launcher.waitReady(url, exited);
    } catch (err) {
      await stop();
      if (err instanceof ExitedEarly && attempt < PORT_ATTEMPTS && !(await isFree(port))) continue;
      const why = err instanceof ExitedEarly ? `Postgres exited (${JSON.stringify(await exited)}) before accepting connections` : String(err);
      throw new Error(`${why}; ${paths.logFile} ends with:\n${await logTail(paths.logFile)}`, { cause: err });
    }
    log.info({ dataDir: paths.root, port, pid: child.pid, ms: Date.now() - started }, 'embedded postgres ready');
    return { url, port, pid: child.pid!, exited, stop };
  }
}

function stopper(child: ChildProcess, exited: Promise<Exit>, log: EmbeddedPostgresOptions['log']): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  let done = false;
  void exited.then(() => (done = true));
  return () =>
    (stopping ??= (async () => {
      if (done) return;
      const started = Date.now();
      const by = await shutDown(
        (s) => child.kill(s),
        (ms) => settlesWithin(exited, ms),
      );
      log.info({ ms: Date.now() - started, signal: by }, 'embedded postgres stopped');
    })());
}
