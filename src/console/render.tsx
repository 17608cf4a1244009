import type { Context } from 'hono';
import { routePath } from 'hono/route';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConsoleSession } from '../access/sessions.ts';
import { isConnectionError, sqlState } from '../db/errors.ts';
import type { AppDeps } from '../http/deps.ts';
import { failureAnswer } from '../http/errors.ts';
import { sessionOf } from '../http/session.ts';
import { within } from '../settles.ts';
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

/**
 * Sends a whole page. Pages hold live data and a CSRF token: never cached, never referred on. A
 * form refused (a POST answered 4xx) is titled "Error: …": the title is the first thing a screen
 * reader says of the page that comes back, which otherwise reads as the form did before it was sent.
 */
export function html(c: Context, page: Child, status: ContentfulStatusCode = 200, headers?: Record<string, string>): Response {
  const doc = String(page);
  const refused = c.req.method === 'POST' && status >= 400 && status < 500;
  return c.html(`<!doctype html>\n${refused ? doc.replace('<title>', '<title>Error: ') : doc}`, status, {
    ...headers,
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
 * What a console page answers when serving it failed: the API's status, headers (Retry-After) and
 * log line (failureAnswer: a 500 logged once, with its stack, by the route's pattern), said as a
 * page in the console's frame, bare signed out or posted from another site as every refusal is. A
 * 500 names the request's id, the one its log line carries, for the person to quote; what else
 * escapes a page (a body hono cannot read, a value Postgres refuses) is said in the API's words.
 * A fragment htmx asked for (the navigation's count) gets the status alone: htmx swaps nothing in
 * on an error, so a whole page (1.4 KB) there is only sent to be dropped.
 * A database that could not be reached (a connection lost or refused, a connect or statement
 * timeout) is not asked again for the frame, whose reads would wait up to connect_timeout (10 s)
 * more and add load to a database already failing; any other failure's frame gets FAILED_FRAME_MS.
 */
export async function failedPage(c: Context, deps: AppDeps, err: Error): Promise<Response> {
  const { status, body, headers } = failureAnswer(err, c.var.log, c.req.method, routePath(c));
  if (c.req.header('hx-request')) return c.body(null, status, headers);
  const { message, details = [] } = body.error;
  const [title, why]: [string, Child] =
    status === 500
      ? [
          'Something went wrong',
          <>
            Lifeline could not answer this for a fault on its side, which has been logged. Try again in a moment; if it keeps failing, give whoever runs
            Lifeline this request id: <code>{c.var.requestId}</code>.
          </>,
        ]
      : ['Not done', [message, ...details.map((d) => `${d.field}: ${d.message}.`)].join(' ')];
  const unreached = isConnectionError(err) || sqlState(err) === '57014';
  return refusalPage(c, status, title, why, unreached ? undefined : await frameIfSignedIn(c, deps, title, FAILED_FRAME_MS), undefined, headers);
}

/**
 * How long a failed page waits for its frame before it is answered bare: the frame's reads (a
 * session by its key, the open incidents' count by an index) take a few ms on a healthy database,
 * and a page that already failed is not to be held up to connect_timeout (10 s) by them.
 */
const FAILED_FRAME_MS = 500;

/**
 * The frame costs a read or two (the session unless a guard has it, the open incidents' count);
 * with the database down they fail, and the page is answered bare with its own status rather than
 * turning a 404 into a 500 in the middle of an outage; so too once `waitMs` pass without them.
 * Logged by code and message only: the error of a failed query can carry its parameters (the
 * session's id).
 */
async function frameIfSignedIn(c: Context, deps: AppDeps, title: string, waitMs?: number): Promise<Chrome | undefined> {
  // A post from another site leaves the session unread (see bareRefusal), whichever refusal meets
  // it: the address check and the 404 of an address nothing serves come before the origin's.
  if (isAction(c) && !sameOrigin(c, deps.console)) return undefined;
  const read = async () => {
    const guarded: ConsoleSession | undefined = c.get('session');
    const session = guarded ?? (await sessionOf(c, deps.sql, deps.console, deps.clock));
    return session ? await chromeOf(session, deps) : undefined;
  };
  try {
    return await (waitMs === undefined ? read() : within(waitMs, read()));
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

function refusalPage(
  c: Context,
  status: ContentfulStatusCode,
  title: string,
  why: Child,
  chrome?: Chrome,
  back: BackLink = { href: '/', label: 'Back to the console' },
  headers?: Record<string, string>,
): Response {
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
    headers,
  );
}
