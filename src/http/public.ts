// The routes anyone may call without a secret and that a crowd may call at once: status pages,
// badges, the pages links in notifications open (their token is their authority), and the
// stylesheet they load. Each client address has its own budget, and answers are
// kept for a few seconds, so a page that goes viral costs one computation per period and cannot
// take the engine's time away from ingest or evaluation.

import { Hono } from 'hono';
import { assetRoutes } from '../web/assets.ts';
import { PAGE_HEADERS } from '../web/layout.tsx';
import { renderTooManyRequests } from '../web/status-page.tsx';
import type { AppDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import type { FastPath } from './fast-path.ts';
import { fastPublic } from './fast-public.ts';
import type { Limits } from './limits.ts';
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
   * while a reader sees a change of the fleet (states, uptime, incidents) within 10 s, plus what
   * their browser or a proxy keeps for the Cache-Control max-age. An edit (a page, a badge id, a
   * node's name, labels or deletion) is forgotten at once everywhere instead (public-changes.ts).
   */
  cacheMs: number;
}

const DEFAULTS: PublicOptions = { trustProxyHops: 0, cacheMs: 10_000 };

export interface PublicSurface {
  app: Hono;
  /** Forget every kept page: one was created, edited or deleted here (other processes hear of it by NOTIFY). */
  pagesChanged(): void;
  /** Forget every kept badge: a badge id was rotated here (other processes hear of it by NOTIFY). */
  badgesChanged(): void;
  /** Kept pages and badges answered in front of hono (fast-public.ts). */
  fast: FastPath;
}

/** `limits`: the budget of each client address, shared by every public route. */
export function publicSurface(deps: AppDeps, limits: Pick<Limits, 'perPublicClient' | 'admitPublic'>): PublicSurface {
  const o = { ...DEFAULTS, ...deps.publicPages };
  const app = new Hono();
  // A status page's HTML is read by people in a browser: past the budget they get a page saying
  // when to come back, not the API's JSON error; its JSON and the badges keep that.
  app.use('/status/*', async (c, next) => {
    if (c.req.path.endsWith('.json')) return limits.perPublicClient(c, next);
    try {
      await limits.perPublicClient(c, async () => {});
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 429) throw e;
      const retry = e.headers?.['retry-after'] ?? '60';
      return c.html(await renderTooManyRequests(Number(retry)), 429, { ...PAGE_HEADERS, 'retry-after': retry, 'cache-control': 'no-store' });
    }
    await next();
  });
  for (const path of ['/badge/*', '/a/*']) app.use(path, limits.perPublicClient);
  // The API's one rule for text in paths and queries: a slug, badge id or link token with U+0000
  // is a 400, never a lookup.
  for (const path of ['/status/*', '/badge/*', '/a/*']) app.use(path, refuseUnstorableText());
  const status = statusRoutes(deps, o.cacheMs);
  const badges = badgeRoutes(deps, o.cacheMs);
  // Edits in other processes too; the routes that edit also forget here at once (pagesChanged,
  // badgesChanged), before they answer, rather than some milliseconds later when the notice comes back.
  deps.publicChanges?.onChange((cache) => (cache === 'pages' ? status.forget() : badges.forget()));
  app.route('/status', status.app);
  app.route('/badge', badges.app);
  app.route('/a', actionLinkRoutes(deps));
  app.route('/', assetRoutes());
  const fast = fastPublic(deps, limits.admitPublic, [
    // A badge reads its metric, window and label from the query.
    { prefix: '/status/', route: '/status/:page', ignoresQuery: status.ignoresQuery, kept: status.kept },
    { prefix: '/badge/', route: '/badge/:file', ignoresQuery: () => false, kept: badges.kept },
  ]);
  return { app, pagesChanged: status.forget, badgesChanged: badges.forget, fast };
}
