import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout. Anything that looks like a credential is redacted by path so a logged
 * request or config object can never leak a secret.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'lifeline' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['token', 'secret', 'authorization', '*.token', '*.secret', '*.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
