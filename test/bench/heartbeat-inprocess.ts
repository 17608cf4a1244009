// In-process single-heartbeat bench: node:http's parser and ServerResponse over in-memory sockets
// (no system calls), the engine's listener as workers/engine.ts builds it (engineHttp, default
// settings) against a bare 202 listener, CPU per request.
// The sockets are fed from JavaScript, so when the body is taken relative to the head differs from
// TCP (a nextTick there already sees a complete body): wrk-ingest.sh is the figure that counts.
// usage (cwd = a built checkout): node --import tsx test/bench/heartbeat-inprocess.ts [requests=200000] [profile-out]
import { createServer } from 'node:http';
import { Duplex } from 'node:stream';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
const root = process.cwd();
const d = (m: string) => import(`${root}/dist/${m}.js`);
const { createTestDatabase } = await import(`${root}/test/helpers/db.ts`);
const { ManualClock } = await import(`${root}/test/helpers/clock.ts`);
const { HeartbeatBuffer } = await d('src/ingest/buffer');
const { engineHttp } = await d('workers/engine');
const { ensureBootstrapAdmin } = await d('src/access/service');
const { IdentityCache } = await d('src/access/identity-cache');
const { Ingestor } = await d('src/ingest/ingestor');
const { createSql } = await d('src/db/client');
const { createMetrics } = await d('src/metrics');
const { loadConfig } = await d('src/config');
const { createLogger } = await d('src/logger');
const { randomBytes } = await import('node:crypto');
const ADMIN_TOKEN = 'llk_inproc-admin-token-0123456789abcdef';

const N = Number(process.argv[2] ?? 200_000);
const PROFILE = process.argv[3];
const db = await createTestDatabase();
const sql = createSql(db.url, { max: 4 });
const clock = new ManualClock(new Date());
await ensureBootstrapAdmin(sql, ADMIN_TOKEN, clock.now());
const identity = new IdentityCache(sql, clock);
// The engine's settings and app as it builds them (workers/engine.ts), with no variable set.
const config = loadConfig({});
const ingestor = new Ingestor(sql, new HeartbeatBuffer(), identity, config.autoRegister);
const built = engineHttp(config, { sql, clock, log: createLogger('warn'), metrics: createMetrics(), identity, secretKey: randomBytes(32), ingestor, queue: { name: 'redis', ping: async () => {} } });
const tokens: string[] = [];
for (let i = 0; i < 200; i++) {
  const res = await built.app.request('/v1/nodes', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: `p-${i}` }) });
  tokens.push(((await res.json()) as { token: string }).token);
}
const BODY = '{"status":"ok","checks":{"disk":{"status":"ok","value":0.42}}}';
const requests = tokens.map((t) => Buffer.from(`POST /v1/heartbeats HTTP/1.1\r\nHost: 127.0.0.1:18710\r\nAuthorization: Bearer ${t}\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`));

class Conn extends Duplex {
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  onAnswer: () => void = () => {};
  bad = 0;
  override _read() {}
  override _write(chunk: Buffer, _e: string, cb: () => void) { this.seen(chunk); cb(); }
  override _writev(chunks: { chunk: Buffer }[], cb: () => void) { for (const c of chunks) this.seen(c.chunk); cb(); }
  seen(chunk: Buffer | string) {
    const s = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    if (s.startsWith('HTTP/1.1 ')) { if (!s.startsWith('HTTP/1.1 202')) this.bad++; this.onAnswer(); }
  }
  setTimeout() { return this; }
  setNoDelay() { return this; }
  setKeepAlive() { return this; }
}

const engine = createServer(built.listener);
const bare = createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(202, { 'content-type': 'application/json' }); s.end('{"accepted":1}'); }); });

function run(server: ReturnType<typeof createServer>, n: number, conns = 10): Promise<number> {
  return new Promise((resolve) => {
    clock.advance(61_000);
    let sent = 0, answered = 0, k = 0;
    const all: Conn[] = [];
    const t0 = process.cpuUsage();
    for (let c = 0; c < conns; c++) {
      const conn = new Conn();
      all.push(conn);
      server.emit('connection', conn);
      const next = () => { if (sent < n) { sent++; conn.push(requests[k++ % requests.length]); } };
      conn.onAnswer = () => {
        answered++;
        if (answered === n) {
          const u = process.cpuUsage(t0);
          const bad = all.reduce((a, c) => a + c.bad, 0);
          if (bad) throw new Error(`${bad} answers not 202`);
          for (const x of all) x.destroy();
          resolve((u.user + u.system) / n);
        } else setImmediate(next);
      };
      next();
    }
  });
}
await run(engine, 20_000); await run(bare, 20_000);
let session: Session | undefined;
for (let round = 0; round < 3; round++) {
  if (PROFILE && round === 2) { session = new Session(); session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start'); }
  const e = await run(engine, N);
  if (session) { const { profile } = await session.post('Profiler.stop'); writeFileSync(PROFILE!, JSON.stringify(profile)); session = undefined; }
  const b = await run(bare, N);
  console.log(`round ${round} engine ${e.toFixed(2)} µs  bare ${b.toFixed(2)} µs  load ${loadavg()[0]!.toFixed(1)}`);
}
await sql.end(); await db.drop();
process.exit(0);
