import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { staticFile } from '../http/static-files.ts';
import { PACKAGE_ROOT } from '../package-files.ts';

// What console pages load, all from this origin: our stylesheet and icon (src/console/static/,
// shipped beside the compiled code like sql/), and htmx with its SSE extension from the htmx.org
// package. Nothing from a CDN.

const HTMX = join(dirname(createRequire(import.meta.url).resolve('htmx.org/package.json')), 'dist');
const OURS = new URL('src/console/static/', PACKAGE_ROOT);
const JS = 'text/javascript; charset=utf-8';

export function consoleAssets(): Hono {
  const assets = new Hono();
  assets.get('/console.css', ...staticFile(new URL('console.css', OURS), 'text/css; charset=utf-8'));
  assets.get('/icon.svg', ...staticFile(new URL('icon.svg', OURS), 'image/svg+xml'));
  assets.get('/htmx.min.js', ...staticFile(join(HTMX, 'htmx.min.js'), JS));
  assets.get('/hx-sse.min.js', ...staticFile(join(HTMX, 'ext', 'hx-sse.min.js'), JS));
  return assets;
}
