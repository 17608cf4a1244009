// The app served to a real Chromium, with a write key to sign in to the console with: what a
// console test in a browser sets up before its tests and takes down after them.

import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import { createHarness, type Harness } from './app.ts';
import { launchBrowser, serveApp } from './browser.ts';

export interface ConsoleInBrowser {
  h: Harness;
  origin: string;
  browser: Browser;
  /** The secret of a write key named as asked. */
  key: string;
}

/** Registers the suite's before and after; the fields are set once its before has run. */
export function consoleInBrowser(keyName: string): ConsoleInBrowser {
  const c = {} as ConsoleInBrowser;
  let server: Awaited<ReturnType<typeof serveApp>> | undefined;
  before(async () => {
    c.h = await createHarness();
    server = await serveApp(c.h.app);
    c.origin = server.origin;
    c.browser = await launchBrowser();
    c.key = (await c.h.createKey('write', keyName)).secret;
  });
  after(async () => {
    await c.browser?.close();
    server?.close();
    await c.h?.close();
  });
  return c;
}
