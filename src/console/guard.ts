import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { csrfMatches, type ConsoleSession } from '../access/sessions.ts';
import type { AppDeps } from '../http/deps.ts';
import { MAX_FORM_BYTES } from '../http/gate.ts';
import { sessionOf, type ConsoleSettings } from '../http/session.ts';
import { isStorableText, unstorableRequestText } from '../http/validation.ts';
import { isAction, sameOrigin } from './origin.ts';
import { bareRefusal, refusal } from './render.tsx';

export type ConsoleEnv = { Variables: { session: ConsoleSession } };
export type ConsoleContext = Context<ConsoleEnv>;

/**
 * A C0 control, a space, DEL or any other whitespace. Browsers drop tabs and newlines from an
 * address, so `/<TAB>/evil.example` lands on //evil.example; a CR or LF cannot go in a Location
 * header at all (the answer was a 500).
 */
const UNSAFE_IN_ADDRESS = /[\u0000-\u0020\u007f\s]/u;
const SITE = 'http://console';

/**
 * `raw` as an address on this site, parsed, or undefined when it names another host or could be
 * read as naming one. Judged on the parsed address, not the text: URL reads `/\evil.com` as the
 * host evil.com and resolves dot segments, so `/.//evil.com` and `/incidents/..//evil.com/x` parse
 * to the path `//evil.com`, which a browser follows to another host. Only the parsed path and
 * query are ever sent back (a fragment never reaches the server anyway).
 */
export function sitePath(raw: string | undefined): URL | undefined {
  if (raw === undefined || !raw.startsWith('/') || UNSAFE_IN_ADDRESS.test(raw)) return undefined;
  let url: URL;
  try {
    url = new URL(raw, SITE);
  } catch {
    return undefined;
  }
  return url.origin === SITE && !url.pathname.startsWith('//') ? url : undefined;
}

/** Where to come back to after signing in: a path on this site, never another host. */
export function safeNext(raw: string | undefined): string {
  const url = sitePath(raw);
  return url ? url.pathname + url.search : '/';
}

/**
 * Every console page but sign-in needs a live session. Without one a page view goes to sign-in
 * (and comes back after); a live region refreshing itself is told to go there too (HX-Redirect),
 * rather than swapping the sign-in page into the middle of the fleet.
 */
export function requireSession(deps: AppDeps): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const session = await sessionOf(c, deps.sql, deps.console, deps.clock);
    if (!session) {
      const to = `/sign-in?next=${encodeURIComponent(backTo(c))}`;
      if (c.req.header('hx-request')) return c.body(null, 401, { 'hx-redirect': to });
      return c.redirect(to, 303);
    }
    c.set('session', session);
    await next();
  };
}

/**
 * Where to come back to after signing in: the page asked for or, for a live region's re-read, the
 * page it sits on (htmx's HX-Current-URL): the navigation's count re-reads an address of its own
 * (OPEN_COUNT_PATH), no page to come back to.
 */
function backTo(c: Context): string {
  if (c.req.method !== 'GET') return '/';
  const current = c.req.header('hx-current-url');
  // The address as sent, still percent-encoded: c.req.path is decoded, and a node of an older name
  // (`web one`, `%20` in its address) would come back with a space, which sitePath refuses.
  if (current === undefined) return safeNext(new URL(c.req.url).pathname + new URL(c.req.url).search);
  try {
    const url = new URL(current);
    return safeNext(url.pathname + url.search);
  } catch {
    return '/';
  }
}

/**
 * Everything that changes something, signed in or not (sign-in itself): posted from this origin.
 * SameSite=Strict already keeps the cookie off requests from other sites; this also refuses a
 * sibling site on the same domain, and a form carrying a key to sign someone in as someone else.
 */
export function sameOriginActions(settings: ConsoleSettings): MiddlewareHandler {
  return async (c, next) => {
    if (isAction(c) && !sameOrigin(c, settings)) {
      return bareRefusal(c, 403, 'Not sent from this console', 'The request did not come from a page of this console, so it was not carried out.');
    }
    await next();
  };
}

export function limitForms(deps: AppDeps): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: MAX_FORM_BYTES,
    onError: (c) => refusal(c, deps, 413, 'Too much to send', 'That form carried more than the console ever sends.'),
  });
  return async (c, next) => (isAction(c) ? limit(c, next) : next());
}

/**
 * A signed-in action: its form carries the session's CSRF token, and only text Postgres can store
 * (the API's rule for every string, applied to every field at once).
 */
export function checkForms(deps: AppDeps): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    if (!isAction(c)) return next();
    const form = await c.req.parseBody({ all: true });
    const values = Object.entries(form).flatMap(([k, v]) => [k, ...(Array.isArray(v) ? v : [v])]);
    if (!values.every((v) => typeof v === 'string' && isStorableText(v))) {
      return refusal(c, deps, 400, 'Cannot store that', 'The form held a file, or a character Lifeline cannot store (U+0000 or half of a surrogate pair).');
    }
    if (!csrfMatches(c.get('session'), typeof form._csrf === 'string' ? form._csrf : undefined)) {
      return refusal(c, deps, 403, 'This page has expired', 'The form was not from your current session. Go back, reload the page and try again.');
    }
    await next();
  };
}

/**
 * The API's rule for the path and the query, as a page: a filter, id or cursor holding U+0000 or
 * half of a surrogate pair is refused before anything reads it, rather than left out by a lenient
 * filter and the page shown as if it had not been asked for.
 */
export function refuseUnstorableAddress(deps: AppDeps): MiddlewareHandler {
  return async (c, next) => {
    const found = unstorableRequestText(c);
    if (found.length) {
      const where = found.map((f) => (f.field === 'path' ? 'the path' : `"${f.field}"`)).join(', ');
      return refusal(c, deps, 400, 'Cannot read that address', `The address held a character Lifeline cannot store (U+0000 or half of a surrogate pair) in ${where}, so nothing was looked up or changed.`);
    }
    await next();
  };
}

/** The middleware each kind of console route runs, in order. */
export interface Guards {
  /** A page anyone may view (sign-in): only the address's text is checked. */
  open: [MiddlewareHandler];
  /** Viewing a page: a live session. */
  page: [MiddlewareHandler, MiddlewareHandler<ConsoleEnv>];
  /** Signing in: an action without a session yet. */
  anonymous: [MiddlewareHandler, MiddlewareHandler, MiddlewareHandler];
  /** Everything else that changes something. */
  action: [MiddlewareHandler, MiddlewareHandler, MiddlewareHandler, MiddlewareHandler<ConsoleEnv>, MiddlewareHandler<ConsoleEnv>];
}

export function guards(deps: AppDeps): Guards {
  const address = refuseUnstorableAddress(deps);
  const origin = sameOriginActions(deps.console);
  const limit = limitForms(deps);
  const session = requireSession(deps);
  return { open: [address], page: [address, session], anonymous: [address, origin, limit], action: [address, origin, limit, session, checkForms(deps)] };
}
