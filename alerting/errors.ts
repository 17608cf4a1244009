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
 * System error codes a failed connection names, as the stored code and the words a reader needs.
 * undici hands on the socket's own error, nodemailer replaces its code with its own (ESOCKET,
 * EDNS) and keeps the system one in the message ("connect ECONNREFUSED 10.0.0.5:25"), so both the
 * codes along the cause chain and the message are read.
 */
const CONNECTION_FAILURES: Record<string, [code: string, words: string]> = {
  ECONNREFUSED: ['connection_refused', 'connection refused'],
  ENOTFOUND: ['dns_not_found', 'DNS name not found'],
  EAI_AGAIN: ['dns_failed', 'DNS lookup failed for now'],
  ECONNRESET: ['connection_reset', 'connection reset'],
  EPIPE: ['connection_reset', 'connection reset'],
  UND_ERR_SOCKET: ['connection_reset', 'connection closed by the other side'],
  EHOSTUNREACH: ['network', 'no route to the host'],
  ENETUNREACH: ['network', 'no route to the network'],
  ETIMEDOUT: ['timeout', 'connection timed out'],
};

// OpenSSL's certificate verdicts (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT,
// UNABLE_TO_VERIFY_LEAF_SIGNATURE…) and Node's TLS codes (ERR_TLS_CERT_ALTNAME_INVALID, ERR_SSL_…).
const TLS_CERTIFICATE = /^(?:[A-Z_]*CERT[A-Z_]*|UNABLE_TO_[A-Z_]+|ERR_TLS_CERT_[A-Z_]+)$/;
const TLS_OTHER = /^(?:ERR_SSL_[A-Z0-9_]+|ERR_TLS_[A-Z_]+|EPROTO)$/;
const SYSTEM_CODE = /\b(E[A-Z]{3,}|[A-Z_]*CERT[A-Z_]*|UNABLE_TO_[A-Z_]+|ERR_(?:SSL|TLS)_[A-Z0-9_]+)\b/g;

/** Every code an error and its causes carry, then those its messages name, outermost first. */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  const said: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') codes.push(code);
    said.push(...(e.message.match(SYSTEM_CODE) ?? []));
  }
  return [...codes, ...said];
}

/**
 * What a failed connection to `where` (a scheme, host and port, never a path: a Slack webhook's
 * path is its secret, and a query string may hold a token) says happened, from the system error's
 * code: `connection refused by https://hooks.example.com (ECONNREFUSED)`. Undefined when no code
 * says more than that the connection failed.
 */
export function connectionFailure(err: unknown, where: string): { code: string; message: string } | undefined {
  const codes = codesOf(err);
  for (const code of codes) {
    const known = CONNECTION_FAILURES[code];
    if (known) return { code: known[0], message: `${known[1]}: ${where} (${code})` };
    if (TLS_CERTIFICATE.test(code)) return { code: 'tls_certificate', message: `TLS certificate problem with ${where} (${code})` };
    if (TLS_OTHER.test(code)) return { code: 'tls_failed', message: `TLS handshake with ${where} failed (${code})` };
  }
  return undefined;
}

/** `10 s`, `1.5 s`: a timeout as a reader thinks of it. */
export const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

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
