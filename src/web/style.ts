// The stylesheet of the engine's own pages (status pages and notification links now, the console
// later), served from this origin at a URL that names its content (assets.ts). No web fonts, no
// images: the system font stack, and colours as variables that follow the reader's light or dark
// preference.
// It ships as a module rather than a .css file because dist/ holds only compiled modules.

import { PAGE_DAYS, RECENT_DAYS } from '../statuspages/model.ts';

export const STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f6f8fa;
  --card: #ffffff;
  --fg: #1f2328;
  --muted: #59636e;
  --border: #d1d9e0;
  /* A form field's edge: 3:1 on the card (WCAG 1.4.11); --border is 1.43:1. */
  --field-border: #7d8794;
  --healthy: #1a7f37;
  --degraded: #8a5c00;
  /* A bar and the legend's swatch, beside the card and the tinted --bg: 3:1 on both (WCAG
     1.4.11). The degraded yellow was 2.11:1 on --bg, no data's grey 1.34:1. */
  --degraded-fill: #b08800;
  --down: #cf222e;
  --maintenance: #0969da;
  --unknown: #6e7781;
  --no-data: #818b98;
  --on-state: #ffffff;
  /* The banner's fill behind its white words: 4.5:1 or more (5.1, 5.8, 5.4, 5.2, 4.6). */
  --banner-healthy: #1a7f37;
  --banner-degraded: #8a5c00;
  --banner-down: #cf222e;
  --banner-maintenance: #0969da;
  --banner-unknown: #6e7781;
  /* A state as a word on the page: 4.5:1 on --card and --bg (unknown darkened from 4.27:1). */
  --down-text: #cf222e;
  --maintenance-text: #0969da;
  --unknown-text: #656d76;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117;
    --card: #151b23;
    --fg: #e6edf3;
    --muted: #9198a1;
    --border: #3d444d;
    --field-border: #6e7a88;
    --healthy: #2ea043;
    --degraded: #d29922;
    --degraded-fill: #bb8009;
    --down: #da3633;
    --maintenance: #1f6feb;
    --unknown: #656c76;
    /* 3:1 on the card and --bg, as in light (it was 1.40:1). */
    --no-data: #656c76;
    --on-state: #ffffff;
    /* The bars' fills above under white words were 2.5:1 (degraded) and 3.4:1 (healthy): the
       banner takes darker ones, 4.5:1 or more (5.1, 5.8, 4.6, 4.6, 5.3). */
    --banner-healthy: #1a7f37;
    --banner-degraded: #8a5c00;
    --banner-down: #da3633;
    --banner-maintenance: #1f6feb;
    --banner-unknown: #656c76;
    /* As words on the dark card the bars' fills were 3.3-3.8:1, so a word takes the console's
       dark colour for its state instead. */
    --down-text: #f85149;
    --maintenance-text: #4493f8;
    --unknown-text: #8b949e;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
}
a { color: inherit; text-underline-offset: 2px; }
.page { max-width: 880px; margin: 0 auto; padding: 40px 20px 48px; }
.page-head h1 { font-size: 1.75rem; line-height: 1.25; margin: 0; overflow-wrap: anywhere; }
.page-head p { margin: 6px 0 0; color: var(--muted); overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 32px 0 12px; }
h2 small { font-weight: 400; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 12px; }
.muted { color: var(--muted); }

/* The state of the whole page, and the small dot and word a component's state shows. */
.banner {
  display: flex; align-items: center; gap: 12px;
  margin: 28px 0 0; padding: 16px 20px; border-radius: 12px;
  color: var(--on-state); font-size: 1.15rem; font-weight: 600;
}
.banner small { display: block; font-size: .85rem; font-weight: 400; }
.banner .dot { width: 14px; height: 14px; border-radius: 50%; background: var(--on-state); flex: none; opacity: .9; }
.banner-line { display: block; }
.banner-line.secondary { font-size: 1rem; font-weight: 500; }
.bg-healthy { background: var(--banner-healthy); }
.bg-degraded { background: var(--banner-degraded); }
.bg-down { background: var(--banner-down); }
.bg-maintenance { background: var(--banner-maintenance); }
.bg-unknown { background: var(--banner-unknown); }
.state { display: inline-flex; align-items: center; gap: 6px; font-size: .9rem; font-weight: 600; white-space: nowrap; }
.state .until { font-weight: 400; color: var(--muted); white-space: normal; }
/* flex: none: beside a state that wraps ("Maintenance until 18:06 America/New_York (23:06 UTC)" on a
   390 px phone) the row shrank the dot to 5 by 10 px, an oval. */
