import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { resolveSession, sessionChecks, type ConsoleSession, type SessionLimits } from '../access/sessions.ts';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import type { IdentityCache } from '../access/identity-cache.ts';
import { bearerPrincipal, bearerSecret, type AuthEnv } from './auth.ts';
import { ApiError } from './errors.ts';
import type { AuthBudget } from './auth-budget.ts';

/** How console sessions are kept (README, "Console"). */
export interface ConsoleSettings {
  limits: SessionLimits;
  /** LIFELINE_PUBLIC_URL is https: cookies are Secure and take the __Host- prefix. */
  secureCookies: boolean;
  /** LIFELINE_PUBLIC_URL's origin, accepted besides the request's own host as the Origin of an action. */
  publicOrigin: string | undefined;
}

export function consoleSettings(o: { publicUrl: string | undefined; idleMinutes: number; sessionHours: number }): ConsoleSettings {
  const origin = o.publicUrl ? new URL(o.publicUrl) : undefined;
  return {
    limits: { idleMs: o.idleMinutes * 60_000, maxMs: o.sessionHours * 3_600_000 },
    secureCookies: origin?.protocol === 'https:',
    publicOrigin: origin?.origin,
  };
}

// __Host-: the browser only accepts it Secure, for Path=/ and without Domain, so no sibling host
// or plain-http page can plant or overwrite it.
const cookieName = (s: ConsoleSettings) => (s.secureCookies ? '__Host-lifeline_session' : 'lifeline_session');

/**
 * Sent by a console region re-reading itself (on a timer or a live event): not a person's use of
 * the session, so it does not put off the idle timeout.
 */
export const REFRESH_HEADER = 'lifeline-refresh';

/** The session id the request's cookie carries, if it has the shape of one. */
function cookieSessionId(c: Context, settings: ConsoleSettings): string | undefined {
  const id = getCookie(c, cookieName(settings));
  // Ids are 43 base64url characters; anything else is not worth a query.
  return id !== undefined && /^[A-Za-z0-9_-]{43}$/.test(id) ? id : undefined;
}

/**
 * The session the request's cookie names, if it is still valid; the request counts as use (resets
 * the idle timeout) unless it is a refresh (REFRESH_HEADER).
 */
export async function sessionOf(c: Context, sql: Sql, settings: ConsoleSettings, clock: Clock): Promise<ConsoleSession | undefined> {
  const id = cookieSessionId(c, settings);
  return id === undefined ? undefined : resolveSession(sql, id, settings.limits, clock.now(), c.req.header(REFRESH_HEADER) === undefined);
}

export function setSessionCookie(c: Context, settings: ConsoleSettings, id: string): void {
  setCookie(c, cookieName(settings), id, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: settings.secureCookies,
    maxAge: Math.floor(settings.limits.maxMs / 1000),
  });
}

export function clearSessionCookie(c: Context, settings: ConsoleSettings): void {
  deleteCookie(c, cookieName(settings), { path: '/', secure: settings.secureCookies, httpOnly: true, sameSite: 'Strict' });
}

/** A long-lived answer's credentials: `stillValid` says whether they authenticate now, not only when it began. */
export type StreamEnv = AuthEnv & { Variables: { stillValid: () => Promise<boolean> } };

/**
 * For read-only API routes a browser page also calls (GET /v1/events): a Bearer secret as
 * everywhere, or else the console's session cookie, acting as the key that opened it. Only safe
 * methods go through here, so the cookie can never carry a change across sites. A stream is not a
 * person's use of the session: neither opening it nor checking it again resets the idle timeout.
 * Both go through the failed-authentication budget of the address (auth-budget.ts). Nothing
 * remembers a session, so each is unseen: a wrong one counts as a failure (429 past the budget), a
 * valid one never. Sessions are exempt from the hard cap: that lookup is the one each console page
 * already makes, without a budget, for any cookie of the right shape, so refusing it here would
 * save no query and only stop a signed-in person's live regions.
 */
export function bearerOrSession(identity: IdentityCache, sql: Sql, settings: ConsoleSettings, clock: Clock, budget: AuthBudget): MiddlewareHandler<StreamEnv> {
  const sessionValid = sessionChecks(sql, settings.limits, clock);
  return async (c, next) => {
    if (c.req.header('authorization') !== undefined) {
      const principal = await bearerPrincipal(c, identity, budget);
      const secret = bearerSecret(c.req.header('authorization'))!;
      c.set('principal', principal);
      // Cached: a query only after a NOTIFY made the cache forget, or once its TTL ran out, and then
      // one for all the streams asking in that turn.
      c.set('stillValid', async () => (await identity.principal(secret)) !== undefined);
      return next();
    }
    const id = cookieSessionId(c, settings);
    const session = await budget.authenticate(
      c,
      (charge) => {
        // Neither cookie nor Authorization (or a cookie of the wrong shape) counts as a wrong
        // secret, as it always has on this route: undefined here is charged as one.
        if (id === undefined) return undefined;
        charge();
        return resolveSession(sql, id, settings.limits, clock.now(), false);
      },
      { hardCap: false },
    );
    if (id === undefined || !session) throw new ApiError(401, 'unauthorized', 'Send Authorization: Bearer <secret>, or sign in to the console.');
    c.set('principal', { kind: 'key', keyId: session.keyId, keyName: session.keyName, scope: session.scope });
    c.set('stillValid', () => sessionValid(id));
    await next();
  };
}
