// `lifeline run --ping-url URL -- cmd args…`: a cron job's wrapper. It pings start, runs the
// command with the caller's stdin, stdout and stderr, pings the exit code with the last 10 KB of
// what the command printed, and exits with the command's own code. Lifeline being unreachable
// never changes that code: each ping is tried a few times within seconds, then a warning goes to
// stderr and the job's own result stands.

import { spawn } from 'node:child_process';
import { OutputTail } from '../jobs/model.ts';
import { UsageError, type Command, type Context } from './command.ts';

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

/**
 * Runs `argv` with inherited stdin and copies of stdout and stderr passed through as they come,
 * the tail kept for the end ping. Resolves with its exit code: a signal is 128 + its number as a
 * shell reports it, a command that cannot be started is 127 (not found) or 126.
 */
export function runCommand(argv: string[], tail: OutputTail, io: { stdout: (b: Buffer) => void; stderr: (b: Buffer) => void }): Promise<number> {
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
    child.stdout.on('data', (b: Buffer) => {
      io.stdout(b);
      tail.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      io.stderr(b);
      tail.push(b);
    });
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
      const number = signal ? (osSignals[signal] ?? 0) : 0;
      resolve(128 + number);
    });
  });
}

const osSignals: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15, SIGABRT: 6 };

function pingUrl(ctx: Context): URL {
  const raw = ctx.string('ping-url') ?? ctx.io.env.LIFELINE_PING_URL;
  if (!raw) throw new UsageError('no ping URL: pass --ping-url or set LIFELINE_PING_URL', ctx.command);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--ping-url must be a URL, got "${raw}"`, ctx.command);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--ping-url must be an http or https URL', ctx.command);
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** The wrapper with its pinger and output as arguments, for tests. */
export async function wrap(
  url: URL,
  argv: string[],
  io: { stdout: (b: Buffer) => void; stderr: (b: Buffer) => void; warn: (line: string) => void },
  ping: Pinger = fetchPing,
  pauseMs = RETRY_PAUSE_MS,
): Promise<number> {
  const at = (suffix: string) => `${url.origin}${url.pathname}${suffix}${url.search}`;
  await pingPatiently(ping, at('/start'), io.warn, undefined, pauseMs);
  const tail = new OutputTail();
  const code = await runCommand(argv, tail, io);
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
      stdout: (b) => void process.stdout.write(b),
      stderr: (b) => void process.stderr.write(b),
      warn: (line) => ctx.io.stderr(line),
    });
  },
};
