import { Hono } from 'hono';
import { publishedPage } from '../../statuspages/service.ts';
import { SLUG, type PageView } from '../../statuspages/model.ts';
import { PAGE_HEADERS } from '../../web/layout.tsx';
import { renderBadRequest, renderMissingPage, renderStatusPage, withoutUpdated } from '../../web/status-page.tsx';
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
  /** The HTML with `?refresh=N`, by N: at most one per pace in REFRESH_SECONDS. */
  refreshing?: Map<number, Promise<EncodedBody>>;
}

/**
 * `?refresh=N`: the page reloads itself every N seconds, for a screen nobody reads with a keyboard.
 * Never by default (a reload resets focus and reading position, WCAG 2.2.1). Only these paces: each
 * is a rendering of its own (~2 ms) and two compressions (~3 ms) once per cache period, so every
 * one is kept; any N allowed would let a client walking through 35..3600 make each request cost
 * all that. Under 30 s a wall of screens would be most of the load (a 10 s cache); over an hour, a
 * reload is no longer keeping anything current.
 */
export const REFRESH_SECONDS = [30, 60, 300, 900, 3600] as const;
const REFRESH_ASKED = `refresh must be one of ${REFRESH_SECONDS.slice(0, -1).join(', ')} or ${REFRESH_SECONDS.at(-1)} seconds.`;

/** The reload asked for: none, seconds, or undefined when `raw` is not one of REFRESH_SECONDS as written there. */
function refreshOf(raw: string | undefined): number | null | undefined {
  if (raw === undefined) return null;
  return REFRESH_SECONDS.find((n) => String(n) === raw);
}

/**
 * Whether a page's answer is the same with this query as without (then fast-public.ts may send the
 * kept one): it asks for no reload, `refresh` being the one thing of a query a page reads.
 */
const ignoresQuery = (query: string): boolean => refreshOf(new URLSearchParams(query).get('refresh') ?? undefined) === null;

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
  let badRefresh: Promise<string> | undefined;
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
    if (refresh === undefined) return c.html(await (badRefresh ??= renderBadRequest(REFRESH_ASKED)), 400, PAGE_HEADERS);
    const encoded = (seconds?: number) => renderStatusPage(page.view, seconds).then((html) => encodeBody(html, htmlHeaders, withoutUpdated(html)));
    if (refresh !== null) {
      const kept = (page.refreshing ??= new Map());
      let rendering = kept.get(refresh);
      if (!rendering) kept.set(refresh, (rendering = encoded(refresh)));
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
  return { app, forget: () => pages.clear(), kept, ignoresQuery };
}
