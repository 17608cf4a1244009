import { isUuid } from '../db/ids.ts';
import { notFound } from '../errors.ts';

/**
 * The `{id}` of a route over rows keyed by UUID, when it can be one: anything else is 404 without
 * a query, since Postgres would refuse it as a malformed uuid (a 500). `what` names the thing in
 * the refusal ("Channel", "User" …).
 */
export function uuidParam(what: string, id: string): string {
  if (!isUuid(id)) throw notFound(`${what} "${id}"`);
  return id;
}

/** A route's lookup of a row by its UUID: 404 when the id cannot be one or no row has it. */
export function byId<R>(what: string, lookup: (id: string) => Promise<R | undefined>): (id: string) => Promise<R> {
  return async (id) => {
    const row = await lookup(uuidParam(what, id));
    if (!row) throw notFound(`${what} "${id}"`);
    return row;
  };
}

/**
 * A route's lookup of a row by its UUID, or else by its name (`{id|name}`, as nodes and schedules
 * are named): 404 when neither finds one. A name is only looked up as a name: one that reads as a
 * UUID is taken for an id.
 */
export function byIdOrName<R>(what: string, lookup: (id: string) => Promise<R | undefined>, named: (name: string) => Promise<R | undefined>): (ref: string) => Promise<R> {
  return async (ref) => {
    const row = await (isUuid(ref) ? lookup(ref) : named(ref));
    if (!row) throw notFound(`${what} "${ref}"`);
    return row;
  };
}
