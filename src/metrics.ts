import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from './clock.ts';
import type { Sql } from './db/client.ts';
import { CHANNEL_TYPES } from './channels/model.ts';
import { DB_ERROR_KINDS } from './db/errors.ts';
import { DELIVERY_RESULTS, OUTBOX_RESULTS, UNROUTED_REASONS, type Events } from './events.ts';
import { REFUSAL_REASONS } from './http/routes/heartbeats.ts';
import { CATEGORIES } from './incidents/categorize.ts';
import { countOpenIncidents } from './incidents/store.ts';
import type { IngestState } from './ingest/model.ts';
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
  /**
   * What /readyz checks, by the dependency's name (postgres, redis): each resolves once it answers.
   * lifeline_dependency_up runs them as the fleet reads run, at most once per FLEET_READ_MS.
   */
  dependencies?: Record<string, () => Promise<unknown>>;
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
type FleetRead = (typeof FLEET_READS)[number];

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
  let ingest: (() => IngestState) | undefined;
  const dependencies = source ? Object.entries(source.dependencies ?? {}).map(([name, check]) => ({ name, check: periodic(source, check) })) : [];
  /** A gauge set at each scrape from one figure of a backlog read from Postgres; a failed read leaves it as it was. */
  const backlogGauge = (name: string, help: string, backlog: () => Promise<Backlog | undefined>, figure: keyof Backlog) =>
    new Gauge({
      name,
      help,
      registers: r,
      async collect() {
        const value = (await backlog())?.[figure];
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
  const outboxFigures = async () => (await read.outbox())?.value;
  const deliveryFigures = async () => (await read.deliveries())?.value;
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
      const counts = (await read.nodes())?.value;
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
    outboxPending: backlogGauge('lifeline_outbox_pending', 'Outbox events due and not yet handled (timers not due yet are lifeline_outbox_scheduled).', outboxFigures, 'pending'),
    outboxOldest: backlogGauge('lifeline_outbox_oldest_pending_seconds', 'How long the oldest due, unhandled outbox event has been due (a failed one: since it was written).', outboxFigures, 'oldestSeconds'),
    outboxScheduled: backlogGauge('lifeline_outbox_scheduled', 'Outbox events not due yet: escalation and acknowledgement timers armed for later.', outboxFigures, 'scheduled'),
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
        const counts = (await read.incidents())?.value;
        return counts && ((l) => counts.find((c) => c.category === l.category && String(c.acknowledged) === l.acknowledged)?.n ?? 0);
      },
    ),
    deliveriesPending: backlogGauge('lifeline_deliveries_pending', 'Notification deliveries not yet sent or dead (waiting, retrying or held for a digest).', deliveryFigures, 'pending'),
    deliveriesOldest: backlogGauge('lifeline_deliveries_oldest_pending_seconds', 'Age of the oldest unfinished notification delivery.', deliveryFigures, 'oldestSeconds'),
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
    readAge: new Gauge({
      name: 'lifeline_metrics_read_age_seconds',
      help: 'How old the fleet gauges of each read are (nodes: lifeline_nodes; incidents: lifeline_incidents_open; outbox and deliveries: their backlogs): since the last read from Postgres that answered began; +Inf before the first. Read when scraped, at most once per 5 s, a scrape waiting 1 s for the read: a read that misses it leaves the previous answer, one scrape interval and 1 s old. Leave out series 60 s old or more (four 15 s scrape intervals).',
      labelNames: ['read'] as const,
      registers: r,
      async collect() {
        if (!source) return;
        const answers = await Promise.all(FLEET_READS.map(async (what) => [what, await read[what]()] as const));
        const now = source.clock.now().getTime();
        for (const [what, answer] of answers) this.set({ read: what }, answer ? Math.max(0, now - answer.at) / 1000 : Infinity);
      },
    }),
    dependencyUp: new Gauge({
      name: 'lifeline_dependency_up',
      help: "1 while a dependency answers the check /readyz makes of it, 0 while it fails or takes over 1 s, by dependency (postgres, and redis where REDIS_URL is set); checked at most once per 5 s, by scrapes.",
      labelNames: ['dependency'] as const,
      registers: r,
      async collect() {
        const states = await Promise.all(dependencies.map(async ({ name, check }) => [name, (await check()).ok] as const));
        for (const [dependency, up] of states) this.set({ dependency }, up ? 1 : 0);
      },
    }),
    ingestBuffered: new Gauge({
      name: 'lifeline_ingest_buffered_heartbeats',
      help: "Heartbeats (coalesced, one per node) and pings this api process has answered 202 and not yet written to Postgres, those a flush still running took included; 0 without the api role.",
      registers: r,
      collect() {
        if (ingest) this.set(ingest().buffered);
      },
    }),
    ingestLastFlush: new Gauge({
      name: 'lifeline_ingest_last_flush_timestamp_seconds',
      help: "When this api process's last heartbeat flush committed, in Unix seconds (its start before the first); flushes run every LIFELINE_INGEST_FLUSH_MS, with or without heartbeats. 0 without the api role.",
      registers: r,
      collect() {
        if (ingest) this.set(ingest().lastFlushAt.getTime() / 1000);
      },
    }),
    /** Where the ingest gauges read the api's flusher from, at each scrape. */
    watchIngest(state: () => IngestState): void {
      ingest = state;
    },
    buildInfo: new Gauge({
      name: 'lifeline_build_info',
      help: 'Always 1, labelled with the release (version) and the roles this process runs (roles: a comma list in the order api,evaluator,outbox,notifier).',
      labelNames: ['version', 'roles'] as const,
      registers: r,
    }),
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
 * How long a scrape waits for a read from Postgres or Redis before it answers without it: the
 * fleet gauges then keep their last values (lifeline_metrics_read_age_seconds says how old) and
 * the dependency counts as down. A read takes a few ms; 1 s is a tenth of Prometheus's default
 * scrape timeout (10 s), so a scrape of a process whose database hangs still answers, where it
 * waited for the read (2.8-11.7 s, most scrapes timing out, the target flapping between up and
 * down). /readyz gives the same checks 2 s; a scrape is asked more often and by a stricter client.
 */
export const READ_DEADLINE_MS = 1_000;

/** A read's last answer: what it gave, and when (ms since the epoch) the read that gave it began. */
interface Answer<T> {
  value: T;
  at: number;
}

/** One run of a periodic read: when it began, whether it has settled and answered, and the scrapes waiting on it. */
interface Run {
  began: number;
  settled: boolean;
  ok: boolean;
  waiters: Set<() => void>;
}

/**
 * A read run at most once per FLEET_READ_MS, by the clock, and shared by every scrape meanwhile
 * (concurrent ones included). A scrape waits for it at most READ_DEADLINE_MS, then gets the last
 * answer (`ok` false while this one is late or failed). A read still pending after FLEET_READ_MS is
 * joined by one new read, never more: a check stuck on a blackholed connection would otherwise
 * hold lifeline_dependency_up at 0 until the kernel gave up on it (~15 min) after the dependency
 * was back, while a Postgres that does not answer is still not asked by every scrape of a flood.
 */
function periodic<T>(source: MetricsSource, fn: () => Promise<T>, failed?: (err: unknown) => void) {
  let run: Run | undefined;
  let inFlight = 0;
  let last: Answer<T> | undefined;
  const start = (began: number): Run => {
    const started: Run = { began, settled: false, ok: false, waiters: new Set() };
    inFlight++;
    // The one handler on this read: the scrapes waiting on it are told through `waiters`.
    fn()
      .then(
        (value) => {
          // A read that began earlier and answered later does not replace a newer answer.
          if (!last || began >= last.at) last = { value, at: began };
          started.ok = true;
        },
        (err: unknown) => failed?.(err),
      )
      .finally(() => {
        inFlight--;
        started.settled = true;
        for (const wake of started.waiters) wake();
      });
    return started;
  };
  return async (): Promise<{ last: Answer<T> | undefined; ok: boolean }> => {
    const now = source.clock.now().getTime();
    // A clock set back counts as due, so a read is never kept for longer than FLEET_READ_MS.
    const due = !run || now - run.began >= FLEET_READ_MS || now < run.began;
    if (due && (!run || run.settled || inFlight < 2)) run = start(now);
    const current = run!;
    if (!current.settled) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          current.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, READ_DEADLINE_MS);
        current.waiters.add(wake);
      });
    }
    return { last, ok: current.settled && current.ok };
  };
}

/**
 * Gauges read from Postgres, so every process reports the same fleet-wide truth. A failed read
 * keeps the last value rather than failing the whole scrape, is counted (`failed`), and is not
 * tried again before FLEET_READ_MS either; a read that misses READ_DEADLINE_MS keeps them too.
 * Each answers its last successful answer, or nothing before the first.
 */
function databaseReaders(source: MetricsSource | undefined, failed: (what: FleetRead) => void) {
  const reader = <T>(what: FleetRead, fn: (s: MetricsSource) => Promise<T>): (() => Promise<Answer<T> | undefined>) => {
    if (!source) return async () => undefined;
    const read = periodic(source, () => fn(source), (err) => {
      source.log.warn({ err, what }, 'metrics collection query failed');
      failed(what);
    });
    return async () => (await read()).last;
  };
  return {
    nodes: reader('nodes', (s) => countNodesByState(s.sql)),
    incidents: reader('incidents', (s) => countOpenIncidents(s.sql)),
    outbox: reader('outbox', (s) => outboxBacklog(s.sql, s.clock.now())),
    deliveries: reader('deliveries', (s) => deliveryBacklog(s.sql, s.clock.now())),
  } satisfies Record<string, () => Promise<Answer<unknown> | undefined>>;
}
