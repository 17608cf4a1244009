import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { redact } from './config.ts';

export type { Logger };

const CENSOR = '[redacted]';

/*
 * A name holds a credential or carries one when one of its parts (split at `_`, `-`, `.`, spaces and
 * camelCase, without case) is a credential word: bearer headers and cookies, passwords, secrets
 * and tokens of any kind (node tokens, `whsec_…` signing secrets), credentials, auth, signatures,
 * DSNs, and the URLs that are secrets themselves (Slack webhook URLs, a webhook channel's `url`,
 * ping URLs). A part written as one word keeps its credential suffix (`nodetoken`, `webhookurl`,
 * `routingkey`). `key` counts only as a whole part ending a longer name (`ping_key`, `routing_key`,
 * `api_key`): the bare `key` is an outbox event's key in the logs, a node id, and `monkey` or
 * `key_id` name nothing secret. A `url` counts alone or after `webhook`, `hook` or `ping`: the
 * console's address (`console_url`) is what the start's log is for, and a URL's password or
 * token in any text is masked anyway (redactText).
 */
const CREDENTIAL_PART = /^(auth|pass|pwd|dsn|sig|credentials?|signature|.*(token|secret|password|passwd|cookie|authorization|webhookurl|pingurl|apikey|routingkey|pingkey))$/;
const SECRET_URL_OWNER = new Set(['webhook', 'hook', 'ping']);

const nameParts = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((part) => part !== '');

/** Whether a field of this name holds a credential or carries one (CREDENTIAL_PART); the audit log hides the same fields. */
export function isSensitive(name: string): boolean {
  const parts = nameParts(name);
  if (parts.some((part) => CREDENTIAL_PART.test(part))) return true;
  if (parts.at(-1) === 'url') return parts.length === 1 || SECRET_URL_OWNER.has(parts.at(-2)!);
  return parts.length > 1 && parts.at(-1) === 'key';
}

/**
 * A query parameter in text, its name and value: masked when the name is sensitive, or the bare
 * `key` (`?key=` is how many services take an API key), by redactText.
 */
const QUERY_VALUE = /([?&;])([^=&#\s"'<>]+)=([^&#\s"'<>]*)/g;

// Deeper than any object the engine logs; past it a value is censored rather than walked.
const MAX_DEPTH = 16;

/** A copy of `value` with `changes` over its own properties, of the same prototype (an Error stays one). */
function withChanges<T extends object>(value: T, changes: Record<string, unknown>): T {
  if (Array.isArray(value)) return Object.assign([...value], changes) as T;
  const copy = Object.create(Object.getPrototypeOf(value), Object.getOwnPropertyDescriptors(value)) as T;
  return Object.assign(copy, changes);
}

/**
 * `text` with every URL's password masked and the value of each credential query parameter
 * (`token=`, `key=`, `sig=`: QUERY_VALUE) as `***`; the same text when it names no URL.
 */
function redactText(text: string): string {
  if (!text.includes('://')) return text;
  const masked = text.includes('@') ? redact(text) : text;
  if (!masked.includes('=')) return masked;
  return masked.replace(QUERY_VALUE, (whole, lead: string, name: string) => (name.toLowerCase() === 'key' || isSensitive(name) ? `${lead}${name}=***` : whole));
}

/**
 * The value with every sensitive field (`hidden`: isSensitive unless told) censored at any depth, untouched (the same object) when
 * there is nothing to censor; a URL's password in any string is masked (redact). pino's own `redact` names fixed paths (`*.token` is one level only), so
 * a credential nested one object deeper would leak. Errors are walked too (their own fields and
 * `cause`) and stay errors, so pino still writes their type, message and stack.
 */
export function redactDeep(value: unknown, hidden: (key: string) => boolean = isSensitive, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
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
    if (value instanceof Error) {
      // Not enumerable, and a driver's message may name the URL it failed on, password and all.
      fields.push(['message', value.message], ['stack', value.stack]);
      if (value.cause !== undefined) fields.push(['cause', value.cause]);
    }
    for (const [key, item] of fields) {
      const sensitive = !Array.isArray(value) && hidden(key) && item !== undefined && item !== null;
      const redacted = sensitive ? CENSOR : redactDeep(item, hidden, depth + 1, seen);
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
 * Logs on stdout (or `destination`): JSON for collectors, or pino-pretty's one line per event when
 * a person watches a terminal (`npm start` at a prompt). Anything that looks like a credential is
 * censored at any depth so a logged request, config or error can never leak a secret.
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  human = destination === undefined && process.stdout.isTTY === true,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'lifeline' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { log: (object) => redactDeep(object) as Record<string, unknown> },
    // The message too: a line such as "Redis at redis://:pw@host" carries its URL in the text.
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
  if (destination) return pino(options, destination);
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
