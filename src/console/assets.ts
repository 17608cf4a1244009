import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { staticFile } from '../http/static-files.ts';
import { hashedPath, stylesheetRoute } from '../web/assets.ts';
import { LIVE_STATUS_SCRIPT } from './live-status.ts';
import { NAV_SCRIPT } from './nav-current.ts';
import { RESOLVED_MEANWHILE_SCRIPT } from './resolved-meanwhile.ts';
import { SEND_ONCE_SCRIPT } from './send-once.ts';
import { CONSOLE_STYLESHEET } from './style.ts';

// What console pages load, all from this origin: our stylesheet, at a path naming its content as
// the public pages' is (cached for a year, a new version a new path), and htmx with its SSE
// extension from the htmx.org package (revalidated by ETag: it changes only with the package).
// Nothing from a CDN.

const HTMX = join(dirname(createRequire(import.meta.url).resolve('htmx.org/package.json')), 'dist');
const JS = 'text/javascript; charset=utf-8';

export const CONSOLE_STYLESHEET_PATH = hashedPath('/console', 'console', CONSOLE_STYLESHEET);
export const SEND_ONCE_SCRIPT_PATH = hashedPath('/console', 'send-once', SEND_ONCE_SCRIPT, 'js');
export const NAV_SCRIPT_PATH = hashedPath('/console', 'nav', NAV_SCRIPT, 'js');
export const LIVE_STATUS_SCRIPT_PATH = hashedPath('/console', 'live-status', LIVE_STATUS_SCRIPT, 'js');
export const RESOLVED_MEANWHILE_SCRIPT_PATH = hashedPath('/console', 'resolved-meanwhile', RESOLVED_MEANWHILE_SCRIPT, 'js');

/** The mark beside the name, as the tab's icon (a data: URL: nothing more to fetch). */
export const ICON = `data:image/svg+xml,${encodeURIComponent(
  "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'><rect width='24' height='24' rx='5' fill='#1b1f24'/><path d='M2 13h4.5l2.2-5.5 3.8 10 2.8-7.5 1.4 3H22' fill='none' stroke='#ff6b5e' stroke-width='2.2' stroke-linecap='round' stroke-linejoin='round'/></svg>",
)}`;

/** Mounted at the root: /console/console-<hash>.css, /console/send-once-<hash>.js, /console/nav-<hash>.js, /console/live-status-<hash>.js, /console/resolved-meanwhile-<hash>.js, /console/htmx.min.js, /console/hx-sse.min.js. */
export function consoleAssets(): Hono {
  const assets = new Hono();
  stylesheetRoute(assets, CONSOLE_STYLESHEET_PATH, CONSOLE_STYLESHEET);
  assets.get('/console/htmx.min.js', ...staticFile(join(HTMX, 'htmx.min.js'), JS));
  assets.get('/console/hx-sse.min.js', ...staticFile(join(HTMX, 'ext', 'hx-sse.min.js'), JS));
  for (const [path, script] of [
    [SEND_ONCE_SCRIPT_PATH, SEND_ONCE_SCRIPT],
    [NAV_SCRIPT_PATH, NAV_SCRIPT],
    [LIVE_STATUS_SCRIPT_PATH, LIVE_STATUS_SCRIPT],
    [RESOLVED_MEANWHILE_SCRIPT_PATH, RESOLVED_MEANWHILE_SCRIPT],
  ] as const) {
    assets.get(path, (c) => c.body(script, 200, { 'content-type': JS, 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' }));
  }
  return assets;
}
