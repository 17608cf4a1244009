import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { Logger } from '../logger.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** This request's id: the caller's X-Request-Id when it is sane, a new UUID otherwise. */
    requestId: string;
    /** The engine's logger with this request's `request_id` on every line. */
    log: RequestLog;
  }
}

/*
 * A caller's X-Request-Id is kept when it could be nothing else: at most 128 characters of letters,
 * digits, `_`, `-` and `=` (a UUID, a W3C trace id, a proxy's `req-…`), so it can neither forge a log
 * line nor carry markup into the console. Anything else is replaced by a new UUID, not refused: an
 * id is a courtesy. Either way the answer carries it in the same header.
 */
const SANE_REQUEST_ID = /^[\w=-]{1,128}$/;
const HEADER = 'x-request-id';

/** The id of a request that came with this X-Request-Id (or none). */
export const requestIdOf = (given: string | undefined): string => (given !== undefined && SANE_REQUEST_ID.test(given) ? given : randomUUID());

/** What @hono/node-server hands each request as `c.env`; absent under app.request() in tests. */
type NodeBindings = { outgoing?: ServerResponse } | undefined;

/**
 * Sets a header of the answer. Under node:http it goes straight onto the socket's response, which
 * merges it with the answer's own headers: set through hono it would make every answer carry a
 * Headers object instead of the plain one hono's JSON answers use, ~2 µs more per request.
 */
function answerHeader(c: Context, name: string, value: string): void {
  const outgoing = (c.env as NodeBindings)?.outgoing;
  if (outgoing && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}

/**
 * A request's logger, made on its first line: most requests log nothing, and a pino child (its
 * bindings serialised up front) cost ~0.5-1 µs of every single heartbeat in profiles.
 */
export class RequestLog {
  private made: Logger | undefined;

  constructor(
    private readonly base: Logger,
    private readonly requestId: string,
  ) {}

  private get log(): Logger {
    return (this.made ??= this.base.child({ request_id: this.requestId }));
  }

  info(fields: object, message: string): void {
    this.log.info(fields, message);
  }

  warn(fields: object, message: string): void {
    this.log.warn(fields, message);
  }

  error(fields: object, message: string): void {
    this.log.error(fields, message);
  }
}

/** Names the request (`c.get('requestId')`) and gives it a logger that says so (`c.get('log')`). */
export function nameRequest(c: Context, log: Logger): void {
  const id = requestIdOf(c.req.header(HEADER));
  c.set('requestId', id);
  c.set('log', new RequestLog(log, id));
  answerHeader(c, HEADER, id);
}
