// The notifier alone: a backlog of webhook deliveries in the ledger and the queue, sent by two
// notifier processes (test/bench/notifier-child.ts) to the receiver child, timed from the moment
// the queue is released until every row is marked sent. Lifeline batches the ledger reads and
// `sent` marks of the sends in flight (src/notifications/ledger.ts); the baseline runs the same
// code with batches of one row and the 16 sends per process of before, i.e. each delivery's own
// statements and commits, as before batching.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sealSecret } from '../../alerting/secret-box.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { systemClock } from '../../src/clock.ts';
import { insertChannel } from '../../src/channels/store.ts';
import type { Sql } from '../../src/db/client.ts';
import { LEDGER_BATCHING } from '../../src/notifications/ledger.ts';
import { DeliveryQueue, NOTIFICATIONS_QUEUE } from '../../src/notifications/queue.ts';
import { openQueueBackend } from '../../src/queue/backend.ts';
import { DELIVERY_CONCURRENCY } from '../../src/config.ts';
import { REDIS_URL, spawnScript, type ChildProc } from './children.ts';
import { createBenchDatabase, vacuumAnalyze } from './databases.ts';
import { progress } from './log.ts';
import { backendCpu, backendCpuSince, cpuMs, redisPid } from './proc-cpu.ts';
import type { BenchOptions } from './options.ts';
import { obliterate, receiverJson, startReceiver } from './outage.ts';
import type { Arrivals } from './receiver.ts';
import { int, row, section, type Section } from './report.ts';
import { waitFor, type Scope } from './scope.ts';

const PROCESSES = 2;
/** Today's sends per process before batching, and one row per ledger statement. */
const BASELINE = { concurrency: 16, batch: '1,16' };
const PAGE = 1000;

export interface SendRun {
  deliveries: number;
  ms: number;
  /** CPU (ms) of the notifier processes, and of the Postgres backends serving them, over the run. */
  notifierCpuMs: number;
  postgresCpuMs: number;
  /** CPU (ms) of the local redis-server over the run: shared, so it also counts other clients' work. */
  redisCpuMs: number;
  /** CPU (ms) of the receiver child over the run: not Lifeline's, but on the same 2 cores. */
  receiverCpuMs: number;
  duplicates: number;
  missing: number;
}

const NOTIFIERS = ['lifeline-bench-notifier'];

/** `n` open incidents, each with one pending `opened` delivery to one webhook channel. */
async function seedDeliveries(sql: Sql, n: number, receiverBase: string, webhookSecret: string, secretKey: Buffer): Promise<string[]> {
  const id = randomUUID();
  const now = systemClock.now();
  await insertChannel(sql, { id, name: 'bench webhook', type: 'webhook', config: { url: `${receiverBase}/hook` }, secret_sealed: sealSecret(webhookSecret, secretKey, id) }, now);
  const rows = await sql<{ id: string }[]>`
    with i as (
      insert into incidents (node_id, node_name, category, severity, status, title, reason, opened_at)
      select gen_random_uuid(), 'bench-node-' || g, 'node_down', 'critical', 'open', 'bench-node-' || g || ' is down', 'no heartbeat for 90s', now()
      from generate_series(1, ${n}::int) as g
      returning id, opened_at)
    insert into deliveries (id, incident_id, event, event_key, channel_id, channel_type, status, occurred_at, created_at)
    select i.id || '.opened.' || ${id}, i.id, 'opened', 'opened', ${id}::uuid, 'webhook', 'pending', i.opened_at, now() from i
    returning id`;
  await vacuumAnalyze(sql, ['incidents', 'deliveries']);
  return rows.map((r) => r.id);
}

