import type { MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from '../logger.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The engine's logger with this request's `request_id` on every line. */
    log: Logger;
  }
}

/*
 * A caller's X-Request-Id is kept when it could be nothing else: at most 128 characters of letters,
 * digits, `_`, `-` and `=` (a UUID, a W3C trace id, a proxy's `req-…`), so it can neither forge a log
 * line nor carry markup into the console. Anything else is replaced by a new UUID, not refused: an
 * id is a courtesy. Either way the answer carries it in the same header.
 */
const MAX_REQUEST_ID_CHARS = 128;

/** Names every request (`c.var.requestId`) and gives it a logger that says so (`c.var.log`). */
export function requestIds(log: Logger): MiddlewareHandler[] {
  return [
    requestId({ limitLength: MAX_REQUEST_ID_CHARS }),
    async (c, next) => {
      c.set('log', log.child({ request_id: c.var.requestId }));
      await next();
    },
  ];
}
