// `npm run bench [-- flags]`: measures Lifeline against its targets, each figure beside a naive
// baseline run in the same invocation, and prints one markdown report on stdout (progress on
// stderr). Every section works in databases and processes it creates and removes itself.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { postgresVersion } from './databases.ts';
import { benchDetection } from './detection.ts';
import { benchEvaluator } from './evaluator.ts';
import { benchFailover } from './failover.ts';
import { benchIngest } from './ingest.ts';
import { benchIngestStages } from './ingest-stages.ts';
import { progress } from './log.ts';
import { benchMetrics } from './metrics.ts';
import { benchMillion } from './million.ts';
import { helpText, parseOptions, type BenchOptions, type SectionName } from './options.ts';
import { benchNotifier } from './notifier.ts';
import { benchOnCall } from './oncall.ts';
import { benchSchedules } from './oncall-schedules.ts';
import { benchOutbox } from './outbox.ts';
import { renderReport, section, type Header, type Section } from './report.ts';
import { Scope } from './scope.ts';
import { benchStatusPages } from './status-pages.ts';
import { benchUptime } from './uptime-section.ts';
import { benchConsole } from './console.tsx';
import { benchQueues } from './queues.ts';
import { benchHostile } from './hostile.ts';

const RUNNERS: Record<SectionName, (o: BenchOptions, scope: Scope) => Promise<Section>> = {
  ingest: benchIngest,
  stages: benchIngestStages,
  evaluator: benchEvaluator,
  detection: benchDetection,
  outbox: benchOutbox,
  metrics: benchMetrics,
  failover: benchFailover,
  oncall: benchOnCall,
  notifier: benchNotifier,
  uptime: benchUptime,
  schedules: benchSchedules,
  status: benchStatusPages,
  console: benchConsole,
  queues: benchQueues,
  million: benchMillion,
  hostile: benchHostile,
};

const TITLES: Record<SectionName, string> = {
  ingest: '1. Heartbeat and ping ingest',
  stages: '1b. Single heartbeat, stage by stage',
  evaluator: '2. Evaluator tick',
  detection: '3. Detection latency',
  outbox: '4. Outbox dispatch',
  metrics: '5. /metrics',
  failover: '6. Failover and graceful stop',
  oncall: '7. On-call in a mass outage',
  notifier: '7b. Notifier: webhook deliveries, two processes',
  uptime: '8. Uptime over a year of history',
  schedules: '9. Who is on call',
  status: '10. Status pages and badges',
  console: '11. Console pages',
  queues: '12. Notification queues: Postgres beside Redis',
  million: '13. A million nodes on one machine',
  hostile: '14. Hostile bodies',
};

/** The message, stack and causes of an error (fetch hides the reason in `cause`). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause === undefined ? '' : `\ncaused by: ${describe(err.cause)}`;
  return `${err.stack ?? err.message}${cause}`;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

async function header(argv: string[]): Promise<Header> {
  const cpus = os.cpus();
  const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
  return {
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: [
      `machine: ${cpus.length} cores × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${gib(os.totalmem())} memory, ${os.type()} ${os.release()}`,
      `Node ${process.version}, PostgreSQL ${await postgresVersion()}`,
      `load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')} (other work on the machine makes figures noisy)`,
    ],
  };
}

let current: Scope | undefined;

// An interrupted run still stops its children and drops its databases (children are also killed
// by the exit hook in children.ts if this cleanup cannot finish in time).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up`);
    const cap = setTimeout(() => process.exit(130), 15_000);
    void (current?.close() ?? Promise.resolve()).finally(() => {
      clearTimeout(cap);
      process.exit(130);
    });
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let opts: BenchOptions | 'help';
  try {
    opts = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${helpText}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(helpText);
    return 0;
  }

  const head = await header(argv);
  const sections: Section[] = [];
  let failed = 0;
  for (const name of opts.only) {
    progress(`section ${name}: start`);
    const scope = new Scope();
    current = scope;
    const started = performance.now();
    try {
      sections.push(await RUNNERS[name](opts, scope));
    } catch (err) {
      failed += 1;
      const s = section(`${TITLES[name]} — FAILED`);
      s.notes.push(`The section stopped with an error: ${describe(err)}`.replace(/\n/g, '\n  '));
      sections.push(s);
      progress(`section ${name}: FAILED: ${describe(err)}`);
    } finally {
      await scope.close();
      current = undefined;
    }
    progress(`section ${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  process.stdout.write(renderReport(head, sections));
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
