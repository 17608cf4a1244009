// Every failed delivery is a DeliveryError whose `permanent` flag decides between retrying with
// backoff and giving up at once (the notifier turns it into BullMQ's UnrecoverableError).

export interface DeliveryErrorOptions {
  permanent: boolean;
  /** snake_case, stored as the delivery's last_error code: http_500, timeout, network, … */
  code: string;
  /** The receiver's own wish (Retry-After), when it stated one. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly permanent: boolean;
  readonly code: string;
  readonly retryAfterMs?: number;

  constructor(message: string, options: DeliveryErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.permanent = options.permanent;
    this.code = options.code;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A send that gave up before writing any of its message, because its start window had closed (the
 * ledger's lease on the row is about to lapse, or the process is stopping): nothing reached the
 * receiver, so it is no attempt and the caller may try again later.
 */
export class NotStarted extends Error {
  override readonly name = 'NotStarted';
  constructor() {
    super('gave up before the message was started');
  }
}

/**
 * When a send may start writing its message. `mayStart` is asked at the last moment before the
 * first byte. `closed`, when given, is aborted once the send never may again (its lease's start
 * window is over, the process is stopping): a send still waiting for a connection then gives up at
 * once, rather than when a connection comes free, so its row is free for another sender sooner.
 */
export interface StartWindow {
  mayStart(): boolean;
  readonly closed?: AbortSignal;
}

/** Whatever a send threw, as a DeliveryError: an unexpected one is `internal` and may be retried. */
export function asDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  return new DeliveryError(err instanceof Error ? err.message : String(err), { permanent: false, code: 'internal' });
}

/**
 * Turns a non-2xx answer into a DeliveryError. 408, 429 and 5xx are the receiver being busy or
 * broken for now, so they are retried; any other 4xx means the request itself is wrong (bad URL,
 * revoked hook, invalid payload) and would fail the same way again. 3xx is permanent too:
 * redirects are not followed, because a moved endpoint needs its channel config changed.
 */
export function classifyHttpStatus(status: number, retryAfterHeader: string | null | undefined, now: Date): DeliveryError {
  const code = `http_${status}`;
  const message = `receiver answered HTTP ${status}`;
  const retryable = status === 408 || status === 429 || status >= 500;
  if (!retryable) return new DeliveryError(message, { permanent: true, code });
  return new DeliveryError(message, { permanent: false, code, retryAfterMs: parseRetryAfter(retryAfterHeader, now) });
}

// IMF-fixdate, the only HTTP-date form senders may generate (RFC 9110 §5.6.7).
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Retry-After as milliseconds from `now`: delay-seconds or an HTTP-date; undefined if absent or malformed. */
function parseRetryAfter(header: string | null | undefined, now: Date): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!HTTP_DATE.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
