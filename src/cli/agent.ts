import { CHECK_NAMES, evaluateChecks, parseCheckList, parseLimits, sampleHost, THRESHOLDS, type CheckConfig, type CheckLimits, type CheckName, type Checks } from './agent-checks.ts';
import { runAgent, type Beat } from './agent-loop.ts';
import { API_OPTIONS, UsageError, type Command, type Context } from './command.ts';
import { duration } from './format.ts';

const line = (checks: Checks) =>
  Object.entries(checks)
    .map(([name, c]) => `${name} ${c.status}${c.message ? ` (${c.message})` : ''}`)
    .join(' · ');

function describe(beat: Beat, node: string | undefined): string {
  const head = `${new Date().toISOString()} ${node ?? 'heartbeat'} #${beat.count}`;
  if (beat.ok) return Object.keys(beat.checks).length ? `${head} sent: ${line(beat.checks)}` : `${head} sent (no checks)`;
  return `${head} failed: ${beat.error.message}; retrying in ${duration(beat.retryInMs)}`;
}

const pair = (l: { warn: number; fail: number }) => `${l.warn}:${l.fail}`;

/** The flag that sets each check's limits, and which way its figure goes bad. */
const LIMIT_FLAGS: Array<{ flag: string; check: CheckName; key: keyof CheckLimits; direction: 'above' | 'below' }> = [
  { flag: 'disk-free', check: 'disk', key: 'diskFreePercent', direction: 'below' },
  { flag: 'memory-free', check: 'memory', key: 'memoryFreePercent', direction: 'below' },
  { flag: 'load-per-core', check: 'load', key: 'loadPerCore', direction: 'above' },
];

/** --checks and the limit flags, or a usage error naming the flag (a limit for a check not sent would be ignored silently). */
function checkConfig(ctx: Context): CheckConfig {
  const listed = ctx.string('checks');
  const checks = listed === undefined ? CHECK_NAMES : parseCheckList(listed);
  if ('problem' in checks) throw new UsageError(`--checks ${checks.problem}`, ctx.command);
  const limits: CheckLimits = { ...THRESHOLDS };
  for (const { flag, check, key, direction } of LIMIT_FLAGS) {
    const raw = ctx.string(flag);
    if (raw === undefined) continue;
    const parsed = parseLimits(raw, direction);
    if ('problem' in parsed) throw new UsageError(`--${flag} ${parsed.problem}`, ctx.command);
    if (!checks.includes(check)) throw new UsageError(`--${flag} has no effect without ${check} in --checks`, ctx.command);
    limits[key] = parsed;
  }
  return { checks, limits };
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'post heartbeats, with disk, load and memory checks unless told otherwise, until stopped',
  example: 'lifeline agent --node web-1 --interval 10 --token-file /etc/lifeline/token',
  // No --token: the agent runs for months, and its command line is there for every user to read
  // with ps. The secret comes from a file or the environment; --token is taken only to say so.
  options: {
    url: API_OPTIONS.url,
    'token-file': API_OPTIONS['token-file'],
    token: { ...API_OPTIONS.token, hidden: true },
    node: { type: 'string', hint: 'name', description: 'which node (needed with an ingest key)' },
    interval: { type: 'string', hint: '30', description: 'seconds between heartbeats' },
    quiet: { type: 'boolean', description: 'print only failures' },
    checks: { type: 'string', hint: 'list', description: `checks to send, comma-separated: ${CHECK_NAMES.join(',')}, or none for plain heartbeats (default ${CHECK_NAMES.join(',')})` },
    'disk-free': { type: 'string', hint: 'warn:fail', description: `% free on the disk below which disk warns and fails (default ${pair(THRESHOLDS.diskFreePercent)})` },
    'memory-free': { type: 'string', hint: 'warn:fail', description: `% memory available below which memory warns and fails (default ${pair(THRESHOLDS.memoryFreePercent)})` },
    'load-per-core': { type: 'string', hint: 'warn:fail', description: `1-minute load per core above which load warns and fails (default ${pair(THRESHOLDS.loadPerCore)})` },
  },
  async run(ctx) {
    if (ctx.string('token') !== undefined) {
      throw new UsageError(
        'the agent takes no --token: a command line is there for every user to read with ps. Put the token in a file only its user reads and pass --token-file (or LIFELINE_TOKEN_FILE), or set LIFELINE_TOKEN',
        ctx.command,
      );
    }
    const intervalMs = ctx.int('interval', 30, 1) * 1000;
    const node = ctx.string('node');
    const quiet = ctx.flag('quiet');
    const config = checkConfig(ctx);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await runAgent({
        // A heartbeat older than its interval is worth less than the next one: give up on it by then.
        client: ctx.client(Math.min(intervalMs, 10_000)),
        node,
        intervalMs,
        // With no checks the host is not read at all: the heartbeat only says the agent is alive.
        collect: config.checks.length ? async () => evaluateChecks(await sampleHost(), config) : () => ({}),
        signal: stop.signal,
        onBeat: (beat) => {
          if (!beat.ok) ctx.io.stderr(describe(beat, node) + '\n');
          else if (!quiet) ctx.io.stdout(describe(beat, node) + '\n');
        },
      });
      ctx.io.stdout(`${new Date().toISOString()} stopped\n`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
