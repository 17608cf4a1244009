import { parseArgs } from 'node:util';

export const SECTIONS = ['ingest', 'stages', 'evaluator', 'detection', 'outbox', 'metrics', 'failover', 'oncall', 'notifier', 'uptime', 'schedules', 'status', 'console', 'queues', 'million', 'hostile'] as const;
// Run only when named: seeding and judging a million nodes takes many minutes on its own.
const ON_REQUEST: readonly SectionName[] = ['million'];
export type SectionName = (typeof SECTIONS)[number];

export interface BenchOptions {
  only: SectionName[];
  /** Fleet size for detection, /metrics and outbox keys; the evaluator's sizes default to N and 10N. */
  nodes: number;
  /** Nodes whose tokens the single-heartbeat load rotates over. */
  ingestNodes: number;
  /** Seconds of each measured HTTP load run and of the outbox steady-state phase. */
  duration: number;
  connections: number;
  batchConnections: number;
  evalSizes: number[];
  /** The evaluator section reads each batch in its own transaction, as without a pool to read ahead on. */
  evalNoReadAhead: boolean;
  outboxEvents: number;
  outboxKeys: number;
  outboxBaselineEvents: number;
  /** Offered outbox event rate for the latency phase (the rate its target is stated at). */
  outboxRate: number;
  /** Over how long the detection run spreads its heartbeats (deadlines are spread alike). */
  detectSpreadMs: number;
  scrapes: number;
  failoverRounds: number;
  stopRounds: number;
  /** Time cap for one row-by-row baseline run; a larger size is skipped if its estimate exceeds it. */
  baselineCapSeconds: number;
  /** Nodes that go down at once in the on-call outage, and in its one-at-a-time baseline. */
  oncallNodes: number;
  oncallBaselineNodes: number;
  /** Start the on-call notifier only once the outbox is empty: the page path alone, without sends competing. */
  oncallPagesOnly: boolean;
  /** Webhook deliveries sent by two notifier processes, for Lifeline and again for its baseline. */
  notifierDeliveries: number;
  /** Fleet and days of history for the uptime section. */
  uptimeNodes: number;
  uptimeDays: number;
  /** Schedules asked who is on call at once. */
  schedules: number;
  /** Nodes behind the benchmarked status page (20 components), and its request rate beside ingest. */
  statusNodes: number;
  statusRate: number;
  /** Timed requests per console page (and single transitions timed through the live feed). */
  consoleRequests: number;
  /** Jobs added and taken on each queue backend. */
  queueJobs: number;
  /** Fleet of the capacity-plan section. */
  millionNodes: number;
}

