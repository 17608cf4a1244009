// `lifeline run --ping-url URL -- cmd args…`: a cron job's wrapper. It pings start, runs the
// command with the caller's stdin, stdout and stderr, pings the exit code with the last 10 KB of
// what the command printed, and exits with the command's own code. Lifeline being unreachable
// never changes that code: each ping is tried a few times within seconds, then a warning goes to
// stderr and the job's own result stands.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { OutputTail } from '../jobs/model.ts';
import { httpUrl, UsageError, type Command, type Context } from './command.ts';

/** Attempts per ping and the pause after each failed one: about 5 s in all with 2 s timeouts. */
const ATTEMPTS = 3;
const RETRY_PAUSE_MS = 500;
const PING_TIMEOUT_MS = 2_000;

export interface Pinger {
  (url: string, body?: Buffer): Promise<void>;
}

/** One ping with a timeout: a 2xx answer, or an error saying what went wrong. */
const fetchPing: Pinger = async (url, body) => {
  const res = await fetch(url, {
    method: body ? 'POST' : 'GET',
    ...(body ? { body: new Uint8Array(body), headers: { 'content-type': 'text/plain; charset=utf-8' } } : {}),
    signal: AbortSignal.timeout(PING_TIMEOUT_MS),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
};

/** Tries a ping ATTEMPTS times; warns on stderr if none got through. Never throws. */
export async function pingPatiently(ping: Pinger, url: string, warn: (line: string) => void, body?: Buffer, pauseMs = RETRY_PAUSE_MS): Promise<boolean> {
  let last: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      await ping(url, body);
      return true;
    } catch (err) {
      last = err;
      // A 4xx will not get better by asking again (an unknown key, a body refused).
      if (err instanceof Error && /^HTTP 4\d\d$/.test(err.message)) break;
      if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  const why = last instanceof Error ? (last.cause instanceof Error ? last.cause.message : last.message) : String(last);
  warn(`lifeline: could not ping ${new URL(url).pathname.replace(/\/ping\/[^/]+/, '/ping/…')} (${why}); the command's own exit code stands\n`);
  return false;
}

/** Where a command's output is copied, told which of the command's streams it came from. */
type Output = (b: Buffer | string, from?: Readable) => void;

/**
 * Runs `argv` with inherited stdin and copies of stdout and stderr passed through as they come,
 * the tail kept for the end ping. Resolves with its exit code: a signal is 128 + its number as a
 * shell reports it, a command that cannot be started is 127 (not found) or 126.
 */
export function runCommand(argv: string[], tail: OutputTail, io: { stdout: Output; stderr: Output }): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['inherit', 'pipe', 'pipe'] });
    // Ctrl-C reaches the command from the terminal (one process group): the wrapper outlives it to
    // report its code. A TERM or HUP sent to the wrapper alone is passed on.
    const ignore = () => {};
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    child.on('close', () => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
    });
    for (const [from, to] of [[child.stdout, io.stdout], [child.stderr, io.stderr]] as const) {
      from.on('data', (b: Buffer) => {
        to(b, from);
        tail.push(b);
      });
    }
    child.on('error', (err: NodeJS.ErrnoException) => {
      const line = Buffer.from(`lifeline: cannot run ${argv[0]}: ${err.message}\n`);
      io.stderr(line);
      tail.push(line);
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      resolve(err.code === 'ENOENT' ? 127 : 126);
    });
    child.on('close', (code, signal) => {
      if (code !== null) return resolve(code);
      resolve(128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

/**
 * Copies a child's output to one of ours until writing there fails, and never lets that failure
 * end the wrapper (an unhandled 'error' event would: exit 1, no end ping). A reader that went
 * away (`lifeline run … | head -1`, EPIPE) gets the child's end of the pipe closed, so the
 * command meets a closed pipe as it would have without the wrapper (SIGPIPE, 141 in a shell);
 * any other failure (a full disk) only stops the copying, and the command runs on, its output
 * still read and its tail still kept for the end ping.
 */
export function relay(to: Writable): Output {
  let failed = false;
  let source: Readable | undefined;
  to.on('error', (err: NodeJS.ErrnoException) => {
    failed = true;
    if (err.code === 'EPIPE') source?.destroy();
  });
  return (b, from) => {
    source = from;
    if (!failed) to.write(b);
  };
}

function pingUrl(ctx: Context): URL {
  const given = ctx.setting('ping-url', 'LIFELINE_PING_URL');
  if (!given?.value) throw new UsageError('no ping URL: pass --ping-url or set LIFELINE_PING_URL', ctx.command);
  const url = httpUrl(given.value, given.source, ctx.command);
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** The wrapper with its pinger and output as arguments, for tests. */
export async function wrap(
  url: URL,
  argv: string[],
  io: { stdout: Output; stderr: Output; warn: (line: string) => void },
  ping: Pinger = fetchPing,
  pauseMs = RETRY_PAUSE_MS,
): Promise<number> {
  // A run id of this run's own on its start and its end, so runs of one job that overlap (a slow
  // run still going when cron starts the next) are each paired with their own end.
  const rid = randomUUID();
  const at = (suffix: string) => {
    const ping = new URL(url);
    ping.pathname += suffix;
    ping.searchParams.set('rid', rid);
    return ping.href;
  };
  // A TERM or HUP during the start ping (up to about 7 s) used to kill the wrapper with no end
  // ping, leaving the run `running`: it is remembered, the command is not started, and the end
  // is pinged as 128 + its number, as if the command had met it.
  let early: NodeJS.Signals | undefined;
  const remember = (signal: NodeJS.Signals) => void (early ??= signal);
  process.on('SIGTERM', remember);
  process.on('SIGHUP', remember);
  try {
    await pingPatiently(ping, at('/start'), io.warn, undefined, pauseMs);
  } finally {
    // runCommand installs its own handlers in the same tick, before the command can start.
    process.off('SIGTERM', remember);
    process.off('SIGHUP', remember);
  }
  const tail = new OutputTail();
  const code = early ? 128 + constants.signals[early] : await runCommand(argv, tail, io);
  await pingPatiently(ping, at(`/${Math.min(code, 255)}`), io.warn, Buffer.from(tail.text() ?? '', 'utf8'), pauseMs);
  return code;
}

export const runJobCommand: Command = {
  name: 'run',
  args: ['<command...>'],
  summary: 'run a command and report its start, exit code and output to a ping URL',
  example: 'lifeline run --ping-url https://lifeline.example.com/ping/$KEY -- backup.sh --full',
  options: {
    'ping-url': { type: 'string', hint: 'url', description: "the job's ping URL (LIFELINE_PING_URL)" },
  },
  async run(ctx) {
    const url = pingUrl(ctx);
    return wrap(url, ctx.rest(0), {
      stdout: relay(process.stdout),
      stderr: relay(process.stderr),
      warn: (line) => ctx.io.stderr(line),
    });
  },
};
