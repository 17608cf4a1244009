import type { Child } from 'hono/jsx';
import type { ConsoleSession } from '../access/sessions.ts';
import { REFRESH_HEADER } from '../http/session.ts';
import type { EventType } from '../live/model.ts';
import { CONSOLE_STYLESHEET_PATH, ICON, LIVE_STATUS_SCRIPT_PATH, NAV_SCRIPT_PATH, SEND_ONCE_SCRIPT_PATH } from './assets.ts';
import { LIVE_STATUS_ID, sayAttrs } from './live-status.ts';

export type Section = 'fleet' | 'incidents' | 'maintenance' | 'status-pages' | 'channels' | 'policies' | 'schedules' | 'people' | 'keys';

/** What every signed-in page shows around its content. */
export interface Chrome {
  session: ConsoleSession;
  /** Open incidents (not acknowledged yet), shown beside "Incidents" on every page. */
  openIncidents: number;
}

const SECTIONS: Array<{ id: Section; href: string; label: string; admin?: true }> = [
  { id: 'fleet', href: '/', label: 'Fleet' },
  { id: 'incidents', href: '/incidents', label: 'Incidents' },
  { id: 'maintenance', href: '/maintenance', label: 'Maintenance' },
  { id: 'status-pages', href: '/status-pages', label: 'Status pages' },
  { id: 'channels', href: '/channels', label: 'Channels' },
  { id: 'policies', href: '/policies', label: 'Escalation' },
  { id: 'schedules', href: '/schedules', label: 'Schedules' },
  { id: 'people', href: '/users', label: 'People' },
  { id: 'keys', href: '/keys', label: 'API keys', admin: true },
];

/** A heartbeat trace: the mark beside the name. */
export const Mark = () => (
  <svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
    <path d="M1 13h5l2.5-6 4 11 3-8 1.5 3H23" />
  </svg>
);

function Head(p: { title: string }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      {/* htmx would otherwise add a <style> element, which the page's CSP refuses. */}
      <meta name="htmx-config" content='{"includeIndicatorCSS":false}' />
      <title>{p.title} · Lifeline</title>
      <link rel="icon" href={ICON} />
      <link rel="stylesheet" href={CONSOLE_STYLESHEET_PATH} />
      {/* Not deferred: htmx processes the page as soon as it runs once parsing is over, so a
          deferred SSE extension could register after the page was processed and never connect.
          Both are small, cached and revalidated (304). */}
      <script src="/console/htmx.min.js"></script>
      <script src="/console/hx-sse.min.js"></script>
      <script src={SEND_ONCE_SCRIPT_PATH} defer></script>
    </head>
  );
}

/** A hidden form field with the session's CSRF token; every form that changes something has one. */
export const Csrf = (p: { session: ConsoleSession }) => <input type="hidden" name="_csrf" value={p.session.csrf} />;

