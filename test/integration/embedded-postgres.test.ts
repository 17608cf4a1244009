import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createSql, ensureDatabase } from '../../src/db/client.ts';
import { findBinaries } from '../../src/embedded/binaries.ts';
import { layout, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/postgres.ts';
import { EngineProcess, type LogLine } from '../helpers/engine-process.ts';
import { processesIn } from '../helpers/postgres-processes.ts';
import { until } from '../helpers/wait.ts';

const asRoot = process.getuid!() === 0;

/** A logger whose lines the test can read. */
function capturingLog() {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

/** Local addresses (hex, as the kernel prints them) listening on `port`, IPv4 and IPv6. */
async function listeners(port: number): Promise<string[]> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(`:${hexPort}`)) found.push(local.split(':')[0]!);
    }
  }
  return found;
}

async function query<T extends Record<string, unknown>>(url: string, run: (sql: ReturnType<typeof createSql>) => Promise<T[]>): Promise<T[]> {
  const sql = createSql(url, { dedicated: true });
  try {
    return [...(await run(sql))];
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function stopAndCheckGone(pg: EmbeddedPostgres, cluster: string): Promise<void> {
  await pg.stop();
  await pg.exited;
  assert.deepEqual(await processesIn(cluster), [], 'no process is left working in the cluster');
}

describe('embedded Postgres', () => {
  let parent: string;
  let dataDir: string;
  let paths: ReturnType<typeof layout>;
  const running: EmbeddedPostgres[] = [];
  const children: EngineProcess[] = [];

  const start = async (log = capturingLog().log) => {
    const pg = await startEmbeddedPostgres({ dataDir, log });
    running.push(pg);
    return pg;
  };
  const startChild = async () => {
    const child = EngineProcess.start({}, [process.execPath, '--import', 'tsx', 'test/helpers/embedded-postgres-child.ts', dataDir]);
    children.push(child);
    const ready = await child.waitFor((l) => l.msg === 'embedded postgres ready', 60_000);
    return { child, pid: ready.pid as number, port: ready.port as number };
  };

  before(async () => {
    // mkdtemp makes a 0700 directory: as root, the Postgres account cannot enter it (first test).
    parent = await mkdtemp(join(tmpdir(), 'lifeline-embedded-'));
    dataDir = join(parent, 'data');
    paths = layout(dataDir);
  });
  after(async () => {
    for (const pg of running) await pg.stop();
    for (const c of children) {
      c.child.kill('SIGKILL');
      await c.exited;
    }
    // A Postgres an assertion left running, whoever started it.
    for (const pid of await processesIn(paths.cluster)) process.kill(pid, 'SIGKILL');
    await until('the cluster to be idle', async () => (await processesIn(paths.cluster)).length === 0);
    await rm(parent, { recursive: true, force: true });
  });

  it('as root, refuses a data directory the Postgres account cannot enter, naming it', { skip: !asRoot }, async () => {
    try {
      await assert.rejects(start(), (err: Error) => err.message.includes(`cannot enter ${parent}`));
    } finally {
      await chmod(parent, 0o711);
    }
  });

  it('first start creates the cluster and answers queries, on 127.0.0.1 only, without a Unix socket', async () => {
    const { log, lines } = capturingLog();
    const pg = await start(log);
    const url = new URL(pg.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(Number(url.port), pg.port);
    assert.ok(lines.some((l) => l.msg === 'embedded postgres: cluster created'));

    await ensureDatabase(pg.url);
    await query(pg.url, (sql) => sql`create table kept (v text)`);
    await query(pg.url, (sql) => sql`insert into kept values ('before restart')`);
    const [who] = await query(pg.url, (sql) => sql`select current_user as u, current_setting('server_encoding') as enc, datcollate as coll from pg_database where datname = current_database()`);
    assert.deepEqual(who, { u: 'lifeline', enc: 'UTF8', coll: 'C' });

    assert.deepEqual(await listeners(pg.port), ['0100007F'], 'listens on 127.0.0.1 and nowhere else');
    const sockets = (await readFile('/proc/net/unix', 'utf8')).split('\n').filter((l) => l.includes(`.s.PGSQL.${pg.port}`));
    assert.deepEqual(sockets, [], 'no Unix socket, in /tmp or anywhere');

    const uid = Number((await readFile(`/proc/${pg.pid}/status`, 'utf8')).match(/^Uid:\s+(\d+)/m)![1]);
    assert.equal(uid, (await stat(paths.cluster)).uid, 'Postgres runs as the owner of its cluster');
    if (asRoot) assert.notEqual(uid, 0, 'and never as root');

    await stopAndCheckGone(pg, paths.cluster);
  });

  it('keeps its files private: the password 0600 and matching the URL, the cluster 0700', async () => {
    const mode = async (p: string) => (await stat(p)).mode & 0o777;
    assert.equal(await mode(paths.root), asRoot ? 0o711 : 0o700, 'the data directory can only be passed through');
    assert.equal(await mode(paths.home), 0o700);
    assert.equal(await mode(paths.cluster), 0o700);
    for (const file of [paths.password, paths.port, paths.logFile]) assert.equal(await mode(file), 0o600, file);
    assert.ok((await readFile(paths.logFile, 'utf8')).includes('database system is ready to accept connections'));

    const pg = await start();
    const password = (await readFile(paths.password, 'utf8')).trim();
    assert.ok(password.length >= 32);
    assert.equal(decodeURIComponent(new URL(pg.url).password), password);
    assert.equal(Number((await readFile(paths.port, 'utf8')).trim()), pg.port);
    await stopAndCheckGone(pg, paths.cluster);
  });

  it('a restart keeps the data and the port', async () => {
    const kept = Number((await readFile(paths.port, 'utf8')).trim());
    const { log, lines } = capturingLog();
    const pg = await start(log);
    assert.equal(pg.port, kept);
    assert.ok(!lines.some((l) => l.msg === 'embedded postgres: cluster created'), 'no second initdb');
    assert.deepEqual(await query(pg.url, (sql) => sql`select v from kept`), [{ v: 'before restart' }]);
    await stopAndCheckGone(pg, paths.cluster);
  });

  it('moves to another port when the kept one is taken, and keeps the new one', async () => {
    const kept = Number((await readFile(paths.port, 'utf8')).trim());
    const squatter = createServer();
    squatter.listen(kept, '127.0.0.1');
    await once(squatter, 'listening');
    try {
      const pg = await start();
      assert.notEqual(pg.port, kept);
      assert.equal(Number((await readFile(paths.port, 'utf8')).trim()), pg.port);
      assert.deepEqual(await query(pg.url, (sql) => sql`select v from kept`), [{ v: 'before restart' }]);
      await stopAndCheckGone(pg, paths.cluster);
    } finally {
      squatter.close();
    }
  });

  it('a SIGKILLed engine leaves no Postgres behind (parent-death signal)', async () => {
    const { child, pid } = await startChild();
    assert.ok((await processesIn(paths.cluster)).includes(pid));
    child.child.kill('SIGKILL');
    await child.exited;
    await until('every Postgres process of the cluster to exit', async () => (await processesIn(paths.cluster)).length === 0);
    // And the next start finds a clean cluster.
    await stopAndCheckGone(await start(), paths.cluster);
  });

  it('the next start stops a Postgres that outlived its engine (no parent-death signal)', async () => {
    // What an engine SIGKILLed where setpriv is missing leaves: a postmaster whose parent is gone.
    const { postgres } = await findBinaries();
    const owner = await stat(paths.cluster);
    const port = Number((await readFile(paths.port, 'utf8')).trim());
    const identity = asRoot ? ['setpriv', '--reuid', String(owner.uid), '--regid', String(owner.gid), '--clear-groups', '--'] : [];
    const args = [postgres, '-D', paths.cluster, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
    const shell = spawn('sh', ['-c', '"$@" >/dev/null 2>&1 &', 'sh', ...identity, ...args], { cwd: paths.home, stdio: 'ignore' });
    await once(shell, 'exit');
    const url = `postgres://lifeline:${encodeURIComponent((await readFile(paths.password, 'utf8')).trim())}@127.0.0.1:${port}/lifeline`;
    await until('the orphan to answer', () => query(url, (sql) => sql`select 1 as one`).then(() => true, () => false), 30_000);
    const orphan = Number((await readFile(join(paths.cluster, 'postmaster.pid'), 'utf8')).split('\n')[0]);

    const { log, lines } = capturingLog();
    const pg = await start(log);
    assert.ok(lines.some((l) => l.level === 40 && l.pid === orphan), 'says it stopped the leftover Postgres');
    assert.notEqual(pg.pid, orphan);
    assert.ok(!(await processesIn(paths.cluster)).includes(orphan));
    assert.deepEqual(await query(pg.url, (sql) => sql`select v from kept`), [{ v: 'before restart' }]);
    await stopAndCheckGone(pg, paths.cluster);
  });

  it('a stale postmaster.pid naming a live process that is not Postgres is cleared', async () => {
    // Postgres alone would refuse: as its own account it cannot signal this root-owned pid, so it
    // takes it for another postmaster.
    await writeFile(join(paths.cluster, 'postmaster.pid'), `${process.pid}\n${paths.cluster}\n`);
    await stopAndCheckGone(await start(), paths.cluster);
  });

  it('refuses a data directory whose Postgres belongs to a running engine, leaving it alone', async () => {
    const { child, pid } = await startChild();
    await assert.rejects(start(), (err: Error) => err.message.includes(`belongs to a running engine (pid ${child.child.pid})`));
    assert.ok((await processesIn(paths.cluster)).includes(pid), 'the other engine\'s Postgres still runs');
    child.kill('SIGINT');
    assert.equal((await child.exited).code, 0);
    assert.deepEqual(await processesIn(paths.cluster), []);
  });

  it('Ctrl-C on the engine\'s process group reaches Postgres only through the engine\'s own stop', async () => {
    const { child } = await startChild();
    // A terminal signals the whole foreground group; the engine's last query must still get through.
    child.kill('SIGINT');
    await child.waitFor((l) => l.msg === 'last query answered' || l.msg === 'last query failed');
    assert.ok(child.lines.some((l) => l.msg === 'last query answered'), JSON.stringify(child.lines.slice(-3)));
    assert.equal((await child.exited).code, 0);
    assert.deepEqual(await processesIn(paths.cluster), []);
  });
});
