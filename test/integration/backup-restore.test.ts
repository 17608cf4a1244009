import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { MAX_ROW_CHARS, MAX_SECTION_CHARS } from '../../src/backup/model.ts';
import { engineSessions, engineTables, tablesWithRows } from '../../src/backup/store.ts';
import { openQueueBackend } from '../../src/queue/backend.ts';
import { revealConfig } from '../../src/channels/service.ts';
import { getChannel } from '../../src/channels/store.ts';
import { run } from '../../src/cli/main.ts';
import { createSql, ensureDatabase, type Sql } from '../../src/db/client.ts';
import { appliedMigrations, migrate } from '../../src/db/migrate.ts';
import { tryLeaderLock } from '../../src/health/store.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { ADMIN_TOKEN, buildApp, createHarness, expectJson, send, type Harness } from '../helpers/app.ts';
import { ManualClock } from '../helpers/clock.ts';
import { BASE_URL, dropDatabases, freshDatabaseName, urlFor } from '../helpers/db.ts';
import { runningEngine } from '../helpers/running-engine.ts';

// A database filled through the real API and pipeline (nodes, heartbeats, an incident with its
// timeline, uptime rows, a channel with a sealed secret, an API key, a person and a schedule) is
// backed up and restored with the CLI into a database of its own; every table must come back row
// for row, and an app on the copy must serve it with the same keys and secrets.

const MINUTE = 60_000;

async function cli(argv: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

/** Every engine table's rows, each as its JSON text, sorted: equal only if every row is. */
async function allRows(sql: Sql): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const { table } of await engineTables(sql)) {
    out[table] = (await sql<{ r: string }[]>`select to_jsonb(t)::text as r from ${sql(table)} t`).map((x) => x.r).sort();
  }
  return out;
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = createSql(BASE_URL, { dedicated: true });
  const [row] = await admin`select 1 from pg_database where datname = ${name}`;
  await admin.end();
  return row !== undefined;
}