.state::before { content: ""; width: 10px; height: 10px; border-radius: 50%; background: currentColor; flex: none; }
.fg-healthy { color: var(--healthy); }
.fg-degraded { color: var(--degraded); }
.fg-down { color: var(--down-text); }
.fg-maintenance { color: var(--maintenance-text); }
.fg-unknown { color: var(--unknown-text); }

/* Components, each with its 90 (on a phone: 30) daily bars. */
.components { list-style: none; margin: 0; padding: 0; overflow: hidden; }
.component { padding: 18px 20px 14px; --ground: var(--card); }
.component + .component { border-top: 1px solid var(--border); }
/* A component that is not operational keeps its place in the list (readers find theirs by
   position) but is marked by a bar in its state's colour down its left edge and a tinted ground. */
.component.attention { padding-left: 16px; border-left: 4px solid var(--edge); background: var(--bg); --ground: var(--bg); }
.edge-down { --edge: var(--down); }
.edge-degraded { --edge: var(--degraded-fill); }
.edge-maintenance { --edge: var(--maintenance); }
.edge-unknown { --edge: var(--unknown); }
/* A state too long to sit beside the name goes under it, whole. overflow-wrap: anywhere let the row
   shrink the name to its narrowest, one letter: on a 390 px phone "Database" beside a maintenance
   state read "Datab" over "ase". break-word keeps words whole (its narrowest is the longest word)
   and still breaks a name with no spaces that is wider than the screen (min-width: 0). */
.component-head { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; gap: 2px 12px; }
.component-name { font-weight: 600; overflow-wrap: break-word; min-width: 0; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; margin: -1px; clip-path: inset(50%); white-space: nowrap; }
.bars-frame { position: relative; margin: 12px 0 6px; }
.bars { display: flex; gap: 3px; height: 34px; }
.bars i { flex: 1; min-width: 0; border-radius: 1.5px; }
.bars i:is(:focus, :hover) { outline: 2px solid var(--fg); outline-offset: 1px; }
/* The tapped, focused or hovered day in words, over the line under the bars (its uptime and
   "Today"), on the component's own ground: a phone has no tooltip, a keyboard no pointer. The
   pointer's day wins while it is over the bars, so two lines are never drawn on each other. (No
   opacity on the bar: its ::after would fade with it and the line beneath show through.) */
.bars:not(:hover) i:focus::after, .bars i:hover::after {
  content: attr(aria-label); position: absolute; left: 0; right: 0; top: calc(100% + 6px);
  background: var(--ground); color: var(--fg); font-style: normal; font-size: .8rem; font-weight: 600; line-height: 1.5;
  pointer-events: none;
}
/* On a phone the line under the bars wraps (390 px: "30 days ago" and the uptime on two lines each)
   and the day, one line high, covered only its first: "ago" and "Nov 2026" showed under it. While
   a day is written out the line beneath is hidden, keeping its place, so nothing moves. */
.bars-frame:has(.bars:not(:hover) i:focus, .bars i:hover) + .bars-foot { visibility: hidden; }
/* A phone shows the last ${RECENT_DAYS} of the ${PAGE_DAYS} days: the older ones are not drawn, so not
   focusable either, and the words that count the days are the phone's. Ranges, not min-width 641
   beside max-width 640: a zoomed screen 640.5 px wide matched neither and showed both counts. */
