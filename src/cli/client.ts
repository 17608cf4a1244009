// The one way the CLI, the agent and the demo talk to the engine: JSON over HTTP with a bearer
// token, the contract's error shape turned into an exception, and lists followed cursor by cursor.

export interface ErrorDetail {
  field: string;
  message: string;
  /** In a conflict, the field's value as the row it conflicts with reads (a resolved incident's `resolved_by`). */
  value?: string;
}

/** The engine answered with `{"error": {...}}` (or, behind a proxy, with something that is not JSON). */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** From the Retry-After header of a 429, a 503 or an Idempotency-Key's 409. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

/** No answer at all: refused, reset, DNS, or nothing within the timeout. */
export class ConnectionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** Something answered, but not with Lifeline's JSON: another service on that port, a proxy's login page. */
export class NotLifelineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'NotLifelineError';
  }
}

/**
 * The engine's answers, none of them an error, say the command cannot do what it was asked (a
 * replayed maintenance window that is already over): exit 1, as for an answer saying no.
 */
export class RefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RefusedError';
  }
}

/** A URL fetch will never send a request to (a port it blocks): asking again cannot help. */
export class UnusableUrlError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnusableUrlError';
  }
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** A query string's parameters; a list is the parameter repeated (`label=a=1&label=b=2`). */
export type Query = Record<string, string | number | readonly string[] | undefined>;

export interface ClientOptions {
  url: string;
  token: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** The body as text, not parsed as JSON. */
  text?: boolean;
  /** Shown a successful answer before its body is read (its status and headers). */
  seen?: (res: Response) => void;
  /** Sent as Idempotency-Key: the engine answers a repeat of the same request with the first one's answer. */
  idempotencyKey?: string | undefined;
}

/** A successful answer with what its body alone does not say. */
export interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

// The API's largest page: following a cursor costs a round trip, so ask for as much as it gives.
const PAGE_SIZE = 500;

export class Client {
  readonly url: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(opts: ClientOptions) {
    // Joined by string, not new URL(path, base), so a base behind a path prefix keeps its prefix.
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetch = opts.fetch ?? fetch;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  /** The answer's body as it came (a CSV report), for a success; errors are read as for get. */
  getText(path: string, query?: Query): Promise<string> {
    return this.request<string>('GET', path, { query, text: true });
  }

  post<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>('POST', path, { body, signal });
  }

