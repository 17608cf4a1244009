// The routes anyone may call without a secret and that a crowd may call at once: status pages,
// badges, the pages links in notifications open (their token is their authority), and the
// stylesheet they load. Each client address has its own budget, and answers are
// kept for a few seconds, so a page that goes viral costs one computation per period and cannot
// take the engine's time away from ingest or evaluation.

import { Hono, type MiddlewareHandler } from 'hono';
import { assetRoutes } from '../web/assets.ts';
import type { AppDeps } from './deps.ts';
import { refuseUnstorableText } from './validation.ts';
import { actionLinkRoutes } from './routes/action-links.ts';
import { badgeRoutes } from './routes/badges.ts';
import { statusRoutes } from './routes/status-public.ts';

export interface PublicOptions {
  /** Proxies in front whose X-Forwarded-For entries are believed (client-address.ts). */
  trustProxyHops: number;
  /**
   * How long a computed page or badge is served before it is computed again. 10 s: a page costs
   * tens of milliseconds to compute, so at most a few per cent of one core however many read it,
   * while a reader sees a change within 10 s (plus what their browser or a proxy keeps for the
   * Cache-Control max-age).
   */
  cacheMs: number;
}

const DEFAULTS: PublicOptions = { trustProxyHops: 0, cacheMs: 10_000 };

export interface PublicSurface {
  app: Hono;
  /** Forget every kept page: one was created, edited or deleted. */
  pagesChanged(): void;
  /** Forget every kept badge: a badge id was rotated. */
  badgesChanged(): void;
}

/** `perClient`: the budget of each client address (limits.ts), shared by every public route. */
export function publicSurface(deps: AppDeps, perClient: MiddlewareHandler): PublicSurface {
  const o = { ...DEFAULTS, ...deps.publicPages };
  const app = new Hono();
  app.use('/status/*', perClient);
  app.use('/badge/*', perClient);
  app.use('/a/*', perClient);
  // The API's one rule for text in paths and queries: a slug, badge id or link token with U+0000
  // is a 400, never a lookup.
  for (const path of ['/status/*', '/badge/*', '/a/*']) app.use(path, refuseUnstorableText());
  const status = statusRoutes(deps, o.cacheMs);
  const badges = badgeRoutes(deps, o.cacheMs);
  app.route('/status', status.app);
  app.route('/badge', badges.app);
  app.route('/a', actionLinkRoutes(deps));
  app.route('/', assetRoutes());
  return { app, pagesChanged: status.forget, badgesChanged: badges.forget };
}
