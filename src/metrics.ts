import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from './clock.ts';
import type { Sql } from './db/client.ts';
import { CHANNEL_TYPES } from './channels/model.ts';
import { DB_ERROR_KINDS } from './db/errors.ts';
import { DELIVERY_RESULTS, OUTBOX_RESULTS, UNROUTED_REASONS, type Events } from './events.ts';
import { REFUSAL_REASONS } from './http/routes/heartbeats.ts';
import { CATEGORIES } from './incidents/categorize.ts';
import { countOpenIncidents } from './incidents/store.ts';
import { LOOP_KINDS } from './loop.ts';
import { countNodesByState } from './nodes/store.ts';
import { STATES } from './health/decide.ts';
import type { Logger } from './logger.ts';
import { deliveryBacklog } from './notifications/store.ts';
import { outboxBacklog } from './outbox/store.ts';
import { TOPICS } from './outbox/topics.ts';

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

/** Every combination of one value from each list, as label sets. */
const combos = <L extends string>(values: Record<L, readonly string[]>): Array<Record<L, string>> =>
  Object.entries<readonly string[]>(values).reduce<Array<Record<string, string>>>((sets, [label, vs]) => sets.flatMap((s) => vs.map((v) => ({ ...s, [label]: v }))), [{}]) as Array<Record<L, string>>;

/**
 * A counter whose series for every value of its labels exist from the start, at 0: Prometheus's
 * increase() and rate() need a sample before the first count, so a series first seen already at 2
 * reads an increase of 0, and an alert on `increase(...) > 0` misses a single burst.
 */
function counterFrom<L extends string>(config: { name: string; help: string; registers: Registry[]; collect?: () => Promise<void> }, values: Record<L, readonly string[]>) {
  return zeroed(new Counter<L>({ ...config, labelNames: Object.keys(values) as L[] }), combos(values));
}

/** `counter`, with a series at 0 for each of these label sets (see counterFrom). */
function zeroed<L extends string>(counter: Counter<L>, sets: Array<Partial<Record<L, string>>>): Counter<L> {
  for (const labels of sets) counter.inc(labels, 0);
  return counter;
}

/**
 * Every move between two different states, as lifeline_state_transitions_total's label sets: the
 * 20 of them, rather than the ones decide.ts is known to make today, so none can be first seen at 1.
 * A standby that takes over the evaluator exported no transition until its first, and rate() and
 * increase() missed the burst of a failover.
 */
const STATE_MOVES = STATES.flatMap((from) => STATES.filter((to) => to !== from).map((to) => ({ from, to })));

/** What the fleet gauges read from Postgres, as lifeline_fleet_read_failures_total's `read` label. */
const FLEET_READS = ['nodes', 'incidents', 'outbox', 'deliveries'] as const;

