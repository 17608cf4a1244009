import { randomBytes, randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach } from 'node:test';
import { createChannels } from '../../alerting/index.ts';
import { LOCAL_RECEIVERS } from './local-receivers.ts';
import { sealSecret } from '../../alerting/secret-box.ts';
import { systemClock } from '../../src/clock.ts';
import { ManualClock } from './clock.ts';
import { ROLES } from '../../src/config.ts';
import { insertChannel } from '../../src/channels/store.ts';
import type { PolicyLevel } from '../../src/oncall/model.ts';
import { actionLinkKey } from '../../src/incidents/action-links.ts';
import type { Layer } from '../../src/oncall/schedule.ts';
import { insertPolicy } from '../../src/oncall/store.ts';
import { insertSchedule } from '../../src/oncall/store-schedules.ts';
import { insertUser } from '../../src/oncall/store-users.ts';
import { Events } from '../../src/events.ts';
import { countEvents, createMetrics } from '../../src/metrics.ts';
import { DeliveryQueue } from '../../src/notifications/queue.ts';
import { openQueueBackend, type QueueBackendName } from '../../src/queue/backend.ts';
import { pagingSetup, registerOnCallHandlers } from '../../workers/handlers.ts';
import { OutboxDispatcher } from '../../src/outbox/dispatcher.ts';
import { HandlerRegistry } from '../../src/outbox/registry.ts';
import type { OutboxEvent } from '../../src/outbox/topics.ts';
import { startNotifier } from '../../workers/notifier.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { testLog } from './log.ts';
import { createPipeline } from './pipeline.ts';
import { PATIENCE_MS, until } from './wait.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';

/** Every on-call guarantee holds on both: the notification tests run once per backend. */
export const QUEUE_BACKENDS: readonly QueueBackendName[] = ['redis', 'postgres'];

export interface OnCallOptions {
  /** Set: the queues run on this Redis. Unset: on Postgres, in the test's database (no REDIS_URL). */
  redisUrl: string | undefined;
  smtpUrl?: string;
  /**
   * The outbox runs in a process of its own (LIFELINE_ROLES=outbox) without SMTP_URL, as a split
   * deployment may: `smtpUrl` is then the notifier's alone.
   */
  outboxAlone?: boolean;
  /** Share a Redis queue and its secrets with another notifier (a restarted process). */
  prefix?: string;
  secretKey?: Buffer;
  /** Start no notifier worker here (another process sends). */
  worker?: boolean;
  stormThreshold?: number;
  /** The notifier's retry cap (200 ms unless a test needs a receiver's Retry-After honoured). */
  backoffCapMs?: number;
  /** Sign acknowledge and resolve links into messages under this public URL. */
  publicUrl?: string;
  /** Sends in flight in the notifier (its default unless set). */
  concurrency?: number;
}

/**
 * The on-call half in process: outbox dispatch on the test's manual clock (so escalation timers
 * fire when the test says), and a real BullMQ notifier with short retries on a private prefix
 * (Redis) or in the test's own database (Postgres).
 */
