// A real browser for the engine's pages: Debian's chromium (`apt-get install chromium`), driven by
// playwright-core, which brings no browser of its own. CHROMIUM_PATH points elsewhere.

import { chromium, type Browser } from 'playwright-core';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
