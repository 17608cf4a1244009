import { Hono } from 'hono';
import { publishedPage } from '../../statuspages/service.ts';
import { SLUG, type PageView } from '../../statuspages/model.ts';
import { PAGE_HEADERS } from '../../web/layout.tsx';
import { renderMissingPage, renderStatusPage, withoutUpdated } from '../../web/status-page.tsx';
import type { AppDeps } from '../deps.ts';
import { encodeBody, sendEncoded, type EncodedBody } from '../encoded-body.ts';
import { errorBody } from '../errors.ts';
import { PublicCache } from '../public-cache.ts';

/** A computed page and its two renderings, each made (and encoded) the first time it is asked for. */
interface Published {
  view: PageView;
  /** The HTML under way; `html` once it is done, so a reader without a Promise can serve it. */
  rendering?: Promise<EncodedBody>;
  html?: EncodedBody;
  json?: EncodedBody;
  /** The HTML with `?refresh=N`, by N: a wall screen asks the same N each time, so a few are kept. */
  refreshing?: Map<number, Promise<EncodedBody>>;
}

/**
 * `?refresh=N`: the page reloads itself every N seconds, for a screen nobody reads with a keyboard.
 * Never by default (a reload resets focus and reading position, WCAG 2.2.1). Under 30 s a wall of
 * screens would be most of the load (a 10 s cache); over an hour, a reload is no longer keeping
 * anything current.
 */
export const REFRESH_SECONDS = { min: 30, max: 3600 } as const;
// Renderings kept per page for other N: beyond these a reader's N is rendered for that request only,
// so a client walking through 3,571 values cannot make a page's cache hold that many copies.
const REFRESHING_KEPT = 4;

/** The reload asked for: none, seconds, or undefined when `raw` is no whole number in range. */
function refreshOf(raw: string | undefined): number | null | undefined {
  if (raw === undefined) return null;
  if (!/^\d{1,4}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= REFRESH_SECONDS.min && n <= REFRESH_SECONDS.max ? n : undefined;
}

/** What the last path segment names: a page's HTML or, with `.json`, its JSON. */
const pageFile = (name: string) => (name.endsWith('.json') ? { slug: name.slice(0, -'.json'.length), json: true } : { slug: name, json: false });

/**
 * GET /status/{slug} (HTML) and /status/{slug}.json, without auth. A page that is not public is
 * answered exactly like one that does not exist.
 */
export function statusRoutes(deps: AppDeps, cacheMs: number) {
  const { sql, clock } = deps;
  const pages = new PublicCache<Published>({
    ttlMs: cacheMs,
    max: 1000,
    clock,
    load: async (slug) => {
      const view = await publishedPage(sql, slug, clock.now().getTime());
      return view && { view };
    },
  });
  const cacheControl = `public, max-age=${Math.round(cacheMs / 1000)}`;
  const jsonHeaders = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': cacheControl,
    // Other tools (dashboards, widgets on another site) may read it from a browser.
    'access-control-allow-origin': '*',
  };
  const htmlHeaders = { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': cacheControl };
  let missing: Promise<string> | undefined;
  // The JSON is made at once when first asked for; the HTML only once its rendering is done.
  const ready = (page: Published, json: boolean): EncodedBody | undefined =>
    json ? (page.json ??= encodeBody(JSON.stringify(page.view), jsonHeaders)) : page.html;

  const app = new Hono();
  app.get('/:page', async (c) => {
    const { slug, json } = pageFile(c.req.param('page'));
    const page = SLUG.test(slug) ? await pages.get(slug) : undefined;
    if (!page) {
      if (json) return c.json(errorBody('not_found', `Status page "${slug}" was not found.`), 404);
      return c.html(await (missing ??= renderMissingPage()), 404, PAGE_HEADERS);
    }
    const refresh = json ? null : refreshOf(c.req.query('refresh'));
    if (refresh === undefined) return c.json(errorBody('bad_request', `refresh must be a whole number of seconds from ${REFRESH_SECONDS.min} to ${REFRESH_SECONDS.max}.`), 400);
    const encoded = (seconds?: number) => renderStatusPage(page.view, seconds).then((html) => encodeBody(html, htmlHeaders, withoutUpdated(html)));
    if (refresh !== null) {
      const kept = (page.refreshing ??= new Map());
      const rendering = kept.get(refresh) ?? encoded(refresh);
      if (kept.size < REFRESHING_KEPT) kept.set(refresh, rendering);
      return sendEncoded(c, await rendering);
    }
    page.rendering ??= encoded().then((body) => (page.html = body));
    return sendEncoded(c, ready(page, json) ?? (await page.rendering));
  });
  /** The answer to `/status/{name}` when it is kept ready, at once (fast-public.ts); undefined sends the request to the app. */
  const kept = (name: string): EncodedBody | undefined => {
    const { slug, json } = pageFile(name);
    const page = pages.kept(slug);
    // Only bytes already encoded: the first encoding of a format is the app's, after the budget.
    return json ? page?.json : page?.html;
  };
  return { app, forget: () => pages.clear(), kept };
}
