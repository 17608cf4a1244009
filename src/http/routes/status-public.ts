import { Hono } from 'hono';
import { publishedPage } from '../../statuspages/service.ts';
import { SLUG, type PageView } from '../../statuspages/model.ts';
import { PAGE_HEADERS } from '../../web/layout.tsx';
import { renderMissingPage, renderStatusPage } from '../../web/status-page.tsx';
import type { AppDeps } from '../deps.ts';
import { encodeBody, sendEncoded, type EncodedBody } from '../encoded-body.ts';
import { errorBody } from '../errors.ts';
import { PublicCache } from '../public-cache.ts';

/** A computed page and its two renderings, each made (and encoded) the first time it is asked for. */
interface Published {
  view: PageView;
  html?: Promise<EncodedBody>;
  json?: EncodedBody;
}

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

  const app = new Hono();
  app.get('/:page', async (c) => {
    const name = c.req.param('page');
    const json = name.endsWith('.json');
    const slug = json ? name.slice(0, -'.json'.length) : name;
    const page = SLUG.test(slug) ? await pages.get(slug) : undefined;
    if (json) {
      if (!page) return c.json(errorBody('not_found', `Status page "${slug}" was not found.`), 404);
      page.json ??= encodeBody(JSON.stringify(page.view), jsonHeaders);
      return sendEncoded(c, page.json);
    }
    if (!page) return c.html(await (missing ??= renderMissingPage()), 404, PAGE_HEADERS);
    page.html ??= renderStatusPage(page.view).then((html) => encodeBody(html, htmlHeaders));
    return sendEncoded(c, await page.html);
  });
  return { app, forget: () => pages.clear() };
}
