// The files the engine's pages load, served from this origin. Each URL names its content's hash,
// so a browser may keep it for a year and an upgrade still takes effect at once.

import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { STYLESHEET } from './style.ts';

const hash = createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 12);

export const STYLESHEET_PATH = `/assets/lifeline-${hash}.css`;

/** Mounted at the root: GET /assets/lifeline-<hash>.css. */
export function assetRoutes(): Hono {
  const app = new Hono();
  app.get(STYLESHEET_PATH, (c) =>
    c.body(STYLESHEET, 200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    }),
  );
  return app;
}
