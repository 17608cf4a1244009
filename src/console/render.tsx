import type { Context } from 'hono';
import { routePath } from 'hono/route';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConsoleSession } from '../access/sessions.ts';
import { sqlState } from '../db/errors.ts';
import type { AppDeps } from '../http/deps.ts';
import { failureAnswer } from '../http/errors.ts';
import { sessionOf } from '../http/session.ts';
import { chromeOf } from './context.ts';
import { isAction, sameOrigin } from './origin.ts';
import { Bare, Page, type Chrome } from './layout.tsx';

// Console pages may load only this origin's script, style and images (and the data: icon), may
// only submit forms here, and may not be framed. htmx and its SSE extension work within that:
// they need no eval (no hx-on, no trigger filters) and the indicator <style> htmx would add is
// turned off.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Sends a whole page. Pages hold live data and a CSRF token: never cached, never referred on. */
export function html(c: Context, page: Child, status: ContentfulStatusCode = 200): Response {
  return c.html(`<!doctype html>\n${String(page)}`, status, {
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  });
}

/**
 * A page that only says why something could not be done (no such incident, an expired form, a
 * scope the key lacks, an address nothing serves), with a way back. Signed in, it keeps the
 * console's navigation as every other page does: the person is one click from anywhere, not on a
 * page that looks signed out. The session is the one the guards found, else the cookie's (the
 * refusals that come before the session guard, and the 404 of an address nothing serves).
 */
export async function refusal(c: Context, deps: AppDeps, status: ContentfulStatusCode, title: string, why: Child, back?: BackLink): Promise<Response> {
  return refusalPage(c, status, title, why, await frameIfSignedIn(c, deps, title), back);
}

/** Where a refusal page leads back to: the console's home unless the page it came from is named. */
interface BackLink {
  href: string;
  label: string;
}

/**
 * What a console page answers when serving it failed: the API's status and log line (failureAnswer:
 * a 500 logged once, with its stack, by the route's pattern), said as a page in the console's frame
 * through refusal(), so signed out or posted from another site it is bare as every refusal is. A
 * 500 names the request's id, the one its log line carries, for the person to quote; what else
 * escapes a page (a body hono cannot read, a value Postgres refuses) is said in the API's words.
 */
export async function failedPage(c: Context, deps: AppDeps, err: Error): Promise<Response> {
  const { status, body } = failureAnswer(err, c.var.log, c.req.method, routePath(c));
  const { message, details = [] } = body.error;
  if (status !== 500) return refusal(c, deps, status, 'Not done', [message, ...details.map((d) => `${d.field}: ${d.message}.`)].join(' '));
  return refusal(
    c,
    deps,
    500,
    'Something went wrong',
    <>
      Lifeline could not answer this for a fault on its side, which has been logged. Try again in a moment; if it keeps failing, give whoever runs
      Lifeline this request id: <code>{c.var.requestId}</code>.
    </>,
  );
}

/**
 * The frame costs a read or two (the session unless a guard has it, the open incidents' count);
 * with the database down they fail, and the page is answered bare with its own status rather than
 * turning a 404 into a 500 in the middle of an outage. Logged by code and message only: the error
 * of a failed query can carry its parameters (the session's id).
 */
async function frameIfSignedIn(c: Context, deps: AppDeps, title: string): Promise<Chrome | undefined> {
  // A post from another site leaves the session unread (see bareRefusal), whichever refusal meets
  // it: the address check and the 404 of an address nothing serves come before the origin's.
  if (isAction(c) && !sameOrigin(c, deps.console)) return undefined;
  try {
    const guarded: ConsoleSession | undefined = c.get('session');
    const session = guarded ?? (await sessionOf(c, deps.sql, deps.console, deps.clock));
    return session ? await chromeOf(session, deps) : undefined;
  } catch (err) {
    deps.log.warn({ code: sqlState(err), reason: (err as Error).message, page: title }, 'an error page was shown without the navigation: what it needs could not be read');
    return undefined;
  }
}

/**
 * The refusal without the navigation, for a request whose session must not be read: one sent from
 * another site, which would otherwise count as the person's use and keep their session from idling out.
 */
export const bareRefusal = (c: Context, status: ContentfulStatusCode, title: string, why: string): Response => refusalPage(c, status, title, why);

function refusalPage(c: Context, status: ContentfulStatusCode, title: string, why: Child, chrome?: Chrome, back: BackLink = { href: '/', label: 'Back to the console' }): Response {
  const body = (
    <div class="signin">
      <h1>{title}</h1>
      <p>{why}</p>
      <p>
        <a href={back.href}>{back.label}</a>
      </p>
    </div>
  );
  return html(
    c,
    chrome ? (
      <Page title={title} chrome={chrome}>
        {body}
      </Page>
    ) : (
      <Bare title={title}>{body}</Bare>
    ),
    status,
  );
}
