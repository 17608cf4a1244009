// The console served to a real Chromium: what a console test in a browser sets up before its tests
// and takes down after them. Either the app of a harness (its manual clock, its database) with a key
// to sign in with, or a real engine of its own.

import { after, before } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { ADMIN_TOKEN, createHarness, type Harness } from './app.ts';
import { launchBrowser, serveApp, signInToConsole, watchedPage } from './browser.ts';
import { useEngine, type SuiteEngine } from './engine-process.ts';

export interface ConsoleOptions {
  /** The name of a key made to sign in with; without it, the harness's bootstrap admin token. */
  key?: string;
  /** The key's scope: write unless told. */
  scope?: 'admin' | 'write' | 'read';
  /**
   * Statuses the console answers on purpose (a refused form's 400, a stale save's 412), which
   * Chromium also logs as errors: not problems of a page opened by `signedIn`.
   */
  refusals?: number[];
  /** Classic scrollbars, taking room from the page (`launchBrowser`). */
  scrollbars?: boolean;
  /** What the browser's requests reach: the harness's app unless told. */
  serve?: (h: Harness) => { fetch: (req: Request) => Response | Promise<Response> };
}

/** The desktop a page is opened at unless told: 1280 × 900. */
export const DESKTOP_VIEW: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };

/** Whom a page signs in as (the suite's key unless told) and how it is looked at (`DESKTOP_VIEW` unless told). */
export interface PageOptions {
  key?: string | undefined;
  context?: BrowserContextOptions | undefined;
}

export interface ConsoleInBrowser {
  h: Harness;
  origin: string;
  browser: Browser;
  /** The secret of the key the options named, or the bootstrap admin token. */
  key: string;
  /** What the pages opened by `signedIn` reported once closed, but for the statuses of `refusals`. */
  problems: string[];
  /** A watched page (`watchedPage`) in a context of its own, signed in at `path` with `key`. */
  open(path: string, o?: PageOptions): Promise<{ page: Page; problems: string[] }>;
  /** A page as `open` gives it, whose problems go to `problems` when it closes. */
  signedIn(path: string, o?: PageOptions): Promise<Page>;
  close(): Promise<void>;
}

/** A harness's app on a port of its own, a Chromium and a key to sign in with. */
export async function openConsoleInBrowser(o: ConsoleOptions = {}): Promise<ConsoleInBrowser> {
  const h = await createHarness();
  const server = await serveApp(o.serve ? o.serve(h) : h.app);
  const browser = await launchBrowser({ scrollbars: o.scrollbars ?? false }).catch(async (e: unknown) => {
    server.close();
    await h.close();
    throw e;
  });
  const origin = server.origin;
  const problems: string[] = [];
  const refused = o.refusals?.length ? new RegExp(`^console: Failed to load resource: .* status of (${o.refusals.join('|')}) `) : undefined;
  /** A watched page signed in at `path`; `closing` is handed its problems when it closes. */
  const open = async (path: string, { key = c.key, context = DESKTOP_VIEW }: PageOptions = {}, closing?: (problems: string[]) => void) => {
    const watched = await watchedPage(browser, origin, context);
    if (closing) watched.page.on('close', () => closing(watched.problems));
    await signInToConsole(watched.page, origin, key, path);
    return watched;
  };
  const c: ConsoleInBrowser = {
    h,
    origin,
    browser,
    key: ADMIN_TOKEN,
    problems,
    open: (path, o) => open(path, o),
    signedIn: async (path, o) => (await open(path, o, (seen) => problems.push(...seen.filter((p) => !refused?.test(p))))).page,
    async close() {
      await browser.close();
      server.close();
      await h.close();
    },
  };
  if (o.key) c.key = (await h.createKey(o.scope ?? 'write', o.key)).secret;
  return c;
}

/** Registers the suite's before and after around `openConsoleInBrowser`; the fields are set once its before has run. */
export function consoleInBrowser(o: ConsoleOptions = {}): ConsoleInBrowser {
  const c = {} as ConsoleInBrowser;
  before(async () => {
    Object.assign(c, await openConsoleInBrowser(o));
  });
  after(async () => {
    await c.close?.();
  });
  return c;
}

/** Runs one test's `run` in a console of its own (`openConsoleInBrowser`), closed after it whatever it came to. */
export async function withConsoleInBrowser<T>(o: ConsoleOptions, run: (c: ConsoleInBrowser) => Promise<T>): Promise<T> {
  const c = await openConsoleInBrowser(o);
  try {
    return await run(c);
  } finally {
    await c.close();
  }
}

/** A real engine of its own (`useEngine`) and a Chromium, for a file's console tests; the browser is closed before the engine stops. */
export function engineInBrowser(): SuiteEngine & { browser: Browser } {
  let e!: SuiteEngine & { browser: Browser };
  before(async () => {
    e.browser = await launchBrowser();
  });
  after(async () => {
    await e.browser?.close();
  });
  e = useEngine() as SuiteEngine & { browser: Browser };
  return e;
}