export function createMetrics(source?: MetricsSource) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  const fleetReadFailures = counterFrom(
    {
      // The reads are shared (one per FLEET_READ_MS), so waiting on them costs no query and the
      // scrape whose read failed already shows it counted.
      async collect() {
        await Promise.all(Object.values(read).map((r) => r()));
      },
      name: 'lifeline_fleet_read_failures_total',
      help: 'Failed Postgres reads behind the fleet gauges (nodes: lifeline_nodes; incidents: lifeline_incidents_open; outbox and deliveries: their backlogs), by read; the gauges keep their last values meanwhile.',
      registers: r,
    },
    { read: FLEET_READS },
  );
  const read = databaseReaders(source, (what) => fleetReadFailures.inc({ read: what }));
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
   * A gauge with one series per label set in `series`, set at each scrape from counts read from
   * Postgres: every set is set, to 0 when none was counted, so a series that drops to nothing reads
   * 0 rather than its last count; a failed read leaves them as they were.
   */
  const countsGauge = <L extends string>(name: string, help: string, values: Record<L, readonly string[]>, counts: () => Promise<((labels: Record<L, string>) => number) | undefined>) =>
    new Gauge<L>({
      name,
      help,
      labelNames: Object.keys(values) as L[],
      registers: r,
      async collect() {
        const count = await counts();
        if (count) for (const labels of combos(values)) this.set(labels as Partial<Record<L, string>>, count(labels));
      },
    });
  // Accepted heartbeats not yet added to `heartbeats` (see acceptedHeartbeats).
  let accepted = 0;
  return {
    registry,
    heartbeats: zeroed(
      new Counter({
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
      [{ result: 'accepted' }, { result: 'stale' }, ...REFUSAL_REASONS.map((reason) => ({ result: 'rejected', reason }))],
    ),
    /**
     * Counts accepted heartbeats in `heartbeats{result="accepted"}`, added to it whenever it is read:
     * prom-client's inc() hashes its labels into a new string on every call, ~0.4-0.8 µs of each
     * single heartbeat, where a sum is a few ns.
     */
    acceptedHeartbeats(n: number): void {
      accepted += n;
    },
    nodes: countsGauge('lifeline_nodes', 'Nodes by health state.', { state: STATES }, async () => {
      const counts = await read.nodes();
      return counts && ((l) => counts[l.state] ?? 0);
    }),
    leader: new Gauge({ name: 'lifeline_evaluator_leader', help: '1 while this process holds the evaluator lock.', registers: r }),
    lastPass: new Gauge({
      name: 'lifeline_evaluator_last_pass_timestamp_seconds',
      help: 'When the last evaluator pass this process ran as leader ended, in Unix seconds; 0 while it is not leader.',
      registers: r,
    }),
    tick: new Histogram({
      name: 'lifeline_evaluator_tick_seconds',
      help: 'Duration of evaluator passes that ran as leader.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    evaluatorNodeErrors: counterFrom(
      {
        name: 'lifeline_evaluator_node_errors_total',
        help: 'Nodes the evaluator could not judge (their decision or write raised), by error kind (invalid_data, constraint, other; transient is exported at 0: such a pass is retried whole, no node blamed); each is retried alone after a backoff.',
        registers: r,
      },
      { kind: DB_ERROR_KINDS },
    ),
    transitions: zeroed(
      new Counter({
        name: 'lifeline_state_transitions_total',
        help: 'Node state transitions committed, by the state left and the state entered.',
        labelNames: ['from', 'to'] as const,
        registers: r,
      }),
      STATE_MOVES,
    ),
    outboxPending: backlogGauge('lifeline_outbox_pending', 'Outbox events due and not yet handled (timers not due yet are lifeline_outbox_scheduled).', read.backlog, 'pending'),
    outboxOldest: backlogGauge('lifeline_outbox_oldest_pending_seconds', 'How long the oldest due, unhandled outbox event has been due (a failed one: since it was written).', read.backlog, 'oldestSeconds'),
    outboxScheduled: backlogGauge('lifeline_outbox_scheduled', 'Outbox events not due yet: escalation and acknowledgement timers armed for later.', read.backlog, 'scheduled'),
    outboxEvents: counterFrom(
      { name: 'lifeline_outbox_events_total', help: 'Outbox events processed, by type (the event\'s topic) and result (handled, failed, dead).', registers: r },
      { type: TOPICS, result: OUTBOX_RESULTS },
    ),
    outboxLatency: new Histogram({
      name: 'lifeline_outbox_dispatch_latency_seconds',
      help: 'Time from an outbox event coming due (written, or a timer\'s or retry\'s time reached) to its handlers committing.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: r,
    }),
    ingestFlush: new Histogram({
      name: 'lifeline_ingest_flush_seconds',
      help: 'Duration of heartbeat buffer flushes.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    ingestRowsRejected: counterFrom(
      {
        name: 'lifeline_ingest_rows_rejected_total',
        help: 'Buffered heartbeats set aside because Postgres refused them on their own, by reason (invalid_data, constraint; transient and other are exported at 0: such an error fails the whole flush, which is retried, and sets no row aside).',
        registers: r,
      },
      { reason: DB_ERROR_KINDS },
    ),
    // The one labelled series not made at 0: its routes and statuses are many. LifelineApiErrors
    // reads the rate of its 5xx counts, so the first 5xx of each method, route and status is not
    // seen by rate() (its series starts at 1, not 0); a sustained error rate, what that alert is
    // for, is. The latency panels read rates of series that already have requests. Up to
    // 30 s: an answer slower than 2.5 s (a /metrics waiting on Postgres, a page under load) was
    // only "+Inf"; the 3 buckets are 3 more series per method, route and status seen (15 → 18).
    http: new Histogram({
      name: 'lifeline_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    incidentsOpen: countsGauge(
      'lifeline_incidents_open',
      'Unresolved incidents by category and whether they are acknowledged; sum over acknowledged for all unresolved.',
      { category: Object.keys(CATEGORIES), acknowledged: ['true', 'false'] },
      async () => {
        const counts = await read.incidents();
        return counts && ((l) => counts.find((c) => c.category === l.category && String(c.acknowledged) === l.acknowledged)?.n ?? 0);
      },
    ),
    deliveriesPending: backlogGauge('lifeline_deliveries_pending', 'Notification deliveries not yet sent or dead (waiting, retrying or held for a digest).', read.deliveries, 'pending'),
    deliveriesOldest: backlogGauge('lifeline_deliveries_oldest_pending_seconds', 'Age of the oldest unfinished notification delivery.', read.deliveries, 'oldestSeconds'),
    notifications: counterFrom(
      {
        name: 'lifeline_notifications_total',
        help: 'Delivery attempts by channel type and result (sent, failed = will retry, dead; held = not attempted, no attempt spent: the channel secret cannot be opened with this process\'s key).',
        registers: r,
      },
      { channel_type: CHANNEL_TYPES, result: DELIVERY_RESULTS },
    ),
    notificationLatency: new Histogram({
      name: 'lifeline_notification_latency_seconds',
      help: 'Time from the incident event to its successful delivery.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers: r,
    }),
    incidentsUnrouted: counterFrom(
      {
        name: 'lifeline_incidents_unrouted_total',
        help: 'Escalation levels that paged nobody (a reached_nobody timeline entry), by reason: no_policy, email_not_configured (SMTP_URL unset and the level reaches only by email), nobody_on_call.',
        registers: r,
      },
      { reason: UNROUTED_REASONS },
    ),
    statusPageHistoryFailures: new Counter({
      name: 'lifeline_status_page_history_failures_total',
      help: "Times a status page's finished days could not be stored in its history (logged with the page id); the change that triggered it was kept.",
      registers: r,
    }),
    loopErrors: counterFrom(
      { name: 'lifeline_loop_errors_total', help: 'Failed passes of background loops (they log and carry on).', registers: r },
      { loop: LOOP_KINDS },
    ),
    fleetReadFailures,
  };
}

/**
 * Counts what the engine announces (src/events.ts) into the process's series. Called once per
 * process, on the one Events every part of it announces through.
 */
export function countEvents(metrics: Metrics, events: Events): void {
  events.on('evaluator.tick', (seconds, endedAt) => {
    metrics.tick.observe(seconds);
    metrics.lastPass.set(endedAt.getTime() / 1000);
  });
  events.on('evaluator.transition', (from, to) => metrics.transitions.inc({ from, to }));
  events.on('evaluator.node_error', (kind) => metrics.evaluatorNodeErrors.inc({ kind }));
  events.on('evaluator.leadership', (leader) => {
    metrics.leader.set(leader ? 1 : 0);
    // A follower shows no pass time, so max() over the processes is the leader's (or a stuck one's).
    if (!leader) metrics.lastPass.set(0);
  });
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
  events.on('incident.unrouted', (reason) => metrics.incidentsUnrouted.inc({ reason }));
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
 * keeps the last value rather than failing the whole scrape, is counted (`failed`), and is not
 * tried again before FLEET_READ_MS either (a Postgres that does not answer is not asked by every
 * scrape of a flood).
 */
function databaseReaders(source: MetricsSource | undefined, failed: (what: (typeof FLEET_READS)[number]) => void) {
  const guarded = async <T>(what: (typeof FLEET_READS)[number], fn: (s: MetricsSource) => Promise<T>): Promise<T | undefined> => {
    if (!source) return undefined;
    try {
      return await fn(source);
    } catch (err) {
      source.log.warn({ err, what }, 'metrics collection query failed');
      failed(what);
      return undefined;
    }
  };
  // One read per FLEET_READ_MS, by the clock, shared: every backlog gauge of a query reads one answer.
  const shared = <T>(what: (typeof FLEET_READS)[number], fn: (s: MetricsSource) => Promise<T>) => {
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