const HELP = `npm run bench -- [flags]

  --only LIST                 comma list of ${SECTIONS.join(',')} (default: all but million)
  --nodes N                   fleet size for detection, /metrics, outbox keys, on-call, uptime (default 10000)
  --ingest-nodes N            node tokens the ingest load rotates over (default min(1000, nodes))
  --duration S                seconds per HTTP load run and outbox steady phase (default 10)
  --connections N             connections for single-heartbeat load (default 100)
  --batch-connections N       connections for batch load (default 10)
  --eval-sizes LIST           evaluator fleet sizes (default nodes,10*nodes)
  --eval-1m                   also run the evaluator at 1,000,000 nodes
  --eval-no-read-ahead        evaluator section: no batch read on the pool while the last is written
  --outbox-events N           events drained by the outbox bench (default 5*nodes)
  --outbox-keys N             distinct keys among them (default nodes)
  --outbox-baseline-events N  events for the one-at-a-time baseline (default nodes)
  --outbox-rate N             offered events/s in the latency phase (default 5000)
  --detect-spread-ms MS       heartbeats (and so deadlines) spread over this long (default 1000)
  --scrapes N                 /metrics scrapes timed (default 50)
  --failover-rounds N         leader kills (default 5)
  --stop-rounds N             graceful stops timed (default 3)
  --baseline-cap S            longest one row-by-row baseline may run (default 120)
  --oncall-nodes N            nodes down at once in the on-call outage (default nodes)
  --oncall-baseline-nodes N   nodes in its one-event-per-transaction baseline (default min(2000, oncall-nodes))
  --oncall-pages-only         start the on-call notifier only once the outbox is empty (the page path alone)
  --notifier-deliveries N     webhook deliveries sent by two notifier processes, each run (default 20000)
  --uptime-nodes N            fleet with a history for the uptime section (default nodes)
  --uptime-days D             days of history (default 365)
  --schedules N               on-call schedules asked at once (default 1000)
  --status-nodes N            nodes behind the status page of 20 components (default 500)
  --status-rate N             status page requests/s sent beside heartbeat ingest (default 1000)
  --console-requests N        timed requests per console page (default 50)
  --queue-jobs N              jobs added and taken on each queue backend, Redis and Postgres (default 10000)
  --million-nodes N           fleet of the million section, run only when named (default 1000000)
`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      only: { type: 'string' },
      nodes: { type: 'string' },
      'ingest-nodes': { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      'batch-connections': { type: 'string' },
      'eval-sizes': { type: 'string' },
      'eval-1m': { type: 'boolean' },
      'eval-no-read-ahead': { type: 'boolean' },
      'outbox-events': { type: 'string' },
      'outbox-keys': { type: 'string' },
      'outbox-baseline-events': { type: 'string' },
      'outbox-rate': { type: 'string' },
      'detect-spread-ms': { type: 'string' },
      scrapes: { type: 'string' },
      'failover-rounds': { type: 'string' },
      'stop-rounds': { type: 'string' },
      'baseline-cap': { type: 'string' },
      'oncall-nodes': { type: 'string' },
      'oncall-baseline-nodes': { type: 'string' },
      'oncall-pages-only': { type: 'boolean' },
      'notifier-deliveries': { type: 'string' },
      'uptime-nodes': { type: 'string' },
      'uptime-days': { type: 'string' },
      schedules: { type: 'string' },
      'status-nodes': { type: 'string' },
      'status-rate': { type: 'string' },
      'console-requests': { type: 'string' },
      'queue-jobs': { type: 'string' },
      'million-nodes': { type: 'string' },
    },
  });
  if (values.help) return 'help';

  const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : SECTIONS.filter((s) => !ON_REQUEST.includes(s));
  for (const s of only) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section "${s}" (expected ${SECTIONS.join(',')})`);
  }
  const nodes = positiveInt('nodes', values.nodes, 10_000);
  const evalSizes = values['eval-sizes']
    ? values['eval-sizes'].split(',').map((s) => positiveInt('eval-sizes', s.trim(), 0))
    : [nodes, 10 * nodes];
  if (values['eval-1m'] && !evalSizes.includes(1_000_000)) evalSizes.push(1_000_000);
  const oncallNodes = positiveInt('oncall-nodes', values['oncall-nodes'], nodes);

  return {
    only: SECTIONS.filter((s) => only.includes(s)),
    nodes,
    ingestNodes: positiveInt('ingest-nodes', values['ingest-nodes'], Math.min(1000, nodes)),
    duration: positiveInt('duration', values.duration, 10),
    connections: positiveInt('connections', values.connections, 100),
    batchConnections: positiveInt('batch-connections', values['batch-connections'], 10),
    evalSizes,
    evalNoReadAhead: values['eval-no-read-ahead'] === true,
    outboxEvents: positiveInt('outbox-events', values['outbox-events'], 5 * nodes),
    outboxKeys: positiveInt('outbox-keys', values['outbox-keys'], nodes),
    outboxBaselineEvents: positiveInt('outbox-baseline-events', values['outbox-baseline-events'], nodes),
    outboxRate: positiveInt('outbox-rate', values['outbox-rate'], 5000),
    detectSpreadMs: positiveInt('detect-spread-ms', values['detect-spread-ms'], 1000),
    scrapes: positiveInt('scrapes', values.scrapes, 50),
    failoverRounds: positiveInt('failover-rounds', values['failover-rounds'], 5),
    stopRounds: positiveInt('stop-rounds', values['stop-rounds'], 3),
    baselineCapSeconds: positiveInt('baseline-cap', values['baseline-cap'], 120),
    oncallNodes,
    oncallBaselineNodes: positiveInt('oncall-baseline-nodes', values['oncall-baseline-nodes'], Math.min(2000, oncallNodes)),
    oncallPagesOnly: values['oncall-pages-only'] === true,
    notifierDeliveries: positiveInt('notifier-deliveries', values['notifier-deliveries'], 20_000),
    uptimeNodes: positiveInt('uptime-nodes', values['uptime-nodes'], nodes),
    uptimeDays: positiveInt('uptime-days', values['uptime-days'], 365),
    schedules: positiveInt('schedules', values.schedules, 1000),
    statusNodes: positiveInt('status-nodes', values['status-nodes'], 500),
    statusRate: positiveInt('status-rate', values['status-rate'], 1000),
    consoleRequests: positiveInt('console-requests', values['console-requests'], 50),
    queueJobs: positiveInt('queue-jobs', values['queue-jobs'], 10_000),
    millionNodes: positiveInt('million-nodes', values['million-nodes'], 1_000_000),
  };
}

export const helpText = HELP;
