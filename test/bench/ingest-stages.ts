import { Hono } from 'hono';
import { ManualClock } from '../helpers/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { Heartbeat } from '../../src/http/routes/heartbeats.ts';
import { parse, unstorableText } from '../../src/http/validation.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { createMetrics } from '../../src/metrics.ts';
import { hashSecret } from '../../src/secrets.ts';
import { ensureBootstrapAdmin } from '../../src/access/service.ts';
import { ADMIN_TOKEN, buildApp } from '../helpers/app.ts';
import { createBenchDatabase } from './databases.ts';
import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { row, section, type Section } from './report.ts';
import type { Scope } from './scope.ts';

const BODY = '{"status":"ok","checks":{"disk":{"status":"ok","value":0.42}}}';
const NODES = 100;
const REPS = 200_000;
const REQUESTS = 20_000;

/** CPU µs per call of `f`, after one untimed round of the same size (the JIT's). */
async function cpuMicros(f: () => unknown, n = REPS): Promise<number> {
  let result = 0;
  for (let round = 0; round < 2; round++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const x = f();
      if (x instanceof Promise) await x;
    }
    const u = process.cpuUsage(t0);
    result = (u.user + u.system) / n;
  }
  return result;
}

const us = (n: number) => `${n.toFixed(2)} µs`;

/**
 * Where a single heartbeat's time goes inside the engine, stage by stage, on a warm JIT in this
 * process (no network, no other load but the machine's): each stage alone, then a whole request
 * through the app beside the same request through a Hono app with one route that reads the body
 * and answers 202. The node:http and @hono/node-server layers around both are section 1's.
 */
export async function benchIngestStages(_o: BenchOptions, scope: Scope): Promise<Section> {
  const s = section('1b. Single heartbeat, stage by stage (CPU per request, in process)');
  const db = await createBenchDatabase(scope, 'stages');
  const sql = createSql(db.url, { max: 4 });
  scope.defer('close stages pool', () => sql.end({ timeout: 2 }));
  const clock = new ManualClock(new Date());
  await ensureBootstrapAdmin(sql, ADMIN_TOKEN, clock.now());
  const buffer = new HeartbeatBuffer();
  const { app, ingestor, identity } = buildApp({ sql, clock, buffer });
  progress(`stages: creating ${NODES} nodes`);
  const tokens: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < NODES; i++) {
    const res = await app.request('/v1/nodes', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: `stage-${i}` }) });
    const node = (await res.json()) as { id: string; token: string };
    tokens.push(node.token);
    ids.push(node.id);
  }
  const request = (i: number) =>
    new Request('http://lifeline/v1/heartbeats', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[i % NODES]}`, 'content-type': 'application/json', 'content-length': String(BODY.length) },
      body: BODY,
    });
  const minimal = new Hono();
  minimal.post('/v1/heartbeats', async (c) => {
    await c.req.text();
    return c.json({ accepted: 1 }, 202);
  });
  let k = 0;
  const through = (fetcher: (r: Request) => Response | Promise<Response>) => async () => {
    const res = await fetcher(request(k++));
    if (res.status !== 202) throw new Error(`heartbeat answered ${res.status}: ${await res.text()}`);
  };

  progress('stages: timing');
  const router = (app as unknown as { router: { match(method: string, path: string): unknown } }).router;
  const parsed: unknown = JSON.parse(BODY);
  const heartbeat = parse(Heartbeat, parsed);
  const principal = { kind: 'node' as const, nodeId: ids[0]!, nodeName: 'stage-0' };
  const m = createMetrics();
  const stages: Array<[string, () => unknown]> = [
    ['routing (match of POST /v1/heartbeats among every route)', () => router.match('POST', '/v1/heartbeats')],
    ['authentication: the cached principal (SHA-256 of the secret, then a map)', () => identity.principal(tokens[0]!)],
    ['body: JSON.parse and the storable-text walk', () => unstorableText(JSON.parse(BODY))],
    ['validation: the Heartbeat schema (valibot)', () => parse(Heartbeat, parsed)],
    ['the buffer: Ingestor.accept for a node token', () => ingestor.accept(principal, [heartbeat], false, clock, 'bench')],
    ['metrics: request histogram and heartbeat counter', () => {
      m.http.observe({ method: 'POST', route: '/v1/heartbeats', status: '202' }, 0.001);
      m.heartbeats.inc({ result: 'accepted' }, 1);
    }],
  ];
  await identity.principal(tokens[0]!);
  let sum = 0;
  for (const [name, f] of stages) {
    const t = await cpuMicros(f);
    sum += t;
    row(s, name, us(t), '—', '—');
  }
  row(s, 'the stages above, summed', us(sum), '—', '—');
  row(s, 'of which SHA-256 of the secret alone', us(await cpuMicros(() => hashSecret(tokens[0]!))), '—', '—');
  const whole = await cpuMicros(through((r) => app.fetch(r)), REQUESTS);
  const bare = await cpuMicros(through((r) => minimal.fetch(r)), REQUESTS);
  const requestOnly = await cpuMicros(() => request(k++), REQUESTS);
  row(s, 'a whole request through app.fetch (Request built here)', us(whole), `${us(bare)} (one-route Hono app)`, '—');
  row(s, 'the app beyond the one-route app, less the stages: the middleware chain', us(whole - bare - sum), '—', '—');
  row(s, 'of which building the Request', us(requestOnly), us(requestOnly), '—');
  s.notes.push(
    `CPU time (process.cpuUsage) per call, averaged over ${REPS.toLocaleString('en-US')} calls per stage and ${REQUESTS.toLocaleString('en-US')} whole requests after an untimed round of each; ${NODES} node tokens, the body an agent typically sends. Through node:http, @hono/node-server hands the app a lighter Request and reads the body without a web stream, so the whole-request figures here overstate that part for both columns alike.`,
  );
  return s;
}
