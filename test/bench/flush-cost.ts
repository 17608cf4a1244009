// CPU a heartbeat costs after the request: Ingestor.accept, the buffer and the flush, in the engine
// and in the Postgres backends, over a 1,000-node fleet at a steady rate (each flush takes the
// heartbeats of `flushMs` at `rate`; flushes run back to back, so only CPU per heartbeat counts).
//
//   npx tsx test/bench/flush-cost.ts [rate=14000] [flushMs=250] [flushes=60] [state=healthy]
//
// state=unknown seeds a fleet the evaluator has not judged healthy: every flush wakes every node.
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { IngestFlusher } from '../../src/ingest/flusher.ts';
import { Ingestor } from '../../src/ingest/ingestor.ts';
import type { IdentityCache } from '../../src/access/identity-cache.ts';
import { systemClock } from '../../src/clock.ts';
import { createBenchDatabase, settledUpdates } from './databases.ts';
import { benchLog } from './log.ts';
import { backendCpu, backendCpuSince } from './proc-cpu.ts';
import { Scope } from './scope.ts';
import { seedCoverage, seedFleet } from './seed.ts';

const [rate, flushMs, flushes] = [14_000, 250, 60].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number];
const state = process.argv[5] === 'unknown' ? 'unknown' : 'healthy';
const BODY = { status: 'ok', checks: { disk: { status: 'ok', value: 0.42 } } } as const;

const scope = new Scope();
try {
  const db = await createBenchDatabase(scope, 'flush');
  await seedFleet(db.sql, { count: 1000, intervalSeconds: 30, failuresForDown: 3, state, lastHeartbeatAgoMs: 1000, due: 'infinity' });
  await seedCoverage(db.sql);
  const nodes = await db.sql<{ id: string; name: string }[]>`select id, name from nodes order by name`;
  const buffer = new HeartbeatBuffer();
  const flusher = new IngestFlusher({ sql: db.sql, buffer, clock: systemClock, log: benchLog, gapMs: 60_000 });
  // Node tokens name their node: accept() needs no identity lookup.
  const ingestor = new Ingestor(db.sql, buffer, {} as IdentityCache, false);
  const perFlush = Math.round((rate * flushMs) / 1000);
  let next = 0;
  const flush = async () => {
    for (let i = 0; i < perFlush; i++) {
      const n = nodes[next++ % nodes.length]!;
      await ingestor.accept({ kind: 'node', nodeId: n.id, nodeName: n.name } as never, [BODY], false, systemClock, 'bench');
    }
    await flusher.runOnce();
  };
  for (let i = 0; i < 10; i++) await flush();
  const u0 = await settledUpdates(db.sql, 'node_heartbeats');
  const pg0 = await backendCpu(db.sql, ['lifeline-bench']);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < flushes; i++) await flush();
  const cpu = process.cpuUsage(cpu0);
  const pg = await backendCpuSince(db.sql, ['lifeline-bench'], pg0);
  const u1 = await settledUpdates(db.sql, 'node_heartbeats');
  const heartbeats = perFlush * flushes;
  console.log(
    `rate=${rate}/s flush=${flushMs} ms (${perFlush} heartbeats over ${nodes.length} nodes): engine ${((cpu.user + cpu.system) / heartbeats).toFixed(2)} µs, ` +
      `Postgres ${((pg * 1000) / heartbeats).toFixed(2)} µs per heartbeat; HOT ${u1.hotUpd - u0.hotUpd} of ${u1.upd - u0.upd} row updates`,
  );
} finally {
  await scope.close();
}
