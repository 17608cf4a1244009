import { evaluateChecks, sampleHost, type Checks } from './agent-checks.ts';
import { runAgent, type Beat } from './agent-loop.ts';
import { API_OPTIONS, UsageError, type Command } from './command.ts';
import { duration } from './format.ts';

const line = (checks: Checks) =>
  Object.entries(checks)
    .map(([name, c]) => `${name} ${c.status}${c.message ? ` (${c.message})` : ''}`)
    .join(' · ');

function describe(beat: Beat, node: string | undefined): string {
  const head = `${new Date().toISOString()} ${node ?? 'heartbeat'} #${beat.count}`;
  if (beat.ok) return `${head} sent: ${line(beat.checks)}`;
  return `${head} failed: ${beat.error.message}; retrying in ${duration(beat.retryInMs)}`;
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'post heartbeats with disk, load and memory checks until stopped',
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
        collect: async () => evaluateChecks(await sampleHost()),
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
