import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { resolveSession, type ConsoleSession, type SessionLimits } from '../access/sessions.ts';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import type { IdentityCache } from '../access/identity-cache.ts';
import { authenticate, type AuthEnv } from './auth.ts';
import { ApiError } from './errors.ts';

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

export type SessionEnv = AuthEnv & { Variables: { session: ConsoleSession } };

/** The session the request's cookie names, if it is still valid. */
export async function sessionOf(c: Context, sql: Sql, settings: ConsoleSettings, clock: Clock): Promise<ConsoleSession | undefined> {
  const id = getCookie(c, cookieName(settings));
  // Ids are 43 base64url characters; anything else is not worth a query.
  if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  return resolveSession(sql, id, settings.limits, clock.now());
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

/**
 * For read-only API routes a browser page also calls (GET /v1/events): a Bearer secret as
 * everywhere, or else the console's session cookie, acting as the key that opened it. Only safe
 * methods go through here, so the cookie can never carry a change across sites.
 */
export function bearerOrSession(identity: IdentityCache, sql: Sql, settings: ConsoleSettings, clock: Clock): MiddlewareHandler<AuthEnv> {
  const bearer = authenticate(identity);
  return async (c, next) => {
    if (c.req.header('authorization') !== undefined) return bearer(c, next);
    const session = await sessionOf(c, sql, settings, clock);
    if (!session) throw new ApiError(401, 'unauthorized', 'Send Authorization: Bearer <secret>, or sign in to the console.');
    c.set('principal', { kind: 'key', keyId: session.keyId, keyName: session.keyName, scope: session.scope });
    await next();
  };
}
