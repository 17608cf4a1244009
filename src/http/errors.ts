import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody } from '../api/shapes.ts';
import { HTTPException } from 'hono/http-exception';
import { classifyDbError, isPostgresUnreachable, sqlState } from '../db/errors.ts';
import { Refusal, validationFailed, type ErrorDetail, type RefusalCode } from '../errors.ts';
import type { RequestLog } from './request-id.ts';

/** What only HTTP can get wrong (no secret, a body that is not JSON); onError renders it. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    /** Sent with the answer (Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** An error answer: its status, JSON body and extra headers (Retry-After). */
export interface Answer {
  status: ContentfulStatusCode;
  body: ErrorBody;
  headers: Record<string, string> | undefined;
}

/** The status each refusal of a command is answered with. */
const REFUSAL_STATUS: Record<RefusalCode, ContentfulStatusCode> = {
  validation_failed: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  // A name several rows share (channels' names are not unique): the caller names one by its id.
  ambiguous: 409,
  precondition_failed: 412,
};

export function errorBody(code: string, message: string, details?: ErrorDetail[]): ErrorBody {
  return { error: { code, message, ...(details && details.length ? { details } : {}) } };
}

/** The contract's error shape, for a request HTTP refused or a command a service refused. */
export function renderError(c: Context, err: ApiError | Refusal): Response {
  const { status, body, headers } = errorAnswer(err);
  return c.json(body, status, headers);
}

/** The status, body and extra headers (Retry-After) a refused request is answered with. */
export function errorAnswer(err: ApiError | Refusal): Answer {
  return {
    status: err instanceof Refusal ? REFUSAL_STATUS[err.code] : err.status,
    body: errorBody(err.code, err.message, err.details),
    headers: err instanceof ApiError ? err.headers : err.retryAfterSeconds ? { 'retry-after': String(err.retryAfterSeconds) } : undefined,
  };
}

/**
 * Seconds a client is asked to wait while Postgres does not answer: a restart or a failover takes
 * a few, and an agent retrying sooner only adds load to a process that can do nothing for it.
 */
export const POSTGRES_RETRY_AFTER_S = 5;

/**
 * The 503 for work that needs Postgres while it does not answer (a refused or lost connection). A
 * connection lost after its COMMIT (or a lone statement) reached Postgres may have committed, so it
 * does not say nothing was stored; and the Idempotency-Key middleware gives a failed request's key
 * up, so a retry with the same key acts again: it does not say that makes a retry safe either.
 */
export function postgresUnavailable(): ApiError {
  return new ApiError(503, 'unavailable', 'Postgres does not answer this process; the request may or may not have been stored (a connection lost while committing leaves that unknown). Try again after Retry-After seconds: a heartbeat sent twice does no harm, but another write may then be made twice, even with the same Idempotency-Key, so look first where that matters.', undefined, {
    'retry-after': String(POSTGRES_RETRY_AFTER_S),
  });
}

/** The status failureAnswer answers `err` with, found without logging anything. */
export function failureStatus(err: unknown): number {
  if (err instanceof ApiError || err instanceof Refusal) return errorAnswer(err).status;
  if (err instanceof HTTPException && err.status < 500) return err.status;
  if (isPostgresUnreachable(err)) return 503;
  return classifyDbError(err) === 'invalid_data' ? 400 : 500;
}

/**
 * What any failure of a request is answered with: a refusal as itself, a request hono could not
 * read as 400, a value Postgres refused as 400 (logged), anything else as 500 (logged). `path` is
 * the route's pattern (`/a/:token`), never the request's path, which may hold a credential.
 */
export function failureAnswer(err: unknown, log: Pick<RequestLog, 'warn' | 'error'>, method: string, path: string): Answer {
  if (err instanceof ApiError || err instanceof Refusal) return errorAnswer(err);
  if (err instanceof HTTPException && err.status < 500) {
    return { status: err.status, body: errorBody('bad_request', err.message || 'The request could not be read.'), headers: undefined };
  }
  // A backstop behind the checks of validation.ts: a value Postgres refuses is the client's fault.
  if (classifyDbError(err) === 'invalid_data') {
    log.warn({ code: sqlState(err), reason: (err as Error).message, method, path }, 'the database refused a value of a request');
    return errorAnswer(validationFailed([{ field: '(request)', message: 'holds a value the database cannot store' }]));
  }
  // Not the request's fault nor a bug: the client may retry, and the loops' warnings say why.
  if (isPostgresUnreachable(err)) {
    log.warn({ code: sqlState(err), method, path }, 'request refused: Postgres does not answer');
    return errorAnswer(postgresUnavailable());
  }
  log.error({ err, method, path }, 'request failed');
  return { status: 500, body: errorBody('internal', 'Something went wrong on our side; it has been logged.'), headers: undefined };
}