export async function sendRun(scope: Scope, o: BenchOptions, label: string, env: Record<string, string>): Promise<SendRun> {
  const n = o.notifierDeliveries;
  const db = await createBenchDatabase(scope, `notifier_${label}`);
  const secretKey = randomBytes(32);
  const webhookSecret = generateWebhookSecret();
  const receiver = await startReceiver(scope, `notifier-${label}`, webhookSecret);
  const ids = await seedDeliveries(db.sql, n, receiver.base, webhookSecret, secretKey);

  // The backlog waits in a paused queue until both processes are ready, so neither starts early.
  const prefix = `bench-${process.pid}-notifier-${label}-${randomBytes(3).toString('hex')}`;
  scope.defer('remove the bench queue from Redis', () => obliterate(prefix));
  const backend = await openQueueBackend({ redisUrl: REDIS_URL, databaseUrl: db.url, prefix });
  scope.defer('close the queue backend', () => backend.close());
  await waitFor('Redis', () => backend.ping().then(() => true, () => undefined), 10_000);
  const admin = backend.queue(NOTIFICATIONS_QUEUE, {});
  scope.defer('close the admin queue', () => admin.close());
  await admin.pause();
  const queue = new DeliveryQueue({ backend, sql: db.sql, clock: systemClock });
  scope.defer('close the delivery queue', () => queue.close());
  for (let i = 0; i < n; i += PAGE) await queue.enqueue(ids.slice(i, i + PAGE).map((id) => ({ id })));
  // The queue now holds every row: recorded as such, or each process's sweeper would add all n
  // again (no-ops, and a mark per row) inside the timed window, ~850 ms of the two processes' CPU
  // at 10,000 deliveries, a once-per-new-Redis cost that is not the sending measured here.
  const token = await queue.unsynced();
  if (token) await queue.markSynced(token);

  const childEnv = { BENCH_DATABASE_URL: db.url, BENCH_QUEUE_PREFIX: prefix, BENCH_SECRET_KEY: secretKey.toString('hex'), ...env };
  const children: ChildProc[] = Array.from({ length: PROCESSES }, (_, i) => spawnScript(scope, `notifier-${label}-${i + 1}`, 'test/bench/notifier-child.ts', childEnv));
  await Promise.all(children.map((c) => c.waitForLine('notifier ready', (l) => l.json?.msg === 'notifier ready', 60_000)));
  const pids = children.map((c) => c.proc.pid!);
  const redis = await redisPid(REDIS_URL);
  const cpu0 = pids.map(cpuMs);
  const redis0 = cpuMs(redis);
  const receiver0 = cpuMs(receiver.pid);
  const pg0 = await backendCpu(db.sql, NOTIFIERS);

  progress(`notifier ${label}: ${int(n)} deliveries released to ${PROCESSES} processes`);
  const t0 = performance.now();
  await admin.resume();
  // The receiver's count first, the ledger's once every webhook arrived (the `sent` marks follow
  // within a batch): the ledger's count reads the whole table, and polled every 20 ms through the
  // run it kept the bench's own Postgres backend at 6-8 % of a core (1.4-2.5 s of CPU in runs of
  // 17-44 s; ~20 µs a delivery at 3,000/s), on the 2 cores the notifiers are timed on. The
  // receiver's count is a number in its memory.
  await waitFor(`${n} webhooks at the receiver`, async () => ((await receiverJson<{ ids: number }>(receiver.base, '/count')).ids >= n ? true : undefined), Math.max(120_000, n * 10), 20);
  await waitFor(
    `${n} deliveries marked sent`,
    async () => {
      const [r] = await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where status = 'sent'`;
      return r!.n >= n ? true : undefined;
    },
    Math.max(120_000, n * 10),
    20,
  );
  const elapsed = performance.now() - t0;
  const notifierCpuMs = pids.reduce((t, pid, i) => t + cpuMs(pid) - cpu0[i]!, 0);
  const redisCpuMs = cpuMs(redis) - redis0;
  const receiverCpuMs = cpuMs(receiver.pid) - receiver0;
  const postgresCpuMs = await backendCpuSince(db.sql, NOTIFIERS, pg0);
  await Promise.all(children.map((c) => c.stop(10_000)));

  const arrivals = await receiverJson<Arrivals>(receiver.base, '/arrivals');
  const got = new Set(arrivals.webhooks.map(([id]) => id));
  return {
    deliveries: n,
    ms: elapsed,
    notifierCpuMs,
    postgresCpuMs,
    redisCpuMs,
    receiverCpuMs,
    duplicates: arrivals.webhooks.filter(([, , times]) => times > 1).length + arrivals.rejected,
    missing: ids.filter((id) => !got.has(id)).length,
  };
}

export async function benchNotifier(o: BenchOptions, scope: Scope): Promise<Section> {
  const n = o.notifierDeliveries;
  const s = section(`7b. Notifier: webhook deliveries with ${PROCESSES} processes (${int(n)} deliveries)`);
  const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  progress(`notifier: Lifeline — ${int(n)} deliveries, ${PROCESSES} processes`);
  const life = await sendRun(scope, o, 'life', {});
  progress(`notifier: baseline — one row per ledger statement, ${BASELINE.concurrency} sends per process`);
  const naive = await sendRun(scope, o, 'naive', { BENCH_CONCURRENCY: String(BASELINE.concurrency), BENCH_LEDGER_BATCH: BASELINE.batch });
  const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

  const rate = (r: SendRun) => (r.deliveries / r.ms) * 1000;
  const perDelivery = (cpu: number, r: SendRun) => `${int((cpu * 1000) / r.deliveries)} µs`;
  row(s, `webhook deliveries/s, ${PROCESSES} notifier processes (released → every row marked sent)`, int(rate(life)), int(rate(naive)), '≥ 5,000', rate(life) >= 5000);
  row(s, 'notifier CPU per delivery (both processes)', perDelivery(life.notifierCpuMs, life), perDelivery(naive.notifierCpuMs, naive), '— (report)');
  row(s, "Postgres CPU per delivery (the notifiers' backends)", perDelivery(life.postgresCpuMs, life), perDelivery(naive.postgresCpuMs, naive), '— (report)');
  row(s, 'Redis CPU per delivery (redis-server, shared)', perDelivery(life.redisCpuMs, life), perDelivery(naive.redisCpuMs, naive), '— (report)');
  row(s, "receiver CPU per delivery (the bench's receiver, same cores)", perDelivery(life.receiverCpuMs, life), perDelivery(naive.receiverCpuMs, naive), '— (report)');
  const once = (r: SendRun) => `${int(r.duplicates)} twice or unsigned, ${int(r.missing)} missing`;
  row(s, 'webhook-ids received exactly once', once(life), once(naive), 'each once', life.duplicates + life.missing + naive.duplicates + naive.missing === 0);
  s.notes.push(
    `Each run: a fresh database holding ${int(n)} open incidents, each with one pending \`opened\` delivery to one webhook channel (sealed secret), all added to a paused BullMQ queue (local Redis, private prefix); ` +
      `${PROCESSES} notifier processes (test/bench/notifier-child.ts: \`startNotifier\` as the engine runs it, a pool of 10 each) start, then the queue is resumed and the clock runs until every ledger row is marked sent. ` +
      `The receiver is test/bench/receiver.ts (node:http, signatures checked). CPU is utime + stime from /proc over the same window.`,
    `Lifeline: ${DELIVERY_CONCURRENCY} sends per process; the ledger reads of the sends starting in one event-loop turn are one batch (row, channel, incident, labels: four queries), ` +
      `and the \`sent\` marks of the sends that finished in one turn are one update and one timeline insert, each send completing its job only after its own row's write committed ` +
      `(batches of at most ${LEDGER_BATCHING.size} rows, ${LEDGER_BATCHING.inFlight} of each kind in flight). Baseline: the same code with batches of one row and ${BASELINE.concurrency} sends per process, as before batching: ` +
      `each delivery's own four reads and three writes.`,
    `Load average (1 min) ${load0} before these runs and ${load1} after; Redis, Postgres, the receiver and the benchmark share the 2 cores with the notifiers.`,
  );
  return s;
}
