import { serve, type ServerType } from '@hono/node-server';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { upsertBootstrapAdmin } from './db/api-keys.ts';
import { createSql } from './db/client.ts';
import { migrate } from './db/migrate.ts';
import { Authenticator } from './http/auth.ts';
import { createApp } from './http/app.ts';
import { HeartbeatBuffer } from './ingest/buffer.ts';
import { coverageGapMs } from './ingest/flusher.ts';
import { Ingestor } from './ingest/ingestor.ts';
import type { Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { HandlerRegistry } from './outbox/registry.ts';
import { hashSecret } from './secrets.ts';
import { startEvaluator } from '../workers/evaluator.ts';
import { startIngestFlusher } from '../workers/ingest.ts';
import { startOutboxWorkers } from '../workers/outbox.ts';

export interface Engine {
  port: number;
  registry: HandlerRegistry;
  stop(): Promise<void>;
}

function listen(server: ServerType): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (server.listening) resolve((server.address() as AddressInfo).port);
    else server.once('listening', () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Migrates, then starts the roles this process runs. Every process serves /healthz, /readyz and
 * /metrics; only the api role serves /v1 and buffers heartbeats. Stop order mirrors the flow:
 * stop accepting, flush ingest, finish the evaluator pass, drain outbox batches, close connections.
 */
export async function startEngine(config: Config, log: Logger, clock: Clock = systemClock): Promise<Engine> {
  await migrate(config.databaseUrl);
  const sql = createSql(config.databaseUrl, { max: 10 + config.outboxWorkers });
  if (config.adminToken) await upsertBootstrapAdmin(sql, hashSecret(config.adminToken), clock.now());

  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (err) => log.debug({ err }, 'redis connection error'));
  redis.connect().catch((err) => log.warn({ err }, 'redis is not reachable yet'));

  const metrics = createMetrics({ sql, clock, log });
  const gapMs = coverageGapMs(config.ingestFlushMs);
  const registry = new HandlerRegistry();
  const stops: Array<() => Promise<void>> = [];

  let ingestor: Ingestor | undefined;
  if (config.roles.has('api')) {
    const buffer = new HeartbeatBuffer();
    ingestor = new Ingestor(sql, buffer, config.autoRegister);
    const ingest = startIngestFlusher({ sql, buffer, clock, log, metrics, flushMs: config.ingestFlushMs, coverageGapMs: gapMs });
    stops.push(ingest.stop);
  }
  const app = createApp({
    sql,
    clock,
    log,
    metrics,
    auth: new Authenticator(sql),
    ...(ingestor ? { ingestor } : {}),
    pingRedis: async () => void (await redis.ping()),
  });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
  const port = await listen(server);
  log.info({ port, roles: [...config.roles] }, 'lifeline listening');

  if (config.roles.has('evaluator')) {
    const evaluator = startEvaluator({
      databaseUrl: config.databaseUrl,
      clock,
      log,
      metrics,
      intervalMs: config.evaluatorIntervalMs,
      coverageGapMs: gapMs,
    });
    stops.push(evaluator.stop);
  }
  if (config.roles.has('outbox')) {
    const outbox = await startOutboxWorkers({
      sql,
      registry,
      clock,
      log,
      metrics,
      workers: config.outboxWorkers,
      pollMs: config.outboxPollMs,
      maxAttempts: config.outboxMaxAttempts,
    });
    stops.push(outbox.stop);
  }

  return {
    port,
    registry,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open; idle ones can go now.
        (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      });
      for (const stop of stops) {
        try {
          await stop();
        } catch (err) {
          log.error({ err }, 'a role did not stop cleanly');
        }
      }
      redis.disconnect();
      await sql.end({ timeout: 2 });
    },
  };
}
