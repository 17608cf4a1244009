import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
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
 * A page that only says why something could not be done, with a way back: in the console's frame
 * (its navigation) when a session is known, else bare.
 */
export function refusal(c: Context, status: ContentfulStatusCode, title: string, why: string, chrome?: Chrome): Response {
  const body = (
    <div class="signin">
      <h1>{title}</h1>
      <p>{why}</p>
      <p>
        <a href="/">Back to the console</a>
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
