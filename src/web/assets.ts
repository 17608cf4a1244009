// The files the engine's pages load, served from this origin. Each URL names its content's hash,
// so a browser may keep it for a year and an upgrade still takes effect at once.

import { createHash } from 'node:crypto';
import { Hono, type Env } from 'hono';
import { STYLESHEET } from './style.ts';

/** Where a stylesheet (or a script, `ext` js) is served: under `dir`, named `name` and its content's hash. */
export function hashedPath(dir: string, name: string, content: string, ext = 'css'): string {
  return `${dir}/${name}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}.${ext}`;
}

/** Serves `css` at `path` (from hashedPath), cached for a year: a new content is a new path. */
export function stylesheetRoute<E extends Env>(app: Hono<E>, path: string, css: string): void {
  app.get(path, (c) =>
    c.body(css, 200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    }),
  );
}

export const STYLESHEET_PATH = hashedPath('/assets', 'lifeline', STYLESHEET);

/** Mounted at the root: GET /assets/lifeline-<hash>.css. */
export function assetRoutes(): Hono {
  const app = new Hono();
  stylesheetRoute(app, STYLESHEET_PATH, STYLESHEET);
  return app;
}
