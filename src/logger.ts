import { pino, type Logger } from 'pino';

export type { Logger };

const CENSOR = '[redacted]';

/*
 * Field names whose values are credentials or carry one, compared without case, `-` or `_`:
 * bearer headers and cookies, secrets and tokens of any kind (node tokens, `whsec_…` signing
 * secrets), PagerDuty routing keys, and URLs that are themselves secrets (Slack webhook URLs, a
 * webhook channel's `url`, ping URLs).
 */
const SENSITIVE = /^(authorization|proxyauthorization|cookie|setcookie|password|passwd|apikey|routingkey|url|webhookurl|pingurl|.*token|.*secret)$/;

const isSensitive = (key: string) => SENSITIVE.test(key.toLowerCase().replace(/[-_]/g, ''));

// Deeper than any object the engine logs; past it a value is censored rather than walked.
const MAX_DEPTH = 16;

/** A copy of `value` with `changes` over its own properties, of the same prototype (an Error stays one). */
function withChanges<T extends object>(value: T, changes: Record<string, unknown>): T {
  if (Array.isArray(value)) return Object.assign([...value], changes) as T;
  const copy = Object.create(Object.getPrototypeOf(value), Object.getOwnPropertyDescriptors(value)) as T;
  return Object.assign(copy, changes);
}

/**
 * The value with every sensitive field censored at any depth, untouched (the same object) when
 * there is nothing to censor. pino's own `redact` names fixed paths (`*.token` is one level only), so
 * a credential nested one object deeper would leak. Errors are walked too (their own fields and
 * `cause`) and stay errors, so pino still writes their type, message and stack.
 */
export function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return CENSOR;
  if (seen.has(value)) return '[circular]';
  const proto = Object.getPrototypeOf(value);
  // Dates, buffers and other class instances log as they always did.
  if (!Array.isArray(value) && !(value instanceof Error) && proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  try {
    const changes: Record<string, unknown> = {};
    let changed = false;
    const fields = Object.entries(value);
    if (value instanceof Error && value.cause !== undefined) fields.push(['cause', value.cause]);
    for (const [key, item] of fields) {
      const sensitive = !Array.isArray(value) && isSensitive(key) && item !== undefined && item !== null;
      const redacted = sensitive ? CENSOR : redactDeep(item, depth + 1, seen);
      if (redacted !== item) {
        changes[key] = redacted;
        changed = true;
      }
    }
    return changed ? withChanges(value, changes) : value;
  } finally {
    seen.delete(value);
  }
}

/**
 * JSON logs on stdout (or `destination`). Anything that looks like a credential is censored at any
 * depth so a logged request, config or error can never leak a secret.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'lifeline' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { log: (object) => redactDeep(object) as Record<string, unknown> },
  };
  return destination ? pino(options, destination) : pino(options);
}
