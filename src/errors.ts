/**
 * One field a request got wrong, named by its dotted path (`heartbeats.3.status`); or, in a
 * conflict, one field of the row it conflicts with, with its `value` as that row reads in the API,
 * so a client need not parse the message for it.
 */
export interface ErrorDetail {
  field: string;
  message: string;
  value?: string;
}

export type RefusalCode = 'validation_failed' | 'forbidden' | 'not_found' | 'conflict' | 'ambiguous' | 'precondition_failed';

/**
 * A command that will not do what it was asked, for a reason whoever asked should see: the code
 * says which kind, the message says it in a sentence. Services throw it without knowing who called
 * them (an API route, a page, a signed link, a handler); src/http/errors.ts answers it with the
 * status its code stands for. A refused command has changed nothing.
 */
/**
 * 412 unless the row is still at one of the versions an `If-Match` named (undefined: none named,
 * or `*`): its `updated_at` in epoch ms, or `current` when its ETag says more (a status page's also
 * names the nodes it shows). Called on the row as its write's transaction locked it, so no other
 * write slips in between the check and the change.
 */
export function checkVersion(what: string, expected: readonly (number | string)[] | undefined, updatedAt: Date, current: string = String(updatedAt.getTime())): void {
  if (expected === undefined || expected.some((v) => String(v) === current)) return;
  throw new Refusal('precondition_failed', `${what} is at ETag "${current}" (changed at ${updatedAt.toISOString()}), not a version If-Match names; nothing was changed: read it again.`);
}

export class Refusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** When asking again may succeed (a lock held by work that will end): seconds, sent as Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}

export const notFound = (what: string) => new Refusal('not_found', `${what} was not found.`);
export const conflict = (message: string) => new Refusal('conflict', message);
/** At most this many details per refusal: enough to point at the problem, while a 1 MiB body of bad items must not earn a 30 MB answer. */
export const MAX_DETAILS = 20;

export const validationFailed = (details: ErrorDetail[]) =>
  new Refusal('validation_failed', 'The request has invalid fields; see details.', details.slice(0, MAX_DETAILS));