export async function createOnCall(db: TestDatabase, clock: ManualClock, o: OnCallOptions) {
  const prefix = o.prefix ?? `lifeline-test-${randomBytes(4).toString('hex')}`;
  const secretKey = o.secretKey ?? randomBytes(32);
  const links = o.publicUrl ? { publicUrl: o.publicUrl, key: actionLinkKey(secretKey), ttlMs: 7 * 24 * 3_600_000 } : undefined;
  const metrics = createMetrics();
  const events = new Events();
  countEvents(metrics, events);
  const registry = new HandlerRegistry();
  // Stamps enqueued_at, which the notifier's sweeper compares with its own (wall) clock below.
  const backend = await openQueueBackend({ redisUrl: o.redisUrl, databaseUrl: db.url, prefix });
  const queue = new DeliveryQueue({ backend, sql: db.sql, clock: systemClock });
  // Judged as the engine does: email is known off only where the notifier runs without SMTP_URL.
  const setup = pagingSetup(o.outboxAlone ? { roles: new Set(['outbox']), smtpUrl: undefined } : { roles: new Set(ROLES), smtpUrl: o.smtpUrl });
  registerOnCallHandlers(registry, queue, testLog, o.stormThreshold ?? 1000, setup);
  const dispatcher = new OutboxDispatcher({ sql: db.sql, registry, clock, log: testLog, maxAttempts: 5, backoffBaseMs: 10 });
  // Local receivers answer at once unless told to fail; a slow answer on a busy machine must not
  // become a timeout and a second request.
  const channels = createChannels({ smtpUrl: o.smtpUrl, mailFrom: 'lifeline@test.local', httpTimeoutMs: PATIENCE_MS, outboundAllowCidrs: LOCAL_RECEIVERS });
  // Sending happens in real time (BullMQ retries, receivers checking webhook-timestamp), so the
  // notifier reads the wall clock; only the outbox side runs on the test's manual clock.
  const startWorker = () =>
    startNotifier({
      backend,
      sql: db.sql,
      clock: systemClock,
      log: testLog,
      events,
      channels,
      secretKey,
      queue,
      backoffBaseMs: 20,
      backoffCapMs: o.backoffCapMs ?? 200,
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      // A job whose lock is not renewed in time is run again, sending twice: on a busy machine
      // this process can miss a 1 s lock's renewal. A crashed worker's job (its lock set by that
      // worker) is taken over at the second stalled check, 5 s apart here.
      lockDurationMs: 10_000,
      sweepMs: 100,
      // Never on a timer: a notifier's first digest pass runs as it starts, so a test sends the
      // digests by restarting it, and each holds every update held by then (on a timer they would
      // split over several messages at whatever points the machine's speed puts them).
      digestMs: 24 * 3600_000,
      links,
    });
  let notifier = o.worker === false ? undefined : startWorker();

  return {
    prefix,
    secretKey,
    setup,
    metrics,
    queue,
    dispatcher,
    /** Handles every outbox event that is due now, until none is left. */
    async drain() {
      while ((await dispatcher.runOnce()) > 0);
    },
    /** The same with `workers` dispatchers racing, in batches of `batchSize`. */
    async drainConcurrently(workers: number, batchSize: number) {
      await Promise.all(
        Array.from({ length: workers }, async () => {
          const d = new OutboxDispatcher({ sql: db.sql, registry, clock, log: testLog, maxAttempts: 5, batchSize });
          while ((await d.runOnce()) > 0);
        }),
      );
    },
    async webhook(name: string, url: string, secret: string) {
      const id = randomUUID();
      return insertChannel(db.sql, { id, name, type: 'webhook', config: { url }, secret_sealed: sealSecret(secret, secretKey, id) }, clock.now());
    },
    async email(name: string, to: string[]) {
      return insertChannel(db.sql, { id: randomUUID(), name, type: 'email', config: { to }, secret_sealed: null }, clock.now());
    },
    async policy(name: string, levels: PolicyLevel[], opts: { repeat?: number; isDefault?: boolean; ackTimeoutSeconds?: number } = {}) {
      return insertPolicy(db.sql, { name, levels, repeat: opts.repeat ?? 0, ack_timeout_seconds: opts.ackTimeoutSeconds ?? null, is_default: opts.isDefault ?? false }, clock.now());
    },
    async user(name: string, email: string, channelIds: string[] = [], time_zone = 'UTC') {
      return db.sql.begin((tx) => insertUser(tx, { name, email, time_zone, channel_ids: channelIds }, clock.now()));
    },
    async schedule(name: string, layers: Layer[], time_zone = 'UTC') {
      return insertSchedule(db.sql, { name, time_zone, layers }, clock.now());
    },
    async restartNotifier() {
      await notifier?.stop();
      notifier = startWorker();
    },
    async close() {
      await notifier?.stop();
      await queue.close();
      await backend.close();
      channels.close();
    },
  };
}

export type OnCall = Awaited<ReturnType<typeof createOnCall>>;

