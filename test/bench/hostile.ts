// Section 14: what a hostile body costs the engine in CPU, beside what a well-behaved batch sender
// costs, in the engine's app in this process. Cost is bounded before work (shape and counts before
// items, at most 20 details), so no body may take more than 100 ms of CPU.
import { pino } from 'pino';
import { IdentityCache } from '../../src/access/identity-cache.ts';
import { insertApiKey } from '../../src/access/store.ts';
import { systemClock } from '../../src/clock.ts';
import { createHttp } from '../../src/http/app.ts';
import { consoleSettings } from '../../src/http/session.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { Ingestor } from '../../src/ingest/ingestor.ts';
import { createMetrics } from '../../src/metrics.ts';
import { hashSecret } from '../../src/secrets.ts';
import { localReceivers } from '../helpers/local-receivers.ts';
import { createBenchDatabase } from './databases.ts';
import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, row, section, type Section } from './report.ts';
import type { Scope } from './scope.ts';
import { nodeName, seedFleet } from './seed.ts';
import { percentile } from './stats.ts';

const TARGET_MS = 100;
const REPEAT = 20;
const FLEET = 1000;

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

export async function benchHostile(_o: BenchOptions, scope: Scope): Promise<Section> {
  const s = section('14. Hostile bodies (CPU per request)');
  const db = await createBenchDatabase(scope, 'hostile');
  await seedFleet(db.sql, { count: FLEET, intervalSeconds: 30, failuresForDown: 3, state: 'healthy', lastHeartbeatAgoMs: 1000, due: 'infinity' });
  const identity = new IdentityCache(db.sql, systemClock);
  const buffer = new HeartbeatBuffer();
  const { app } = createHttp({
    sql: db.sql,
    clock: systemClock,
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    identity,
    secretKey: Buffer.alloc(32),
    ingestor: new Ingestor(db.sql, buffer, identity, false),
    console: consoleSettings({ publicUrl: undefined, idleMinutes: 720, sessionHours: 168 }),
    outbound: localReceivers,
    // Measured, not limited: every request below comes from one address with one key.
    limits: { authFailuresPerMinute: 0, nodeTokenPerMinute: 0, registrationsPerHour: 0 },
    queue: { name: 'redis', ping: async () => {} },
  });
  const secret = 'llk_bench-hostile-bodies';
  await insertApiKey(db.sql, 'bench', 'admin', hashSecret(secret), new Date());

  const names = Array.from({ length: FLEET }, (_, i) => nodeName(i + 1));
  const bodies: [label: string, path: string, body: string, status: number][] = [
    ['clean batch of 1,000 heartbeats (baseline)', '/v1/heartbeats', JSON.stringify({ heartbeats: names.map((node) => ({ node, status: 'ok' })) }), 202],
    ['{"heartbeats":[1,1,…]}, 500,000 items (~1 MB)', '/v1/heartbeats', `{"heartbeats":[${Array<string>(500_000).fill('1').join(',')}]}`, 400],
    ['1,000 heartbeats, every one invalid', '/v1/heartbeats', JSON.stringify({ heartbeats: names.map(() => ({ status: 'bad', seq: -1 })) }), 400],
    ['one heartbeat with 50,000 checks', '/v1/heartbeats', JSON.stringify({ node: names[0], checks: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`c${i}`, 1])) }), 400],
    ['a node with 50,000 unknown fields', '/v1/nodes', JSON.stringify(Object.fromEntries([['name', 'x'], ...Array.from({ length: 50_000 }, (_, i) => [`f${i}`, 1])])), 400],
    ['50,000 strings with U+0000', '/v1/heartbeats', JSON.stringify({ node: names[0], extra: Array<string>(50_000).fill('a\u0000b') }), 400],
  ];
  for (const [label, path, body, status] of bodies) {
    progress(`hostile: ${label} ×${REPEAT}`);
    const cpu: number[] = [];
    let answered = 0;
    for (let i = 0; i < REPEAT + 2; i++) {
      const before = process.cpuUsage();
      const res = await app.request(path, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body });
      const text = await res.text();
      const used = cpuMs(process.cpuUsage(before));
      if (res.status !== status) throw new Error(`${label}: answered ${res.status}, expected ${status}: ${text.slice(0, 200)}`);
      buffer.take();
      if (i >= 2) cpu.push(used);
      answered = text.length;
    }
    const p99 = percentile(cpu, 99);
    row(s, `${label} — CPU p50 / p99, answer`, `${ms(percentile(cpu, 50))} / ${ms(p99)}, ${int(answered)} B`, '', `≤ ${TARGET_MS} ms`, p99 <= TARGET_MS);
  }
  s.rows[0]!.baseline = s.rows[0]!.lifeline;
  s.notes.push(
    `Lifeline: the engine's app in this process (app.request): process CPU (user + system) from the request to the last byte of its answer, ${REPEAT} sequential requests per body after 2 untimed ones, with an admin key; bodies are built before timing. The clean batch is the baseline: what a well-behaved batch sender costs.`,
  );
  return s;
}
