// The frame of every page the engine serves as HTML: document head, the stylesheet from this
// origin, and the Content-Security-Policy that keeps each page to that origin.

import type { Child } from 'hono/jsx';
import type { HtmlEscapedString } from 'hono/utils/html';
import { STYLESHEET_PATH } from './assets.ts';

/**
 * Pages carry no script at all and load nothing from another origin: styles only from our own
 * stylesheet (no inline styles), images only as data: URLs (the favicon).
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The same for a page whose one form posts back to this origin (a notification link's button). */
export const FORM_PAGE_CSP = PAGE_CSP.replace("form-action 'none'", "form-action 'self'");

export const PAGE_HEADERS = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** A round favicon in one colour, as a data: URL (the page's state at a glance in a tab). */
export function dotIcon(color: string): string {
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><circle cx='8' cy='8' r='7' fill='${color}'/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

export interface LayoutProps {
  title: string;
  description?: string | undefined;
  icon: string;
  /**
   * Reload every this many seconds. Only on request (a wall screen, a page waiting out a 429): a
   * reload puts focus and the reading position back at the top and closes what was opened, every
   * time, for whoever is reading with a keyboard or a screen reader (WCAG 2.2.1).
   */
  refreshSeconds?: number;
  children: Child;
}

export function Layout(p: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        {p.refreshSeconds ? <meta http-equiv="refresh" content={String(p.refreshSeconds)} /> : null}
        <title>{p.title}</title>
        {p.description ? <meta name="description" content={p.description} /> : null}
        <link rel="icon" href={p.icon} />
        <link rel="stylesheet" href={STYLESHEET_PATH} />
      </head>
      <body>{p.children}</body>
    </html>
  );
}

/** A page element as the document it is. */
export async function documentOf(page: HtmlEscapedString | Promise<HtmlEscapedString>): Promise<string> {
  const node = await page;
  return `<!doctype html>\n${await node.toString()}`;
}
