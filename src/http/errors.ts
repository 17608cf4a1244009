import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody } from '../api/shapes.ts';
import { Refusal, type ErrorDetail, type RefusalCode } from '../errors.ts';

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

/** The status each refusal of a command is answered with. */
const REFUSAL_STATUS: Record<RefusalCode, ContentfulStatusCode> = {
  validation_failed: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
};

export function errorBody(code: string, message: string, details?: ErrorDetail[]): ErrorBody {
  return { error: { code, message, ...(details && details.length ? { details } : {}) } };
}

/** The contract's error shape, for a request HTTP refused or a command a service refused. */
export function renderError(c: Context, err: ApiError | Refusal): Response {
  const status = err instanceof Refusal ? REFUSAL_STATUS[err.code] : err.status;
  return c.json(errorBody(err.code, err.message, err.details), status, err instanceof ApiError ? err.headers : undefined);
}