@media (width <= 640px) {
  .bars i:nth-child(-n+${PAGE_DAYS - RECENT_DAYS}) { display: none; }
  .span-90 { display: none; }
}
@media (width > 640px) { .span-30 { display: none; } }
.day-down { background: var(--down); }
.day-degraded { background: var(--degraded-fill); }
.day-maintenance { background: var(--maintenance); }
.day-operational { background: var(--healthy); }
.day-no_data { background: var(--no-data); }
.bars-foot { display: flex; align-items: center; gap: 12px; font-size: .8rem; color: var(--muted); }
.bars-foot .rule { flex: 1; height: 1px; background: var(--border); }
.bars-foot .uptime { color: var(--fg); font-weight: 600; }
/* Every day in figures: the keyboard's way to the days (one Tab stop), closed until asked for. */
.days { margin-top: 8px; font-size: .8rem; }
.days summary { cursor: pointer; color: var(--muted); width: fit-content; }
.days table { border-collapse: collapse; margin-top: 6px; font-variant-numeric: tabular-nums; }
.days :is(th, td) { text-align: left; padding: 2px 16px 2px 0; border-bottom: 1px solid var(--border); }
.days :is(th, td):last-child { text-align: right; padding-right: 0; }
.nodes { margin: 10px 0 0; font-size: .9rem; }
.nodes summary { cursor: pointer; color: var(--muted); }
.nodes ul { list-style: none; margin: 8px 0 0; padding: 0; }
.nodes li { display: flex; flex-wrap: wrap; gap: 4px 12px; padding: 4px 0; }
.nodes .reason { color: var(--muted); overflow-wrap: anywhere; }

/* Open incidents. */
.incidents { list-style: none; margin: 0; padding: 0; overflow: hidden; }
.incident { padding: 14px 20px 14px 16px; border-left: 4px solid var(--down); }
.incident + .incident { border-top: 1px solid var(--border); }
.incident.severity-warning { border-left-color: var(--degraded-fill); }
.incident.scheduled { border-left-color: var(--maintenance); }
/* A past incident over: said by its words, the border only agreeing (green, as its component is again). */
.incident.resolved { border-left-color: var(--healthy); }
.incident-title { font-weight: 600; overflow-wrap: anywhere; }
.incident-meta { font-size: .875rem; color: var(--muted); }
.calm { padding: 14px 20px; color: var(--muted); }

.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 20px 0 0; padding: 0; list-style: none; font-size: .8rem; color: var(--muted); }
.legend li { display: inline-flex; align-items: center; gap: 6px; }
.swatch { width: 10px; height: 10px; border-radius: 2px; }
.page-foot { margin-top: 32px; font-size: .8rem; color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 16px; justify-content: space-between; }

/* Forced colours (Windows contrast themes) paint every background the theme's own, which would take
   the bars, the legend's swatches and the states' dots away: they keep their colours, edged in the
   theme's text colour so they stand on any of its backgrounds. */
@media (forced-colors: active) {
  .bars i, .swatch, .state::before, .banner .dot { forced-color-adjust: none; border: 1px solid CanvasText; }
  .fg-healthy::before { background: var(--healthy); }
  .fg-degraded::before { background: var(--degraded); }
  .fg-down::before { background: var(--down); }
  .fg-maintenance::before { background: var(--maintenance); }
  .fg-unknown::before { background: var(--unknown); }
}

/* The page a link from a notification opens: the incident's facts and one button. */
.page.narrow { max-width: 560px; }
.link-card { margin: 20px 0 0; padding: 18px 20px; }
.link-card p { margin: 0 0 12px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 16px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.field label { display: block; margin: 0 0 4px; color: var(--muted); }
.field textarea { box-sizing: border-box; width: 100%; font: inherit; padding: 8px; border: 1px solid var(--field-border); border-radius: 6px; background: var(--card); color: var(--fg); }
.link-warning { padding: 10px 12px; border-left: 4px solid var(--down); background: var(--bg); }
.button {
  font: inherit; font-weight: 600; padding: 10px 20px; border: 0; border-radius: 8px;
  background: var(--maintenance); color: var(--on-state); cursor: pointer;
}
.button:focus-visible { outline: 3px solid var(--fg); outline-offset: 2px; }
.small { font-size: .875rem; margin: 12px 0 0; }

@media (max-width: 640px) {
  .page { padding: 24px 14px 36px; }
  .page-head h1 { font-size: 1.45rem; }
  .banner { font-size: 1.05rem; padding: 14px 16px; }
  .component, .incident, .calm { padding-left: 14px; padding-right: 14px; }
  .component.attention { padding-left: 10px; }
}
`;
