// A real browser for the engine's pages: Debian's chromium (`apt-get install chromium`), driven by
// playwright-core, which brings no browser of its own. CHROMIUM_PATH points elsewhere.

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { chromium, type Browser, type BrowserContextOptions, type Page, type Request as BrowserRequest } from 'playwright-core';

/**
 * The four ways a page is looked at: a desktop and a phone-width screen (an iPhone 12-15, 390 px),
 * each in the light and the dark colour scheme (prefers-color-scheme).
 */
export const VIEWS: ReadonlyArray<{ name: string; phone: boolean; context: BrowserContextOptions }> = [
  { name: 'desktop-light', phone: false, context: { viewport: { width: 1280, height: 900 }, colorScheme: 'light' } },
  { name: 'desktop-dark', phone: false, context: { viewport: { width: 1280, height: 900 }, colorScheme: 'dark' } },
  { name: 'phone-light', phone: true, context: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'light' } },
  { name: 'phone-dark', phone: true, context: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' } },
];

/** `scrollbars`: classic ones taking room from the page, as a desktop shows them; Playwright hides them by default. */
export function launchBrowser(o: { scrollbars?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...(o.scrollbars ? { ignoreDefaultArgs: ['--hide-scrollbars'] } : {}),
  });
}

/** The app on a port of its own on 127.0.0.1, as a browser reaches it. */
export async function serveApp(app: { fetch: (req: Request) => Response | Promise<Response> }): Promise<{ origin: string; close(): void }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/**
 * A page that notes every script error, console error, CSP violation, failed request and request
 * to another origin than `origin`; a test expects `problems` to stay empty.
 */
export async function watchedPage(browser: Browser, origin: string, context: BrowserContextOptions = {}): Promise<{ page: Page; problems: string[] }> {
  const page = await (await browser.newContext(context)).newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  // Main-frame navigations so far, and how many had begun when each request did: leaving a page
  // ends its event stream and any live re-read under way (Lifeline-Refresh), which the browser
  // reports as aborted requests. Those are no problem, but only when a navigation began after the
  // request did: an abort otherwise (a stream that hung and was cut) is reported.
  let navigations = 0;
  const begunAt = new WeakMap<BrowserRequest, number>();
  const navigated = () => void navigations++;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigated();
  });
  page.on('request', (r) => {
    // The navigation's own request begins it: the old page's requests are aborted before the new
    // one commits (framenavigated).
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigated();
    begunAt.set(r, navigations);
    const url = r.url();
    if (!url.startsWith('data:') && new URL(url).origin !== origin) problems.push(`request to ${url}`);
  });
  page.on('requestfailed', (r) => {
    const live = new URL(r.url()).pathname === '/v1/events' || r.headers()['lifeline-refresh'] !== undefined;
    const left = navigations > (begunAt.get(r) ?? navigations);
    if (!live || !left || r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`failed: ${r.url()}`);
  });
  await page.exposeFunction('cspViolation', (what: string) => problems.push(`CSP: ${what}`));
  await page.addInitScript({
    content: "document.addEventListener('securitypolicyviolation', (e) => window.cspViolation(`${e.violatedDirective} blocked ${e.blockedURI}`));",
  });
  return { page, problems };
}

/** Signs in to the console at `path` with an API key, as a person does, and waits to be there. */
export async function signInToConsole(page: Page, origin: string, key: string, path = '/'): Promise<void> {
  await page.goto(origin + path);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(origin + path);
}

/**
 * Has `region` re-read itself as the live feed reporting `type` makes it, and waits for the morph of
 * a request that went out after the event: one already in flight then (the feed's connection, the
 * 30 s re-read) answers with what was there before the change, and htmx queues the event's own
 * behind it, so the first morph after the event could show the old counts (seen once in a CI run).
 */
export const reread = (page: Page, region: string, type: string) =>
  page.evaluate(
    ([region, type]) =>
      new Promise<void>((done) => {
        // (Anonymous listeners, left in place: a named one would need tsx's __name helper in the page.)
        const sent = new Set<unknown>();
        document.addEventListener('htmx:before:request', (e) => {
          if ((e.target as Element | null)?.id === region) sent.add((e as CustomEvent).detail?.ctx);
        });
        document.addEventListener('htmx:after:swap', (e) => {
          if ((e.target as Element | null)?.id === region && sent.has((e as CustomEvent).detail?.ctx)) done();
        });
        document.getElementById('live')!.dispatchEvent(new Event(type));
      }),
    [region, type] as const,
  );

/**
 * Waits until the page's document is parsed, so its deferred scripts have run (send-once.ts moves
 * the focus to an action's outcome), and the page has rendered twice after: a refused form's field
 * takes the focus by `autofocus`, which the browser applies at a rendering step after the page's
 * text is there. Reading the focus as soon as the text shows raced both on a loaded machine.
 */
export const rendered = (page: Page): Promise<void> =>
  page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        // DOMContentLoaded comes after the deferred scripts ran; readyState is "interactive" before
        // they run. (Anonymous callbacks only: a named one would need tsx's __name helper in the page.)
        new Promise<void>((parsed) =>
          (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.domContentLoadedEventEnd
            ? parsed()
            : document.addEventListener('DOMContentLoaded', () => parsed()),
        ).then(() => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
      }),
  );

/** The id of the element with the focus once the page has rendered (`rendered`). */
export const focusedAfterRendering = async (page: Page): Promise<string | undefined> => {
  await rendered(page);
  return page.evaluate(() => document.activeElement?.id);
};