describe('lifeline backup and restore', () => {
  let h: Harness;
  let engine: ReturnType<typeof runningEngine>;
  let dir: string;
  let file: string;
  let source: Record<string, string[]>;
  let reader: { id: string; secret: string };
  let nodeId: string;
  let channelId: string;
  const targets: string[] = [];
  const webhookSecret = 'whsec_c2VjcmV0LXZhbHVlLWZvci10ZXN0cw==';
  // A hook URL that is itself a credential: sealed, it is in no backup.
  const webhookUrl = 'https://example.com/hooks/T0/abc?token=tok-backup-5e1f';

  const target = () => {
    const name = freshDatabaseName();
    targets.push(name);
    return name;
  };
  const env = (database: string, secretKey = h.secretKey.toString('hex')) => ({ DATABASE_URL: urlFor(database), LIFELINE_SECRET_KEY: secretKey });

  before(async () => {
    h = await createHarness();
    engine = runningEngine(h, { gapMs: 10 * MINUTE, incidents: true });
    dir = mkdtempSync(join(tmpdir(), 'lifeline-backup-'));
    file = join(dir, 'lifeline.backup.gz');

    reader = await h.createKey('read', 'dashboards');
    const node = await h.createNode('db-1', { heartbeat_interval_seconds: 60, failures_for_down: 1 });
    nodeId = node.id;
    engine.agents.set(node.id, { token: node.token, status: 'ok' });
    await engine.liveUntil(new Date(h.clock.now().getTime() + 90 * MINUTE).toISOString(), MINUTE);
    engine.agents.set(node.id, { token: node.token, status: 'failing' });
    await engine.liveUntil(new Date(h.clock.now().getTime() + 5 * MINUTE).toISOString(), MINUTE);
    const [incident] = (await expectJson<{ items: { id: string }[] }>(await h.admin('GET', '/v1/incidents'), 200)).items;
    assert.ok(incident, 'the failing node opened an incident');
    await expectJson(await h.admin('POST', `/v1/incidents/${incident.id}/acknowledge`), 200);

    const channel = await expectJson<{ id: string }>(
      await h.admin('POST', '/v1/channels', { name: 'hook', type: 'webhook', config: { url: webhookUrl, secret: webhookSecret } }),
      201,
    );
    channelId = channel.id;
    const user = await expectJson<{ id: string }>(await h.admin('POST', '/v1/users', { name: 'Bob Ops', email: 'bob@example.com' }), 201);
    await expectJson(
      await h.admin('POST', '/v1/schedules', { name: 'Primary', time_zone: 'UTC', layers: [{ name: 'weekly', user_ids: [user.id], starts_at: h.clock.now().toISOString(), rotation: 'P1W' }] }),
      201,
    );
    // Values COPY's text format must carry exactly: an int8 past 2^53, microseconds, escapes and
    // unicode inside jsonb, an empty string beside NULL.
    await h.sql`update node_heartbeats set last_seq = 9007199254740993, last_heartbeat_at = '2026-01-31T03:00:00.123456Z' where node_id = ${nodeId}`;
    await h.sql`update nodes set labels = ${h.sql.json({ zone: 'Zürich 🏔', path: 'a\\b\tc\nd', empty: '' })} where id = ${nodeId}`;
    source = await allRows(h.sql);
    for (const t of ['nodes', 'node_heartbeats', 'node_state_log', 'incidents', 'incident_timeline', 'uptime_hourly', 'channels', 'api_keys', 'users', 'schedules']) {
      assert.ok(source[t]?.length, `the seed wrote rows to ${t}`);
    }

    const backup = await cli(['backup', '--out', file], { DATABASE_URL: h.db.url });
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /^Backed up \d+ rows of \d+ tables/);
  });

  after(async () => {
    await engine.close();
    await h.close();
    await dropDatabases(targets);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores every table row for row, and an app on the copy serves it with the same keys and secrets', async () => {
    const name = target();
    const restored = await cli(['restore', file], env(name));
    assert.equal(restored.code, 0, restored.stderr);
    const sql = createSql(urlFor(name), { max: 2 });
    try {
      assert.deepEqual(await allRows(sql), source);
      assert.deepEqual((await migrate(urlFor(name))).applied, [], 'the copy is at the schema it came from');

      const app = buildApp({ sql, clock: new ManualClock(h.clock.now().toISOString()), buffer: new HeartbeatBuffer(), secretKey: h.secretKey }).app;
      const get = (path: string) => send(app, 'GET', path, { token: reader.secret });
      const nodes = await expectJson<{ items: { id: string; health: { state: string } }[] }>(await get('/v1/nodes'), 200);
      assert.deepEqual(nodes.items.map((n) => [n.id, n.health.state]), [[nodeId, 'down']], 'the read key opens the copy and finds the node down');
      const incidents = await expectJson<{ items: { id: string; status: string }[] }>(await get('/v1/incidents'), 200);
      assert.deepEqual(incidents.items.map((i) => i.status), ['acknowledged']);
      const uptime = await expectJson<{ up_seconds: number }>(await get(`/v1/nodes/${nodeId}/uptime?window=24h`), 200);
      assert.ok(uptime.up_seconds >= 90 * 60, `uptime history came along (${uptime.up_seconds} s up)`);
      // A new timeline entry takes the next id of a sequence moved past the loaded ones.
      const resolved = await send(app, 'POST', `/v1/incidents/${incidents.items[0]!.id}/resolve`, { token: ADMIN_TOKEN, json: {} });
      assert.equal(resolved.status, 200, await resolved.text());

      const channel = await getChannel(sql, channelId);
      assert.deepEqual(revealConfig(channel!, h.secretKey), { url: webhookUrl, secret: webhookSecret }, 'the sealed secret and URL open with the same key');
    } finally {
      await sql.end();
    }
  });

  it('holds no webhook URL whole: only its origin', () => {
    const text = gunzipSync(readFileSync(file)).toString();
    assert.ok(!text.includes('tok-backup-5e1f') && !text.includes('/hooks/T0'), 'the backup holds the URL whole');
    assert.ok(text.includes('https://example.com/…'), 'the channel is in the backup');
  });

  it('writes the file readable by its owner only: without LIFELINE_SECRET_KEY it holds the channel secret key', async () => {
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // A file a killed backup left where this one writes first keeps its mode when merely truncated.
    const again = join(dir, 'over-partial.backup.gz');
    writeFileSync(`${again}.partial`, 'left by a killed backup', { mode: 0o644 });
    const backup = await cli(['backup', '--out', again], { DATABASE_URL: h.db.url });
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(statSync(again).mode & 0o777, 0o600);
  });

  it('refuses --out - (stdout) with exit 2 and a usage error', async () => {
    const refused = await cli(['backup', '--out', '-', '--json'], { DATABASE_URL: h.db.url });
    assert.equal(refused.code, 2);
    assert.equal((JSON.parse(refused.stderr) as { error: { code: string } }).error.code, 'usage');
    assert.equal(refused.stdout, '');
  });

  it('refuses a database at an older schema that holds rows without migrating it', async () => {
    const name = target();
    const { migrations } = JSON.parse(gunzipSync(readFileSync(file)).toString().split('\n')[0]!) as { migrations: string[] };
    const older = migrations.at(-2)!;
    await migrate(urlFor(name), { through: older });
    const sql = createSql(urlFor(name), { max: 1 });
    try {
      await sql`insert into engine_keys (name, key, created_at) values ('held', ${randomBytes(32)}, now())`;
      const refused = await cli(['restore', file], env(name));
      assert.equal(refused.code, 4);
      assert.match(refused.stderr, /^error: the database is not empty \(rows in engine_keys\)/m);
      const [last] = await sql<{ name: string }[]>`select max(name) as name from schema_migrations`;
      assert.equal(last!.name, older, 'the refused database stays at its schema');
    } finally {
      await sql.end();
    }
  });

  it('restores into and backs up the embedded Postgres, starting it for the command when no engine runs', async () => {
    // 0711: as root, Postgres runs as another account, which must be able to enter the directory.
    chmodSync(dir, 0o711);
    const embedded = { LIFELINE_DATA_DIR: join(dir, 'data'), LIFELINE_SECRET_KEY: h.secretKey.toString('hex') };
    const restored = await cli(['restore', file], embedded);
    assert.equal(restored.code, 0, restored.stderr);
    // restore prepares a database, so it may make one; each says which it used.
    assert.equal(restored.stderr, `Database: the embedded Postgres in ${embedded.LIFELINE_DATA_DIR} (LIFELINE_DATA_DIR), created now: there was none.\n`);
    const again = join(dir, 'again.backup.gz');
    const backup = await cli(['backup', '--out', again], embedded);
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(backup.stderr, `Database: the embedded Postgres in ${embedded.LIFELINE_DATA_DIR} (LIFELINE_DATA_DIR), started for this command and stopped after it.\n`);
    const body = (f: string) => gunzipSync(readFileSync(f)).toString().split('\n').slice(1);
    assert.deepEqual(body(again), body(file), 'the same tables, columns and rows, in the same order');
  });

  it('refuses a key that does not open the channel secrets, leaving the database empty for a second try', async () => {
    const name = target();
    const wrong = await cli(['restore', file], env(name, randomBytes(32).toString('hex')));
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /LIFELINE_SECRET_KEY does not open the backup's channel secrets/);
    const sql = createSql(urlFor(name), { max: 1 });
    try {
      assert.deepEqual(await tablesWithRows(sql, (await engineTables(sql)).map((t) => t.table)), []);
    } finally {
      await sql.end();
    }
    const right = await cli(['restore', file], env(name));
    assert.equal(right.code, 0, right.stderr);
  });

  it('refuses a database that is not empty and changes nothing in it', async () => {
    const before = await allRows(h.sql);
    const refused = await cli(['restore', file], { DATABASE_URL: h.db.url, LIFELINE_SECRET_KEY: h.secretKey.toString('hex') });
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /^error: the database is not empty \(rows in .*nodes.*\): restore only into an empty database/m);
    assert.deepEqual(await allRows(h.sql), before);
  });

  it('refuses a database a running engine is connected to, naming its sessions and the leader lock, unless --force', async () => {
    const name = target();
    await ensureDatabase(urlFor(name));
    // An engine on this database: its pool and its evaluator, which holds the leader lock.
    const pool = createSql(urlFor(name), { max: 1 });
    const evaluator = createSql(urlFor(name), { dedicated: true, applicationName: 'lifeline-evaluator' });
    try {
      await pool`select 1`;
      assert.equal(await tryLeaderLock(evaluator), true);
      const refused = await cli(['restore', file], env(name));
      assert.equal(refused.code, 4, refused.stderr);
      assert.match(refused.stderr, /^error: engines are connected to the database \(sessions lifeline, lifeline-evaluator; the evaluator leader lock is held\): stop them first, or restore with --force/m);
      assert.deepEqual(await appliedMigrations(pool), [], 'nothing was migrated');
      const forced = await cli(['restore', file, '--force'], env(name));
      assert.equal(forced.code, 0, forced.stderr);
    } finally {
      await evaluator.end();
      await pool.end();
    }
  });

  it('finds an engine whose DATABASE_URL names its own application_name, its pool and its queues alike', async () => {
    const name = target();
    await ensureDatabase(urlFor(name));
    const url = `${urlFor(name)}${urlFor(name).includes('?') ? '&' : '?'}application_name=billing-db`;
    const pool = createSql(url, { max: 1 });
    const queues = await openQueueBackend({ redisUrl: undefined, databaseUrl: url, prefix: '' });
    const restorer = createSql(urlFor(name), { dedicated: true, applicationName: 'lifeline-cli' });
    try {
      await pool`select 1`;
      await queues.ping();
      assert.deepEqual(await engineSessions(restorer), ['lifeline', 'lifeline-queue']);
    } finally {
      await Promise.all([restorer.end(), queues.close(), pool.end()]);
    }
  });

  it('refuses a backup of a newer schema before touching any database', async () => {
    const lines = gunzipSync(readFileSync(file)).toString().split('\n');
    const header = JSON.parse(lines[0]!) as { migrations: string[] };
    header.migrations.push('9999_from_a_later_release.sql');
    const newer = join(dir, 'newer.backup.gz');
    writeFileSync(newer, gzipSync([JSON.stringify(header), ...lines.slice(1)].join('\n')));
    const name = target();
    const refused = await cli(['restore', newer], env(name));
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /newer schema than this release knows \(9999_from_a_later_release\.sql\)/);
    assert.equal(await databaseExists(name), false);
  });

  it('refuses a file cut short, with its rows tampered or with a line longer than any it writes, before touching any database', async () => {
    const whole = readFileSync(file);
    const cut = join(dir, 'cut.backup.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const lines = gunzipSync(whole).toString().split('\n');
    const at = lines.findIndex((l) => l.startsWith('{"table":"nodes"'));
    const dropped = join(dir, 'dropped.backup.gz');
    writeFileSync(dropped, gzipSync([...lines.slice(0, at + 1), ...lines.slice(at + 2)].join('\n')));
    // One character past what a row or the header may be: a few KB of gzip, refused once that
    // much is read (the whole line was split again with every chunk: 20 s for 20 MB).
    const longRow = join(dir, 'long-row.backup.gz');
    writeFileSync(longRow, gzipSync([...lines.slice(0, at + 1), 'a'.repeat(MAX_ROW_CHARS + 1), ...lines.slice(at + 1)].join('\n')));
    const longHeader = join(dir, 'long-header.backup.gz');
    writeFileSync(longHeader, gzipSync(['{'.repeat(MAX_SECTION_CHARS + 1), ...lines.slice(1)].join('\n')));
    for (const [path, why] of [
      [cut, /is not a usable Lifeline backup: unexpected end of file/],
      [dropped, /is not a usable Lifeline backup: its trailer counts .* rows, the file holds/],
      [longRow, new RegExp(`is not a usable Lifeline backup: line ${at + 2} is longer than ${MAX_ROW_CHARS} characters`)],
      [longHeader, new RegExp(`is not a usable Lifeline backup: line 1 is longer than ${MAX_SECTION_CHARS} characters`)],
      [join(dir, 'missing.gz'), /is not a usable Lifeline backup: ENOENT/],
    ] as const) {
      const name = target();
      const refused = await cli(['restore', path], env(name));
      assert.equal(refused.code, 4, refused.stderr);
      assert.match(refused.stderr, why);
      assert.equal(await databaseExists(name), false);
    }
  });
});
