import { createServer } from 'node:http';
import { createChannels } from '../alerting/index.ts';
import { outboundPolicy } from '../alerting/destination.ts';
import { DEFAULT_HTTP_TIMEOUT_MS } from '../alerting/post-json.ts';
import { IdentityCache } from '../src/access/identity-cache.ts';
import { actionLinkKey } from '../src/incidents/action-links.ts';
import { loadSecretKey } from '../src/channels/secret-key.ts';
import { systemClock, type Clock } from '../src/clock.ts';
import { ROLES, adminTokenWarning, notifierWithoutApi, redact, type Config } from '../src/config.ts';
import { createSql, ping } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { Events } from '../src/events.ts';
import { createHttp, requestListener } from '../src/http/app.ts';
import type { AppDeps } from '../src/http/deps.ts';
import { PublicChanges } from '../src/http/public-changes.ts';
import { HttpDrain, QUIET_MS } from '../src/http/drain.ts';
import { HeartbeatBuffer } from '../src/ingest/buffer.ts';
import { coverageGapMs } from '../src/ingest/flusher.ts';
import { Ingestor } from '../src/ingest/ingestor.ts';
import { consoleSettings } from '../src/http/session.ts';
import { LiveFeed } from '../src/live/feed.ts';
import { throttledWarning, type Logger } from '../src/logger.ts';
import { countEvents, createMetrics } from '../src/metrics.ts';
import { leaseOf } from '../src/notifications/ledger.ts';
import { DeliveryQueue } from '../src/notifications/queue.ts';
import { setupWarnings } from '../src/oncall/setup-warnings.ts';
import { openQueueBackend } from '../src/queue/backend.ts';
import { HandlerRegistry } from '../src/outbox/registry.ts';
import { PACKAGE_VERSION } from '../src/package-files.ts';
import { settlesWithin } from '../src/settles.ts';
import { uptimeHandler } from '../src/uptime/handlers.ts';
import { startEvaluator } from './evaluator.ts';
import { applyAdminToken } from './first-admin.ts';
import { pagingSetup, registerOnCallHandlers } from './handlers.ts';
import { startIngestFlusher } from './ingest.ts';
import { cliUrl, consoleUrl, listen, StartGate } from './listen.ts';
import { startNotifier } from './notifier.ts';
import { startOutboxWorkers } from './outbox.ts';
import { startUptimeHousekeeping } from './uptime-housekeeping.ts';

export interface Engine {
  port: number;
  /**
   * The first part of a stop, with the port still open: /readyz answers 503 and every answer
   * carries `Connection: close` from now on, until no connection has been open for a second or,
   * with the api role, LIFELINE_DRAIN_MS has passed (at once without the api role: no balancer
   * sends clients to such a process).
   */
  drain(): Promise<void>;
  /** Stops by `deadline` (epoch ms), giving up on what does not close in time (see below). */
  stop(deadline: number): Promise<void>;
}

/** How long `drain()` may keep a process of these roles serving (LIFELINE_DRAIN_MS with the api role). */
export function drainWindowMs(config: Pick<Config, 'roles' | 'drainMs'>): number {
  return config.roles.has('api') ? config.drainMs : 0;
}

/** What ending the engine's pool may take (sql.end's timeout): everything else must be done before. */
const SQL_END_TIMEOUT_S = 2;

/**
 * What the engine's stop needs: a send started just before SIGTERM may take its whole HTTP limit
 * (10 s) and then ~1 s to record it `sent` (one write; its retries are for a database in trouble),
 * and the pool's end its 2 s after: 13 s. The parts once got 5 s, so a receiver answering in 6 s
 * was given up on, its row stayed leased with the page delivered, and another notifier paged again
 * once the lease lapsed.
 */
const SENT_WRITE_MS = 1_000;
export const ENGINE_STOP_MS = DEFAULT_HTTP_TIMEOUT_MS + SENT_WRITE_MS + SQL_END_TIMEOUT_S * 1000;

/** What this process's roles leave out while LIFELINE_PUBLIC_URL is unset: said once, at start. */
function warnWithoutPublicUrl(config: Config, log: Logger): void {
  if (config.publicUrl) return;
  const missing = [
    ...(config.roles.has('api') ? ['nodes have no ping_url'] : []),
    ...(config.roles.has('notifier') ? ['notifications carry no acknowledge, resolve or console links'] : []),
  ];
  if (missing.length) log.warn(`LIFELINE_PUBLIC_URL is not set: ${missing.join('; ')}`);
}