  /**
   * A POST sent with an Idempotency-Key, with its headers: `Idempotent-Replayed: true` says the
   * engine answered with an earlier request's answer, which may since have gone stale.
   */
  postOnce<T>(path: string, body: unknown, idempotencyKey: string): Promise<Answer<T>> {
    return this.answer<T>('POST', path, { body, idempotencyKey });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  /** A PUT's answer with its status and headers: a create-or-update says by them which it did. */
  put<T>(path: string, body: unknown): Promise<Answer<T>> {
    return this.answer<T>('PUT', path, { body });
  }

  private async answer<T>(method: string, path: string, opts: RequestOptions): Promise<Answer<T>> {
    let head: Response | undefined;
    const body = await this.request<T>(method, path, { ...opts, seen: (res) => (head = res) });
    return { status: head!.status, headers: head!.headers, body };
  }

  /** Nothing for a 204; a route that answers what it ended (a maintenance window) gives it as T. */
  delete<T = void>(path: string): Promise<T> {
    return this.request<T>('DELETE', path, {});
  }

  /**
   * The first `max` items of a list (every item without one), following next_cursor past the
   * API's page limit; the cursor is kept when items were left, so the caller can say so. What
   * answers with a cursor it gave before, or with an empty page that still has a cursor, would
   * be followed for ever: that stops with an error. Items past `max` (from a server that
   * ignored `limit`) are dropped. The first page's other fields come with them (the fleet
   * uptime's own ratio and period, which every page of one walk repeats).
   */
  async all<T, P extends Page<T> = Page<T>>(path: string, query: Query = {}, max = Infinity): Promise<P> {
    const items: T[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    let first: P | undefined;
    for (;;) {
      const page = await this.get<P>(path, { ...query, limit: Math.min(PAGE_SIZE, max - items.length), cursor });
      first ??= page;
      items.push(...page.items);
      cursor = page.next_cursor ?? undefined;
      if (cursor === undefined || items.length >= max) break;
      if (seen.has(cursor) || page.items.length === 0) {
        const why = page.items.length === 0 ? 'an empty page with a next_cursor' : `the next_cursor "${cursor}" a second time`;
        throw new Error(`${this.url}${path} answered ${why}: stopped rather than loop for ever`);
      }
      seen.add(cursor);
    }
    return { ...first!, items: items.slice(0, max), next_cursor: cursor ?? null };
  }

  async request<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (typeof v === 'object') for (const one of v) search.append(k, one);
      else if (v !== undefined) search.set(k, String(v));
    }
    const target = this.url + path + (search.size ? `?${search}` : '');
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response | undefined;
    let text: string;
    try {
      res = await this.fetch(target, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(opts.idempotencyKey !== undefined ? { 'idempotency-key': opts.idempotencyKey } : {}),
        },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout,
      });
      // Read under the same timeout and handling: a body that stalls or breaks off is no answer either.
      text = await res.text();
    } catch (err) {
      // The caller's own abort is not a connection problem: let it through as it is.
      if (opts.signal?.aborted) throw err;
      if (timeout.aborted) throw new ConnectionError(`no answer from ${this.url} within ${this.timeoutMs / 1000} s`, { cause: err });
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      // The headers came, then the connection went (a reset, an engine stopping mid-answer).
      if (res) throw new ConnectionError(`${this.url} broke off its answer: ${why}`, { cause: err });
      // fetch says "fetch failed" for a request it sent and got no answer to (refused, reset,
      // DNS); a request it could not make at all (a URL it cannot parse, a token that cannot go
      // in a header) is a setup mistake that asking again will not fix, so it goes up as it is.
      if (!(err instanceof TypeError && err.message === 'fetch failed')) throw err;
      // fetch refuses ports of other protocols (1, 25, 6000, …) with this cause, before any connection.
      if (cause?.message === 'bad port') {
        throw new UnusableUrlError(`${this.url} has a port fetch never connects to (bad port): give Lifeline's port`, { cause: err });
      }
      throw new ConnectionError(`cannot reach ${this.url}: ${why}`, { cause: err });
    }
    if (!res.ok) throw errorOf(res, text);
    opts.seen?.(res);
    if (opts.text) return text as T;
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      // Something else answers there: another service on that port, a proxy's login page.
      const type = res.headers.get('content-type')?.split(';')[0] ?? 'no content type';
      throw new NotLifelineError(res.status, `${this.url} did not answer with Lifeline's JSON (got ${type}, HTTP ${res.status}) — is --url right?`);
    }
  }
}

function errorOf(res: Response, text: string): ApiRequestError {
  const retryAfter = Number(res.headers.get('retry-after'));
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string; details?: ErrorDetail[] } };
    if (typeof error?.code === 'string') return new ApiRequestError(res.status, error.code, error.message, error.details ?? [], retryAfterMs);
  } catch {
    // not the contract's shape; described by its status below
  }
  return new ApiRequestError(res.status, `http_${res.status}`, `HTTP ${res.status} ${res.statusText}`.trim(), [], retryAfterMs);
}

/**
 * Worth another try later: no answer, a server error (a proxy's 502 or 503 while the engine is
 * down too), a timeout, throttling, or a 409 with Retry-After (the engine still answering the
 * first request under the same Idempotency-Key: its retry a second on gets that answer). Anything
 * else asking again as is will not fix; a 409 without Retry-After (a name taken) among them.
 */
export function retryable(err: unknown): err is ConnectionError | ApiRequestError {
  if (err instanceof ConnectionError) return true;
  if (!(err instanceof ApiRequestError)) return false;
  return err.status >= 500 || err.status === 408 || err.status === 429 || (err.status === 409 && err.retryAfterMs !== undefined);
}

/**
 * One readable line, then one line per detail. A conflict's detail with a `value` is a fact the
 * message already says (who resolved an incident, and when), there as data for --json: not
 * repeated. Other errors' details are all shown: a `value` there is no part of the message.
 */
export function describeError(err: ApiRequestError | ConnectionError): string {
  if (err instanceof ConnectionError) return `error: ${err.message}`;
  const head = `error: ${err.message} (${err.code}, HTTP ${err.status})`;
  return [head, ...err.details.filter((d) => err.code !== 'conflict' || d.value === undefined).map((d) => `  ${d.field}: ${d.message}`)].join('\n');
}

/** `/v1/nodes/web-1`: the API takes a node's id or its name there. */
export const nodePath = (ref: string) => `/v1/nodes/${encodeURIComponent(ref)}`;
