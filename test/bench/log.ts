import { pino } from 'pino';

/**
 * Logger for engine components the benchmark runs in-process (evaluator, outbox dispatchers):
 * warnings and errors only, on stderr, so they never mix into the report on stdout.
 */
export const benchLog = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'warn', base: { service: 'lifeline-bench' } }, pino.destination(2));

const started = performance.now();

/** A progress line on stderr, stamped with seconds since the run began. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);
}