/** What the HTTP surface is built from besides the configuration: the parts this process runs. */
export type HttpParts = Pick<
  AppDeps,
  'sql' | 'clock' | 'log' | 'metrics' | 'identity' | 'secretKey' | 'ingestor' | 'feed' | 'publicChanges' | 'transports' | 'queue' | 'notifierWithoutApi' | 'secretKeyRequired' | 'starting' | 'draining'
>;

/**
 * The HTTP surface the engine serves, with the settings `config` holds for it: the app, and the
 * listener node:http calls (the fast paths in front of the app). A bench that measures requests
 * builds it here too, so it measures what runs.
 */
export function engineHttp(config: Config, parts: HttpParts): { app: ReturnType<typeof createHttp>['app']; listener: ReturnType<typeof requestListener> } {
  const http = createHttp({
    ...parts,
    console: consoleSettings({ publicUrl: config.publicUrl, idleMinutes: config.consoleIdleMinutes, sessionHours: config.consoleSessionHours }),
    publicPages: { trustProxyHops: config.trustProxyHops },
    outbound: outboundPolicy(config.outboundAllowCidrs),
    limits: config.limits,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
  });
  return { app: http.app, listener: requestListener(http, { hostname: config.host }) };
}

/**
 * Migrates, then starts the roles this process runs. Every process serves /healthz, /readyz and
 * /metrics; only the api role serves /v1 and buffers heartbeats. Stop order mirrors the flow:
 * drain (not ready, clients asked to leave), stop accepting, flush ingest, finish the evaluator
 * pass, drain outbox batches, close connections.
 */