export async function deliveriesOf(db: TestDatabase, incidentId: string) {
  return db.sql<{ id: string; event: string; channel_id: string | null; user_id: string | null; status: string; attempts: number; last_error: string | null }[]>`
    select id, event, channel_id, user_id, status, attempts, last_error from deliveries where incident_id = ${incidentId} order by created_at, id`;
}

export async function incidentsOf(db: TestDatabase, nodeId: string) {
  return db.sql<{ id: string; category: string; status: string; escalation_level: number; resolved_by: string | null; opened_at: Date }[]>`
    select id, category, status, escalation_level, resolved_by, opened_at from incidents where node_id = ${nodeId} order by opened_at`;
}

/**
 * The event of node `name` (`nodeId`) going down at `at`, as the evaluator writes it, for a handler
 * called directly. Its id is always '1' and its state_version always 1, which the incident handlers
 * do not read: two of them are one event to anything keyed by either (an outbox, a node's log).
 */
export function wentDown(nodeId: string, name: string, at: Date): OutboxEvent<'node.state_changed'> {
  return {
    id: '1',
    topic: 'node.state_changed',
    key: nodeId,
    payload: { node_id: nodeId, node_name: name, from: 'healthy', to: 'down', at: at.toISOString(), reason: 'no heartbeat for 20s', state_version: 1 },
    created_at: at,
    attempts: 0,
  };
}

/**
 * A node that beats now and goes down 20 s later (interval 10 s × 2), with every outbox event due
 * on the way handled; returns its id.
 */
export async function nodeGoingDown(
  { p, oc, clock }: { p: ReturnType<typeof createPipeline>; oc: OnCall; clock: ManualClock },
  name: string,
  policyId: string | null = null,
): Promise<string> {
  const id = await p.addNode(name, { escalation_policy_id: policyId });
  p.beat(id);
  await p.tick();
  await oc.drain();
  await p.runUntil(new Date(clock.now().getTime() + 20_000));
  await p.tick();
  await oc.drain();
  return id;
}

/** The incident's deliveries once there are `n` and each has one of `final` statuses. */
export function settledDeliveries(db: TestDatabase, incidentId: string, n: number, final: string[] = ['sent', 'dead']) {
  return until(`${n} settled deliveries`, async () => {
    const ds = await deliveriesOf(db, incidentId);
    return ds.length === n && ds.every((d) => final.includes(d.status)) ? ds : undefined;
  });
}

/**
 * A manual clock at `t0`, the pipeline and the on-call half on it (queues on Postgres), and a
 * webhook receiver checking signatures with `secret`: what a test paging one webhook needs.
 */
export async function webhookOnCall(db: TestDatabase, t0: Date, secret: string) {
  const clock = new ManualClock(t0);
  const w = { clock, p: createPipeline(db, clock), oc: await createOnCall(db, clock, { redisUrl: undefined }), hook: await startWebhookReceiver({ secret }) };
  await w.p.flush();
  return {
    ...w,
    async close() {
      for (const part of [w.oc, w.p, w.hook]) await part.close();
    },
  };
}
export type WebhookOnCall = Awaited<ReturnType<typeof webhookOnCall>>;

/**
 * For the tests of the calling describe: one database, and for each test its tables emptied and a
 * fresh webhookOnCall at `t0`, closed after it. The tests read `db` and `w` from what it returns.
 */
export function eachWebhookOnCall(t0: Date, secret: string): { db: TestDatabase; w: WebhookOnCall } {
  const each = {} as { db: TestDatabase; w: WebhookOnCall };
  before(async () => (each.db = await createTestDatabase()));
  after(() => each.db.drop());
  beforeEach(async () => {
    await each.db.sql`truncate nodes, node_state_log, outbox, outbox_dead, ingest_coverage, ingest_presence, incidents, deliveries, channels, escalation_policies, maintenances cascade`;
    each.w = await webhookOnCall(each.db, t0, secret);
  });
  afterEach(() => each.w.close());
  return each;
}