export function Page(p: { title: string; chrome: Chrome; section?: Section; live?: readonly EventType[]; children?: Child }) {
  const { session } = p.chrome;
  return (
    <html lang="en">
      <Head title={p.title} />
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <div class="top-inner">
            <a class="brand" href="/">
              <Mark /> Lifeline
            </a>
            <nav aria-label="Console">
              <ul class="nav">
                {SECTIONS.filter((s) => !s.admin || session.scope === 'admin').map((s) => (
                  <li>
                    <a href={s.href} aria-current={s.id === p.section ? 'page' : undefined}>
                      {s.label}
                      {s.id === 'incidents' ? <OpenCount count={p.chrome.openIncidents} /> : null}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            {/* Not deferred: run before the page below is drawn, the current section is in view from the start. */}
            <script src={NAV_SCRIPT_PATH}></script>
            <div class="who">
              <span class="who-name" title={`Signed in with the API key "${session.keyName}"`}>
                {session.keyName} · {session.scope}
              </span>
              <form method="post" action="/sign-out">
                <Csrf session={session} />
                <button type="submit" class="small">
                  Sign out
                </button>
              </form>
            </div>
          </div>
        </header>
        <main id="main">{p.children}</main>
        {/* What the live regions' re-reads change, said to a screen reader (live-status.ts): outside
            them all, so no re-read replaces it. */}
        <div id={LIVE_STATUS_ID} class="visually-hidden" role="status" aria-live="polite" aria-atomic="true"></div>
        <script src={LIVE_STATUS_SCRIPT_PATH} defer></script>
        {/* The live feed: its events refresh the page's live regions (hx-trigger "... from:#live"). */}
        {/* Only pages with live regions of their own hold one: a browser allows 6 HTTP/1.1 connections */}
        {/* per origin, and each stream keeps one, so 6 tabs of streams would hang every other request. */}
        {/* Where there is one it also carries incidents, for the navigation's count (OpenCount). */}
        {p.live ? <div id="live" hidden hx-sse:connect={`/v1/events?types=${[...new Set([...p.live, ...OPEN_COUNT_ON])].join(',')}`}></div> : null}
      </body>
    </html>
  );
}

/** A page outside a session (sign-in, signed out). */
export function Bare(p: { title: string; children?: Child }) {
  return (
    <html lang="en">
      <Head title={p.title} />
      <body>
        <main id="main">{p.children}</main>
      </body>
    </html>
  );
}

/** What a live region's own re-reads send (REFRESH_HEADER). */
const REFRESH = JSON.stringify({ [REFRESH_HEADER]: 'auto' });

/**
 * When a live region re-reads itself: when the live feed reports a change of the given types, at
 * most every half second (a storm of 10,000 transitions is a few requests, and the last change is
 * never dropped: htmx's throttle fires once more after the cooldown), on every (re)connection of
 * the feed (changes made before it connected), and every 30 s regardless.
 */
const liveTrigger = (on: readonly EventType[]): string =>
  [...on.map((e) => `${e} from:#live throttle:500ms`), 'htmx:sse:after:connection from:#live', 'every 30s'].join(', ');

/**
 * A region that re-reads itself from the same URL (liveTrigger). These re-reads say they are
 * refreshes (REFRESH_HEADER): a tab left open must not keep its session from idling out, and they
 * are refused like any request once it has.
 */
export function Live(p: { id: string; url: string; on: readonly EventType[]; children?: Child }) {
  return (
    <div id={p.id} hx-get={p.url} hx-trigger={liveTrigger(p.on)} hx-headers={REFRESH} hx-select={`#${p.id}`} hx-swap="outerMorph">
      {p.children}
    </div>
  );
}

/** Where the navigation's count re-reads itself (openCountRoutes). */
export const OPEN_COUNT_PATH = '/nav/open-incidents';
const OPEN_COUNT_ON: readonly EventType[] = ['incident.changed'];
const NAV_OPEN = 'nav-open';
const OPEN_COUNT_TRIGGER = `${liveTrigger(OPEN_COUNT_ON)}, visibilitychange from:document`;

/**
 * The navigation's count of open incidents, beside "Incidents" on every signed-in page: a live
 * region of its own. On a page with a feed (Page's `live`) it re-reads on the incidents the feed
 * reports, whatever the page's own regions listen to: it followed those regions before, so the
 * Fleet page, which hears only of nodes, kept a new incident's count for up to 30 s (its node
 * turns down ~1 s before the incident opens, and that re-read came too early to count it). On a
 * page without a feed (`from:#live` finds nothing) it re-reads every 30 s and when the tab is
 * shown again (hidden too: htmx's trigger filters need eval, which the CSP refuses). One trigger
 * for both, as the re-read's answer morphs its attributes over these. Its re-read is a session
 * lookup and a count and a few hundred bytes, not the page. Always there, empty at 0.
 */
export function OpenCount(p: { count: number }) {
  return (
    <span
      id={NAV_OPEN}
      hx-get={OPEN_COUNT_PATH}
      hx-trigger={OPEN_COUNT_TRIGGER}
      hx-headers={REFRESH}
      hx-select={`#${NAV_OPEN}`}
      hx-swap="outerMorph"
      {...sayAttrs({ key: NAV_OPEN, state: `${p.count}`, say: `${p.count === 0 ? 'No' : p.count} open incident${p.count === 1 ? '' : 's'} (was {was})` })}
    >
      {p.count > 0 ? (
        // Unacknowledged only, as PagerDuty counts triggered ones: what still needs someone, and
        // the "open" filter's count; the list itself also shows the acknowledged.
        <span class="count" title="Open incidents nobody has acknowledged yet">
          <span class="visually-hidden">, open: </span>
          {p.count}
        </span>
      ) : null}
    </span>
  );
}