export async function startEngine(config: Config & { databaseUrl: string; databaseEmbedded: boolean }, log: Logger, clock: Clock = systemClock): Promise<Engine> {
  const slowest = { file: '', ms: -1 };
  const { applied } = await migrate(config.databaseUrl, {
    // Each at debug: a first start applies every one (33 lines before the first-run line that
    // matters); the summary below names the slowest, which is the one that locked a table.
    applied: (file, ms) => {
      log.debug({ migration: file, ms }, `migration applied: ${file} (${ms} ms)`);
      if (ms > slowest.ms) Object.assign(slowest, { file, ms });
    },
    // A rollback, or an old process beside a newer one, runs on a schema it does not know. Said,
    // not refused: during a rolling upgrade the old processes still running must keep working.
    unknown: (files) =>
      log.warn(
        { migrations: files },
        `the database has migrations this release does not know (${files.join(', ')}): it was migrated by a newer release. ` +
          'Run that release (a rollback is not supported past a migration; restore the backup taken before the upgrade to go back), or finish the rolling upgrade',
      ),
  });
  if (applied.length) {
    const last = applied.at(-1)!;
    log.info(
      { migrations: applied.length, schema: last, slowest: slowest.file, slowest_ms: slowest.ms },
      `applied ${applied.length} migration${applied.length === 1 ? '' : 's'}, now at ${last.slice(0, 4)} (slowest ${slowest.file}, ${slowest.ms} ms)`,
    );
  }
  const sql = createSql(config.databaseUrl, { max: config.dbPoolMax });
  const secretKey = await loadSecretKey(sql, config.secretKey, log, clock.now());
  warnWithoutPublicUrl(config, log);
  // LIFELINE_ADMIN_TOKEN is the api's alone (applyAdminToken, once listening): other roles ignore it.
  const shortAdminToken = config.roles.has('api') ? adminTokenWarning(config.adminToken) : undefined;
  if (shortAdminToken) log.warn(shortAdminToken);

  // Every process opens it: /readyz names it even where no role adds or takes jobs. A dead Redis
  // fails every reconnect, about once a second: one line a minute, no stack. Which store it is
  // was said once, in the log's first line (workers/main.ts).
  const redisTrouble = throttledWarning(log);
  const queueBackend = await openQueueBackend({
    redisUrl: config.redisUrl,
    databaseUrl: config.databaseUrl,
    prefix: config.queuePrefix,
    onConnectionError: (err) =>
      redisTrouble({ redis: redact(config.redisUrl ?? ''), error: err.message }, 'Redis does not answer (REDIS_URL); notifications wait in Postgres until it does'),
  });

  // The dependencies as /readyz checks them: Postgres, and the queues' store (Redis with REDIS_URL;
  // without it the store is Postgres, checked as Postgres).
  const metrics = createMetrics({ sql, clock, log, dependencies: { [queueBackend.name]: () => queueBackend.ping(), postgres: () => ping(sql) } });
  metrics.buildInfo.set({ version: PACKAGE_VERSION, roles: ROLES.filter((role) => config.roles.has(role)).join(',') }, 1);
  // Every part of this process announces through one Events; the metrics count what it announces.
  const events = new Events();
  countEvents(metrics, events);
  const gapMs = coverageGapMs(config.ingestFlushMs);
  const registry = new HandlerRegistry();
  const uptimeRetention = { hourlyDays: config.uptimeHourlyRetentionDays, dailyDays: config.uptimeDailyRetentionDays };
  registry.on('node.state_changed', 'uptime', uptimeHandler(uptimeRetention));
  // What stops, in order, named for the warning when one does not finish in time.
  const stops: Array<{ part: string; stop: () => Promise<void> }> = [];

  // One cache of what secrets and node names stand for, for authentication and ingest alike.
  const identity = new IdentityCache(sql, clock);
  stops.push({ part: 'identity cache', stop: await identity.listen() });
  // Channel transports: the notifier's deliveries, and the api's test messages sent on request.
  const transports = config.roles.has('api') || config.roles.has('notifier') ? createChannels({ smtpUrl: config.smtpUrl, mailFrom: config.mailFrom, outboundAllowCidrs: config.outboundAllowCidrs }) : undefined;
  // Said at every start: a setup under which notifications reach nobody should not stay unnoticed.
  for (const warning of await setupWarnings(sql, { emailConfigured: transports?.email.configured, now: clock.now(), named: true })) log.warn(warning);
  let ingestor: Ingestor | undefined;
  let feed: LiveFeed | undefined;
  let publicChanges: PublicChanges | undefined;
  if (config.roles.has('api')) {
    feed = new LiveFeed(sql, log);
    stops.push({ part: 'event feed', stop: await feed.listen() });
    publicChanges = new PublicChanges(sql);
    stops.push({ part: 'public cache', stop: await publicChanges.listen() });
    const buffer = new HeartbeatBuffer();
    ingestor = new Ingestor(sql, buffer, identity, config.autoRegister);
    stops.push({ part: 'ping keys', stop: await ingestor.listen() });
    const ingest = startIngestFlusher({ sql, buffer, clock, log, events, flushMs: config.ingestFlushMs, coverageGapMs: gapMs });
    stops.push({ part: 'ingest flusher', stop: ingest.stop });
    metrics.watchIngest(() => ingest.flusher.state());
  }
  const drain = new HttpDrain();
  // Requests wait while the admin keys are applied, so a script waiting for /readyz finds them
  // (and the first admin secret's file) done; a start that cannot listen never changes them. The
  // probes are answered meanwhile, /readyz with 503 `starting`.
  const gate = new StartGate({
    max: config.heldRequestsMax,
    full: (max) => log.warn(`${max} requests wait for the start to complete (LIFELINE_HELD_REQUESTS_MAX); more are answered 503 with Retry-After until it does`),
  });
  const { listener } = engineHttp(config, {
    starting: () => gate.starting,
    draining: () => drain.draining,
    sql,
    clock,
    log,
    metrics,
    identity,
    secretKey,
    ...(ingestor ? { ingestor } : {}),
    ...(feed ? { feed } : {}),
    ...(publicChanges ? { publicChanges } : {}),
    ...(transports && config.roles.has('api') ? { transports } : {}),
    queue: queueBackend,
    notifierWithoutApi: notifierWithoutApi(config.roles),
    secretKeyRequired: config.roles.has('notifier'),
  });
  const server = createServer(gate.wrap(drain.wrap(listener)));
  drain.track(server);
  /**
   * Each part gets until the pool's own end must begin. One still closing then is left behind
   * with a warning, and the queues' connections are dropped: against a Redis that does not
   * answer, the notifier's BullMQ worker waits for ever for its QUIT, which once held a SIGTERM
   * past the stop deadline (exit 1). Nothing is lost by it: a delivery's truth is its ledger row
   * in Postgres, and a row whose job Redis never got, or lost, is added again by the next
   * notifier's sweeper (src/notifications/sweep.ts); a job taken and left unfinished is stalled
   * back into the queue once its lock lapses.
   */
  const stopAll = async (deadline: number): Promise<void> => {
    const partsBy = deadline - SQL_END_TIMEOUT_S * 1000;
    const late: string[] = [];
    const bounded = async (part: string, close: () => Promise<void>) => {
      const logged = Promise.resolve().then(close).catch((err: unknown) => log.error({ err, part }, 'a role did not stop cleanly'));
      if (!(await settlesWithin(logged, partsBy - Date.now()))) late.push(part);
    };
    // Event streams never end by themselves: ending them first lets the server close (drain()
    // did, when it ran).
    feed?.close();
    await bounded(
      'http server',
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive connections would hold close() open; idle ones can go now. After a drain
          // these are few: every answer since it began closed its connection.
          server.closeIdleConnections();
        }),
    );
    for (const { part, stop } of stops) await bounded(part, stop);
    await bounded('queue connections', () => queueBackend.close());
    if (late.length) {
      log.warn({ late }, `stop deadline: gave up waiting for ${late.join(', ')}; dropping the notification queues' connections (deliveries wait in the ledger)`);
      queueBackend.drop();
    }
    await sql.end({ timeout: SQL_END_TIMEOUT_S });
  };
  server.listen(config.port, config.host);
  let port: number;
  let consoleAt: string | undefined;
  try {
    port = await listen(server, config.host, config.port);
    // The console is the api role's: a process without it has no page to open.
    consoleAt = config.roles.has('api') ? consoleUrl(config.publicUrl, config.host, port) : undefined;
    if (consoleAt) {
      const place = { dataDir: config.dataDir, databaseUrl: config.databaseUrl, embedded: config.databaseEmbedded, consoleUrl: consoleAt, apiUrl: cliUrl(config.publicUrl, config.host, port) };
      await applyAdminToken(sql, { token: config.adminToken, ...place }, log, clock.now());
    }
    gate.open();
  } catch (err) {
    // The start failed: what it started stops, as on a normal stop, so the process can exit (and
    // an embedded Postgres stop) instead of holding requests and connections for ever.
    gate.drop();
    server.closeAllConnections();
    await stopAll(Date.now() + ENGINE_STOP_MS);
    throw err;
  }
  log.info(
    { port, roles: [...config.roles], ...(consoleAt ? { console_url: consoleAt } : {}) },
    consoleAt ? `lifeline listening on port ${port}: open the console at ${consoleAt}` : `lifeline listening on port ${port}`,
  );

  if (config.roles.has('evaluator')) {
    const evaluator = startEvaluator({
      databaseUrl: config.databaseUrl,
      sql,
      clock,
      log,
      events,
      intervalMs: config.evaluatorIntervalMs,
      coverageGapMs: gapMs,
    });
    stops.push({ part: 'evaluator', stop: evaluator.stop });
    // Closing quiet nodes' hours and retention run once, on whichever process leads the evaluators.
    const uptime = startUptimeHousekeeping({ sql, clock, log, metrics, events, leadership: evaluator.leadership, retention: uptimeRetention });
    stops.push({ part: 'uptime housekeeping', stop: uptime.stop });
  }
  // Both roles produce notification jobs: the outbox's fan-out right after commit, the notifier's
  // sweeper for rows whose job never reached the job store.
  const queue = config.roles.has('outbox') || config.roles.has('notifier') ? new DeliveryQueue({ backend: queueBackend, sql, clock }) : undefined;
  if (config.roles.has('outbox') && queue) {
    registerOnCallHandlers(registry, queue, log, config.stormThreshold, { ...pagingSetup(config), events });
    const outbox = await startOutboxWorkers({
      sql,
      registry,
      clock,
      log,
      events,
      workers: config.outboxWorkers,
      pollMs: config.outboxPollMs,
      maxAttempts: config.outboxMaxAttempts,
    });
    stops.push({ part: 'outbox', stop: outbox.stop });
  }
  if (config.roles.has('notifier') && queue && transports) {
    const links = config.publicUrl
      ? { publicUrl: config.publicUrl, key: actionLinkKey(secretKey), ttlMs: config.actionLinkTtlHours * 3_600_000 }
      : undefined;
    const notifier = startNotifier({
      backend: queueBackend,
      sql,
      clock,
      log,
      events,
      channels: transports,
      secretKey,
      queue,
      digestMs: config.digestIntervalMs,
      backoffBaseMs: config.deliveryBackoffMs,
      concurrency: config.deliveryConcurrency,
      lease: leaseOf(config.deliveryLeaseMs),
      links,
    });
    stops.push({ part: 'notifier', stop: notifier.stop });
  }
  if (queue) stops.push({ part: 'delivery queue', stop: () => queue.close() });
  // In-flight sends have finished (the server closed first, the notifier stopped): release the SMTP pool.
  if (transports) stops.push({ part: 'channel transports', stop: async () => transports.close() });

  return {
    port,
    async drain() {
      // Event streams never end by themselves: ended now (and any opened later at once), so they
      // hold neither the drain nor the server's close.
      feed?.close();
      const windowMs = drainWindowMs(config);
      const startedAt = Date.now();
      const end = await drain.begin(windowMs);
      if (windowMs <= 0) return;
      if (end.by === 'window') log.info({ ms: Date.now() - startedAt, open: end.open }, `drain window (LIFELINE_DRAIN_MS, ${windowMs} ms) over with ${end.open} connection(s) still open; closing the port`);
      else log.info({ ms: Date.now() - startedAt }, `drained: no connection open for ${QUIET_MS} ms; closing the port`);
    },
    stop: stopAll,
  };
}
