// Child-process entry for the naive baselines the Lifeline figures are compared against. Modes
// (BENCH_BASELINE_MODE):
//   bare    — node:http that reads the body and answers 202: the ceiling any Node ingest can reach.
//   update  — no authentication; one UPDATE per heartbeat on a postgres.js pool of 10, each its own
//             commit, then 202: the obvious implementation Lifeline's buffered flush replaces.
//   metrics — GET /metrics rendering one series per node from a query per scrape (prom-client):
//             the per-node exporter README's "Metrics" rules out (no label carries a node).
//   page    — node:http answering every request with the bytes of BENCH_PAGE_FILE and the headers
//             of BENCH_PAGE_HEADERS (JSON): the floor of serving a kept page, nothing looked up.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import postgres from 'postgres';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { guardChild } from './child-guard.ts';

guardChild();
const mode = process.env.BENCH_BASELINE_MODE ?? 'bare';
const port = Number(process.env.PORT ?? 0);
const sql = mode === 'bare' || mode === 'page' ? undefined : postgres(process.env.DATABASE_URL!, { max: 10, onnotice: () => {} });

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => Promise<void> | void;

function accepted(res: ServerResponse, n: number): void {
  res.writeHead(202, { 'content-type': 'application/json' });
  res.end(`{"accepted":${n}}`);
}

const bare: Handler = (_req, _body, res) => accepted(res, 1);

function updateHandler(): Handler {
  const db = sql!;
  // Token → node id and name → node id, so "authentication" is a map lookup, not a query.
  const maps = JSON.parse(readFileSync(process.env.BENCH_NODE_MAP!, 'utf8')) as { byToken: Record<string, string>; byName: Record<string, string> };
  const touch = (id: string | undefined) =>
    id ? db`update node_heartbeats set last_heartbeat_at = now(), received = received + 1 where node_id = ${id}` : Promise.resolve();
  return async (req, body, res) => {
    const parsed = JSON.parse(body) as { heartbeats?: Array<{ node: string }> };
    if (parsed.heartbeats) {
      await Promise.all(parsed.heartbeats.map((hb) => touch(maps.byName[hb.node])));
      accepted(res, parsed.heartbeats.length);
      return;
    }
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    await touch(maps.byToken[token]);
    accepted(res, 1);
  };
}

function metricsHandler(): Handler {
  const db = sql!;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const up = new Gauge({ name: 'node_up', help: 'Per-node health (1 healthy).', labelNames: ['node'], registers: [registry] });
  const last = new Gauge({ name: 'node_last_heartbeat_seconds', help: 'Per-node last heartbeat.', labelNames: ['node'], registers: [registry] });
  return async (_req, _body, res) => {
    const rows = await db<{ name: string; state: string; last: number | null }[]>`
      select n.name, h.state, extract(epoch from hb.last_heartbeat_at)::float8 as last
      from nodes n join node_health h on h.node_id = n.id join node_heartbeats hb on hb.node_id = n.id`;
    up.reset();
    last.reset();
    for (const r of rows) {
      up.set({ node: r.name }, r.state === 'healthy' ? 1 : 0);
      last.set({ node: r.name }, r.last ?? 0);
    }
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(text);
  };
}

function pageHandler(): Handler {
  const body = readFileSync(process.env.BENCH_PAGE_FILE!);
  const headers = JSON.parse(process.env.BENCH_PAGE_HEADERS!) as Record<string, string>;
  return (_req, _body, res) => {
    res.writeHead(200, headers);
    res.end(body);
  };
}

const handler: Handler = mode === 'update' ? updateHandler() : mode === 'metrics' ? metricsHandler() : mode === 'page' ? pageHandler() : bare;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    Promise.resolve(handler(req, Buffer.concat(chunks).toString('utf8'), res)).catch((err: unknown) => {
      process.stderr.write(`baseline ${mode}: ${err instanceof Error ? err.message : String(err)}\n`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
});
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ msg: 'listening', port, mode })}\n`));

process.on('SIGTERM', () => {
  server.close(() => {
    void (sql ? sql.end({ timeout: 1 }) : Promise.resolve()).then(() => process.exit(0));
  });
  server.closeIdleConnections();
});
