import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from './clock.ts';
import type { Sql } from './db/client.ts';
import type { Events } from './events.ts';
import { countOpenIncidents } from './incidents/store.ts';
import { countNodesByState } from './nodes/store.ts';
import { STATES } from './health/decide.ts';
import type { Logger } from './logger.ts';
import { deliveryBacklog } from './notifications/store.ts';
import { outboxBacklog } from './outbox/store.ts';

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * What the outbox's and the deliveries' backlog reads give: rows waiting, the oldest one's age, and
 * (the outbox's) timers not due yet.
 */
interface Backlog {
  pending: number;
  oldestSeconds: number;
  scheduled?: number;
}

/**
 * Every series Lifeline exports. No label carries a node id or name: label values come from small
 * fixed sets (states, topics, routes), so the series count stays in the hundreds however big the
 * fleet is.
 */
export interface MetricsSource {
  sql: Sql;
  clock: Clock;
  log: Logger;
}

export function createMetrics(source?: MetricsSource) {
  const registry = new Registry();
  const read = databaseReaders(source);
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  /** A gauge set at each scrape from one figure of a backlog read from Postgres; a failed read leaves it as it was. */
  const backlogGauge = (name: string, help: string, backlog: () => Promise<Backlog | undefined>, figure: keyof Backlog) =>
    new Gauge({
      name,
      help,
      registers: r,
      async collect() {
        const b = await backlog();
        const value = b?.[figure];
        if (value !== undefined) this.set(value);
      },
    });
  /**
   * A gauge with one series per value of `label`, set at each scrape from counts read from
   * Postgres: every value in `values` is set, to 0 when none was counted, so a series that drops to
   * nothing reads 0 rather than its last count; a failed read leaves them as they were.
   */
  const countsGauge = <L extends string>(name: string, help: string, label: L, values: readonly string[], counts: () => Promise<Record<string, number> | undefined>) =>
    new Gauge<L>({
      name,
      help,
      labelNames: [label],
      registers: r,
      async collect() {
        const read = await counts();
        if (read) for (const value of values) this.set({ [label]: value } as Record<L, string>, read[value] ?? 0);
      },
    });
  // Accepted heartbeats not yet added to `heartbeats` (see acceptedHeartbeats).
  let accepted = 0;
  return {
    registry,
    heartbeats: new Counter({
      name: 'lifeline_heartbeats_received_total',
      help: 'Heartbeats received, by result (accepted, stale, rejected) and, for rejected ones, reason (unauthorized, forbidden, invalid, unknown_node, rate_limited, error); a request refused before its body is read counts as one.',
      labelNames: ['result', 'reason'] as const,
      registers: r,
      collect() {
        if (accepted === 0) return;
        this.inc({ result: 'accepted' }, accepted);
        accepted = 0;
      },
    }),
    /**
     * Counts accepted heartbeats in `heartbeats{result="accepted"}`, added to it whenever it is read:
     * prom-client's inc() hashes its labels into a new string on every call, ~0.4-0.8 µs of each
     * single heartbeat, where a sum is a few ns.
     */
    acceptedHeartbeats(n: number): void {
      accepted += n;
    },
    nodes: countsGauge('lifeline_nodes', 'Nodes by health state.', 'state', STATES, read.nodes),
    leader: new Gauge({ name: 'lifeline_evaluator_leader', help: '1 while this process holds the evaluator lock.', registers: r }),
    tick: new Histogram({
      name: 'lifeline_evaluator_tick_seconds',
      help: 'Duration of evaluator passes that ran as leader.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    evaluatorNodeErrors: new Counter({
      name: 'lifeline_evaluator_node_errors_total',
      help: 'Nodes the evaluator could not judge (their decision or write raised), by error kind; each is retried alone after a backoff.',
      labelNames: ['kind'] as const,
      registers: r,
    }),
    transitions: new Counter({
      name: 'lifeline_state_transitions_total',
      help: 'Node state transitions committed.',
      labelNames: ['from', 'to'] as const,
      registers: r,
    }),
    outboxPending: backlogGauge('lifeline_outbox_pending', 'Outbox events due and not yet handled (timers not due yet are lifeline_outbox_scheduled).', read.backlog, 'pending'),
    outboxOldest: backlogGauge('lifeline_outbox_oldest_pending_seconds', 'How long the oldest due, unhandled outbox event has been due (a failed one: since it was written).', read.backlog, 'oldestSeconds'),
    outboxScheduled: backlogGauge('lifeline_outbox_scheduled', 'Outbox events not due yet: escalation and acknowledgement timers armed for later.', read.backlog, 'scheduled'),
    outboxEvents: new Counter({
      name: 'lifeline_outbox_events_total',
      help: 'Outbox events processed, by topic and result (handled, failed, dead).',
      labelNames: ['type', 'result'] as const,
      registers: r,
    }),
    outboxLatency: new Histogram({
      name: 'lifeline_outbox_dispatch_latency_seconds',
      help: 'Time from an outbox event being written to its handlers committing.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: r,
    }),
    ingestFlush: new Histogram({
      name: 'lifeline_ingest_flush_seconds',
      help: 'Duration of heartbeat buffer flushes.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    ingestRowsRejected: new Counter({
      name: 'lifeline_ingest_rows_rejected_total',
      help: 'Buffered heartbeats set aside because Postgres refused them on their own, by reason (invalid_data, constraint).',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    http: new Histogram({
      name: 'lifeline_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    incidentsOpen: countsGauge('lifeline_incidents_open', 'Unresolved incidents by category.', 'category', ['node_down', 'node_degraded'], read.incidents),
    deliveriesPending: backlogGauge('lifeline_deliveries_pending', 'Notification deliveries not yet sent or dead (waiting, retrying or held for a digest).', read.deliveries, 'pending'),
    deliveriesOldest: backlogGauge('lifeline_deliveries_oldest_pending_seconds', 'Age of the oldest unfinished notification delivery.', read.deliveries, 'oldestSeconds'),
    notifications: new Counter({
      name: 'lifeline_notifications_total',
      help: 'Delivery attempts by channel type and result (sent, failed = will retry, dead; held = not attempted, no attempt spent: the channel secret cannot be opened with this process\'s key).',
      labelNames: ['channel_type', 'result'] as const,
      registers: r,
    }),
    notificationLatency: new Histogram({
      name: 'lifeline_notification_latency_seconds',
      help: 'Time from the incident event to its successful delivery.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers: r,
    }),
    statusPageDaysFailed: new Counter({
      name: 'lifeline_status_page_days_failed_total',
      help: 'Status pages whose days over could not be kept (logged with the page id); the write that asked went ahead.',
      registers: r,
    }),
    loopErrors: new Counter({
      name: 'lifeline_loop_errors_total',
      help: 'Failed passes of background loops (they log and carry on).',
      labelNames: ['loop'] as const,
      registers: r,
    }),
  };
}

/**
 * Counts what the engine announces (src/events.ts) into the process's series. Called once per
 * process, on the one Events every part of it announces through.
 */
export function countEvents(metrics: Metrics, events: Events): void {
  events.on('evaluator.tick', (seconds) => metrics.tick.observe(seconds));
  events.on('evaluator.transition', (from, to) => metrics.transitions.inc({ from, to }));
  events.on('evaluator.node_error', (kind) => metrics.evaluatorNodeErrors.inc({ kind }));
  events.on('evaluator.leadership', (leader) => metrics.leader.set(leader ? 1 : 0));
  events.on('ingest.flushed', (_written, seconds) => metrics.ingestFlush.observe(seconds));
  events.on('ingest.rejected', (reason) => metrics.ingestRowsRejected.inc({ reason }));
  events.on('outbox.event', (type, result, latencySeconds) => {
    metrics.outboxEvents.inc({ type, result });
    if (latencySeconds !== undefined) metrics.outboxLatency.observe(latencySeconds);
  });
  events.on('notification.result', (channel_type, result, count, latencySeconds) => {
    metrics.notifications.inc({ channel_type, result }, count);
    if (latencySeconds !== undefined) metrics.notificationLatency.observe(latencySeconds);
  });
  events.on('loop.error', (loop) => metrics.loopErrors.inc({ loop }));
}

/**
 * How old the Postgres-read gauges may be: a process reads them at most once per this many
 * milliseconds, and every scrape meanwhile (concurrent ones included) shares that read. /metrics
 * may be open to anyone, and each read is 4 queries: 1,500 scrapes in 33 s cost 6,000 of them,
 * now at most 4 per 5 s (~28). 5 s is a third of the 15 s scrape interval of Prometheus's default
 * and of ops/prometheus, so a scrape at that interval, or two Prometheus servers scraping in turn,
 * still gets figures read since the scrape before.
 */
export const FLEET_READ_MS = 5_000;

/**
 * Gauges read from Postgres, so every process reports the same fleet-wide truth. A failed read
 * keeps the last value rather than failing the whole scrape, and is not tried again before
 * FLEET_READ_MS either (a Postgres that does not answer is not asked by every scrape of a flood).
 */
function databaseReaders(source: MetricsSource | undefined) {
  const guarded = async <T>(what: string, fn: (s: MetricsSource) => Promise<T>): Promise<T | undefined> => {
    if (!source) return undefined;
    try {
      return await fn(source);
    } catch (err) {
      source.log.warn({ err, what }, 'metrics collection query failed');
      return undefined;
    }
  };
  // One read per FLEET_READ_MS, by the clock, shared: every backlog gauge of a query reads one answer.
  const shared = <T>(what: string, fn: (s: MetricsSource) => Promise<T>) => {
    let read: Promise<T | undefined> | undefined;
    let at = 0;
    let settled = false;
    return () => {
      const now = source?.clock.now().getTime() ?? 0;
      // A clock set back counts as due, so a read is never kept for longer than FLEET_READ_MS.
      if (!read || (settled && (now - at >= FLEET_READ_MS || now < at))) {
        at = now;
        settled = false;
        read = guarded(what, fn).finally(() => (settled = true));
      }
      return read;
    };
  };
  return {
    nodes: shared('nodes', (s) => countNodesByState(s.sql)),
    incidents: shared('incidents', (s) => countOpenIncidents(s.sql)),
    backlog: shared('outbox', (s) => outboxBacklog(s.sql, s.clock.now())),
    deliveries: shared('deliveries', (s) => deliveryBacklog(s.sql, s.clock.now())),
  };
}
