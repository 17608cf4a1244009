// What one revocation costs a process with many open event streams: every stream checks its key
// or session again before it may write what was committed after. N streams (console tabs: session
// cookies; or scripts: a Bearer key each) on one in-process app and a 10-connection pool; each
// round NOTIFYs a revocation, then a transition the streams hold until their checks answer; the
// round ends when every stream has written it. Per round: wall time, this process's CPU, the CPU
// of the Postgres backends serving the pool, and the queries the pool sent.
// usage (cwd = the checkout to measure): node --import tsx test/bench/stream-rechecks.ts [session|bearer] [streams=1000] [rounds=7]
import { loadavg } from 'node:os';
import postgres from 'postgres';
const root = process.cwd();
const { createTestDatabase } = await import(`${root}/test/helpers/db.ts`);
const { buildApp, ADMIN_TOKEN } = await import(`${root}/test/helpers/app.ts`);
const { createPipeline } = await import(`${root}/test/helpers/pipeline.ts`);
const { backendCpu, backendCpuSince } = await import(`${root}/test/bench/proc-cpu.ts`);
const { ManualClock } = await import(`${root}/test/helpers/clock.ts`);
const { HeartbeatBuffer } = await import(`${root}/src/ingest/buffer.ts`);
const { ensureBootstrapAdmin } = await import(`${root}/src/access/service.ts`);
const { insertApiKey } = await import(`${root}/src/access/store.ts`);
const { openSession } = await import(`${root}/src/access/sessions.ts`);
const { generateSecret, hashSecret } = await import(`${root}/src/secrets.ts`);

const MODE = process.argv[2] === 'bearer' ? 'bearer' : 'session';
const STREAMS = Number(process.argv[3] ?? 1000);
const ROUNDS = Number(process.argv[4] ?? 7);
const APP = 'lifeline-bench-streams';

const db = await createTestDatabase();
let queries = 0;
const sql = postgres(db.url, { max: 10, onnotice: () => {}, connection: { application_name: APP }, debug: () => void (queries += 1) });
const clock = new ManualClock(new Date());
await ensureBootstrapAdmin(db.sql, ADMIN_TOKEN, clock.now());
const built = buildApp({ sql, clock, buffer: new HeartbeatBuffer() });
await built.feed.listen();
await built.identity.listen();

// The transition every round delivers: committed once, announced again each round.
const p = createPipeline(db, clock);
const node = await p.addNode('bench-marker');
p.beat(node);
await p.tick();
const MARKER = 'bench-marker';

const auths: Record<string, string>[] = [];
for (let i = 0; i < STREAMS; i++) {
  if (MODE === 'bearer') {
    const secret = generateSecret('llk');
    await insertApiKey(db.sql, `bench-${i}`, 'read', hashSecret(secret), clock.now());
    auths.push({ authorization: `Bearer ${secret}` });
  } else {
    const s = await openSession(db.sql, ADMIN_TOKEN, { idleMs: 12 * 3_600_000, maxMs: 168 * 3_600_000 }, clock.now());
    auths.push({ cookie: `lifeline_session=${s!.id}` });
  }
}

/** How many times each stream has written the marker so far. */
const seen = new Array<number>(STREAMS).fill(0);
let wake = () => {};
for (let i = 0; i < STREAMS; i++) {
  const res = await built.app.request('/v1/events', { headers: auths[i]! });
  if (res.status !== 200) throw new Error(`stream ${i}: ${res.status} ${await res.text()}`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) throw new Error(`stream ${i} ended`);
      if (r.value.includes(MARKER)) {
        seen[i]! += 1;
        wake();
      }
    }
  })();
}
while (built.feed.size < STREAMS) await new Promise((r) => setImmediate(r));

async function round(n: number) {
  const done = new Promise<void>((resolve) => {
    wake = () => {
      if (seen.every((s) => s >= n)) resolve();
    };
  });
  const pg = await backendCpu(db.sql, [APP]);
  const q0 = queries;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // A revocation as every process hears it, then a change committed after it.
  await db.sql`select pg_notify('lifeline_identity', '')`;
  await db.sql`select pg_notify('lifeline_live', ${`n${node}:1`})`;
  await done;
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000, pg: await backendCpuSince(db.sql, [APP], pg), queries: queries - q0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
await round(1); // warm-up
const rs = [];
for (let n = 2; n <= ROUNDS + 1; n++) rs.push(await round(n));
console.log(
  JSON.stringify({
    mode: MODE,
    streams: STREAMS,
    rounds: ROUNDS,
    load: loadavg()[0]!.toFixed(2),
    wall_ms: median(rs.map((r) => r.wall)).toFixed(1),
    app_cpu_ms: median(rs.map((r) => r.cpu)).toFixed(1),
    pg_cpu_ms: median(rs.map((r) => r.pg)).toFixed(1),
    queries: median(rs.map((r) => r.queries)),
  }),
);
await p.close();
await db.drop();
process.exit(0);
