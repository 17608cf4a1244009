import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

/**
 * Logs on stdout: JSON for collectors, or pino-pretty's one line per event when a person watches
 * a terminal (`npm start` at a prompt). Anything that looks like a credential is redacted by path
 * so a logged request or config object can never leak a secret.
 */
export function createLogger(level: string, human = process.stdout.isTTY === true): Logger {
  const options = {
    level,
    base: { service: 'lifeline' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['token', 'secret', 'authorization', '*.token', '*.secret', '*.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  };
  if (!human) return pino(options);
  // In this thread and synchronous: a line is on screen before the next statement runs, and the
  // last lines of a stop are not lost to process.exit.
  return pino(options, PinoPretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
}

type Write = (fields: Record<string, unknown>, msg: string) => void;

/**
 * A line that would repeat for as long as something stays broken (a dead Redis reconnecting every
 * second, a loop failing every pass) is written at most once per `everyMs`, saying how many were
 * held back.
 */
export function throttled(write: Write, everyMs = 60_000, clock: () => number = Date.now): Write {
  let last = -Infinity;
  let held = 0;
  return (fields, msg) => {
    const now = clock();
    if (now - last < everyMs) {
      held++;
      return;
    }
    write({ ...fields, ...(held ? { repeated: held } : {}) }, msg);
    last = now;
    held = 0;
  };
}

/** `throttled` at warn level. */
export function throttledWarning(log: Pick<Logger, 'warn'>, everyMs?: number, clock?: () => number): Write {
  return throttled((fields, msg) => log.warn(fields, msg), everyMs, clock);
}
