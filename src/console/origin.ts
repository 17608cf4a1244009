import type { Context } from 'hono';
import type { ConsoleSettings } from '../http/session.ts';

/** Whether a request changes something (anything but a read). */
export const isAction = (c: Context) => c.req.method !== 'GET' && c.req.method !== 'HEAD';

/** The origins a console form may be posted from: the one the request was sent to, and the public one. */
export function sameOrigin(c: Context, settings: ConsoleSettings): boolean {
  const origin = c.req.header('origin');
  if (origin === undefined) {
    // Browsers send Origin with every POST; Fetch Metadata is the fallback for ones that do not.
    return c.req.header('sec-fetch-site') === 'same-origin';
  }
  return origin === new URL(c.req.url).origin || origin === settings.publicOrigin;
}
