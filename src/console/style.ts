// The console's stylesheet: system fonts, no framework, CSS variables for light and dark (the
// browser's preference), the state colours of the public pages (src/web/style.ts), and every state
// paired with text or a pattern so nothing is told by colour alone. A module rather than a .css
// file for the reason the public pages' is: dist/ holds only compiled modules.

export const CONSOLE_STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f5f6f8;
  --surface: #ffffff;
  --surface-2: #eef1f4;
  --text: #1b1f24;
  --muted: #57616d;
  --border: #d5dbe2;
  /* A field's edge must stand out from the surface it sits on (3:1, WCAG 1.4.11); --border, for
     dividers, is 1.4:1. */
  --field-border: #7d8794;
  --accent: #2457c5;
  --accent-text: #ffffff;
  --focus: #2457c5;
  /* 4.5:1 on --surface-2 too, behind a tag ("resolved", "sent"): #1a7f37 was 4.48:1. */
  --healthy: #1a7a36;
  --degraded: #8a5c00;
  --down: #cf222e;
  /* A fill under white text: the light scheme's red is dark enough (5.4:1), the dark scheme's is not. */
  --down-solid: #cf222e;
  --maintenance: #0969da;
  --unknown: #6e7781;
  --down-bg: #fdecea;
  --notice-bg: #fff6e0;
  --notice-border: #e5b84c;
  --ok-bg: #e8f5ec;
  --radius: 6px;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}

@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1216;
    --surface: #171b21;
    --surface-2: #1f252d;
    --text: #e4e8ec;
    --muted: #9ba6b2;
    --border: #2d3540;
    --field-border: #6e7a88;
    --accent: #6d9cff;
    --accent-text: #0f1216;
    --focus: #8fb3ff;
    --healthy: #2ea043;
    --degraded: #d29922;
    --down: #f85149;
    --down-solid: #b62324;
    --maintenance: #4493f8;
    --unknown: #8b949e;
    --down-bg: #3a1715;
    --notice-bg: #2f2612;
    --notice-border: #8a6a1e;
    --ok-bg: #14301f;
  }
}

* { box-sizing: border-box; }

html { -webkit-text-size-adjust: 100%; }

body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}

a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }

:focus-visible {
  outline: 3px solid var(--focus);
  outline-offset: 2px;
  border-radius: 3px;
}

.skip {
  position: absolute;
  left: -9999px;
}
.skip:focus { left: 1rem; top: 0.5rem; z-index: 10; background: var(--surface); padding: 0.4rem 0.8rem; }

.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  margin: -1px;
  border: 0;
  padding: 0;
  clip-path: inset(50%);
  white-space: nowrap;
}

/* Header and navigation */

.top {
  background: var(--surface);
  border-bottom: 1px solid var(--border);
}
.top-inner {
  max-width: 1240px;
  margin: 0 auto;
  padding: 0.5rem 1rem;
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 0.25rem 1rem;
}
.brand {
  font-weight: 700;
  font-size: 1.05rem;
  color: var(--text);
  text-decoration: none;
  display: inline-flex;
  align-items: center;
  gap: 0.4rem;
}
.brand-mark { width: 1.1rem; height: 1.1rem; }
.brand-mark path { fill: none; stroke: var(--down); stroke-width: 2.2; stroke-linecap: round; stroke-linejoin: round; }

.top-inner > nav { flex: 1 1 auto; min-width: 0; }
.nav { display: flex; flex-wrap: wrap; gap: 0.1rem; margin: 0; padding: 0; list-style: none; }
.nav a {
  display: inline-block;
  white-space: nowrap;
  /* 0.5rem a side: an admin's nine sections, the brand and "bootstrap-admin · admin" take 1,194
     of 1,208 px at 1280 px (at 0.6rem, 1,231); the open incidents' count adds ~25, which the
     key's name gives up (below) rather than the header taking two rows. */
  padding: 0.45rem 0.5rem;
  border-radius: var(--radius);
  color: var(--muted);
  text-decoration: none;
  font-weight: 500;
}
.nav a:hover { color: var(--text); background: var(--surface-2); }
.nav a[aria-current="page"] { color: var(--text); background: var(--surface-2); }
.count {
  display: inline-block;
  min-width: 1.4em;
  padding: 0 0.35em;
  margin-left: 0.25em;
  border-radius: 999px;
  background: var(--down-solid);
  color: #fff;
  font-size: 0.8em;
  text-align: center;
  font-weight: 700;
}

.who { display: flex; align-items: center; gap: 0.6rem; color: var(--muted); font-size: 0.9rem; }
.who form { margin: 0; }
/* Wide enough for the navigation (about 840 px with the open incidents' count): one row, the key's
   name giving way (ellipsis, its whole name in its title) rather than the row breaking in two. */
@media (min-width: 1101px) {
  .top-inner { flex-wrap: nowrap; }
  .nav { flex-wrap: nowrap; }
  .top-inner > .brand, .top-inner > nav { flex-shrink: 0; }
  .who { min-width: 0; }
  .who-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
}
/* Narrower: the navigation takes a row of its own, one row whatever the width, scrolling
   sideways (nine sections wrapped into three rows, 145 px, on a 390 px phone). */
@media (max-width: 1100px) {
  .top-inner > nav { order: 3; flex-basis: 100%; }
  /* The padding keeps a focused entry's ring (3 px, 2 px out) inside the scrolling box, which clips. */
  .nav { flex-wrap: nowrap; overflow-x: auto; scrollbar-width: thin; padding: 5px; margin: -5px; }
  .who { margin-left: auto; }
}
/* A row cut off at an edge fades out there, so a phone shows that more sections lie past it (on a
   390 px phone 4 of 9 are in view): the right edge fades while the row can scroll right, the left
   while it can scroll left. The row's own scroll drives it; a row that fits has no scroll timeline,
   so no fade, and a browser without scroll timelines shows the row as before. A mask, not a
   gradient in the header's colour, so it is right in the dark scheme too. */
@property --nav-fade-left { syntax: '<length>'; inherits: false; initial-value: 0px; }
@property --nav-fade-right { syntax: '<length>'; inherits: false; initial-value: 0px; }
@keyframes nav-fade {
  from { --nav-fade-left: 0px; --nav-fade-right: 2.5rem; }
  10% { --nav-fade-left: 2.5rem; }
  90% { --nav-fade-right: 2.5rem; }
  to { --nav-fade-left: 2.5rem; --nav-fade-right: 0px; }
}
@supports (animation-timeline: scroll()) {
  @media (max-width: 1100px) {
    .nav {
      animation: nav-fade linear both;
      animation-timeline: scroll(self inline);
      mask-image: linear-gradient(to right, transparent, #000 var(--nav-fade-left), #000 calc(100% - var(--nav-fade-right)), transparent);
    }
    /* A link reached by Tab is scrolled only just into view, so at an edge it sat in the 2.5rem fade,
       half transparent, ring and all. While focus is in the row the fade gives way, so the focused
       link and its ring are whole wherever they sit; a 2.5rem scroll-padding would still leave the
       ring (3 px, 2 px out) reaching into the fade. */
    .nav:focus-within { mask-image: none; }
  }
}
/* Forced colours draw the row in the system's colours; a mask would still fade its edges there. */
@media (forced-colors: active) {
  .nav { mask-image: none; }
}

main {
  max-width: 1240px;
  margin: 0 auto;
  padding: 1rem 1rem 3rem;
}

/* A node's name may be 128 characters without a break: it wraps rather than widen a phone's page. */
h1 { font-size: 1.45rem; margin: 0.4rem 0 0.8rem; line-height: 1.25; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 0.6rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.4rem; }
p { margin: 0.4rem 0; }
.muted { color: var(--muted); }
.mono { font-family: var(--mono); font-size: 0.92em; }
.crumbs { margin: 0.2rem 0 0; font-size: 0.9rem; }

.page-head {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: space-between;
  gap: 0.5rem 1rem;
}
.page-head h1 { margin-bottom: 0.3rem; }

.panel {
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: var(--radius);
  padding: 0.9rem 1rem;
  margin: 0.8rem 0;
}

/* States */

.state {
  display: inline-flex;
  align-items: center;
  gap: 0.35em;
  font-weight: 600;
  white-space: nowrap;
}
.state::before {
  content: "";
  width: 0.65em;
  height: 0.65em;
  border-radius: 50%;
  background: currentColor;
  flex: none;
}
.state-healthy { color: var(--healthy); }
.state-degraded { color: var(--degraded); }
.state-down { color: var(--down); }
.state-maintenance { color: var(--maintenance); }
.state-unknown { color: var(--unknown); }
.state-maintenance::before { border-radius: 2px; }
.state-unknown::before { background: none; border: 2px solid currentColor; }
.state-large { font-size: 1.15rem; }

.tag {
  display: inline-block;
  padding: 0.05rem 0.45rem;
  border-radius: 999px;
  border: 1px solid var(--border);
  background: var(--surface-2);
  font-size: 0.82rem;
  /* Whole on one line when it fits; a label value of 256 characters breaks instead of running off the page. */
  max-width: 100%;
  overflow-wrap: anywhere;
  margin: 0.1rem 0.25rem 0.1rem 0;
}
.tag-critical { border-color: var(--down); color: var(--down); font-weight: 600; }
.tag-warning { border-color: var(--degraded); color: var(--degraded); font-weight: 600; }
.tag-open { background: var(--down-solid); border-color: var(--down-solid); color: #fff; font-weight: 600; }
.tag-acknowledged { border-color: var(--degraded); color: var(--degraded); font-weight: 600; }
.tag-resolved { color: var(--healthy); border-color: var(--healthy); }
.tag-sent { color: var(--healthy); border-color: var(--healthy); }
.tag-failed { color: var(--degraded); border-color: var(--degraded); }
.tag-dead { background: var(--down-solid); border-color: var(--down-solid); color: #fff; }
.tag-unsent { color: var(--muted); border-style: dashed; }
/* Beside "open" in the list, and a policy that would page nobody now. */
.tag-nobody { border-color: var(--down); color: var(--down); font-weight: 600; }
.tag + .tag-nobody { margin-left: 0.3rem; }
/* The engine's own words (a status, a severity, a delivery's outcome) never break inside a word:
   "anywhere" let a crowded table squeeze the incidents list's status column to "acknowledg/ed"
   at 1280 px. Names and labels, which can be 256 characters, still break anywhere. */
.tag-open, .tag-acknowledged, .tag-resolved, .tag-critical, .tag-warning,
.tag-pending, .tag-sent, .tag-failed, .tag-dead, .tag-unsent, .tag-nobody { overflow-wrap: normal; }

/* State counts (fleet filter) */

.chips { display: flex; flex-wrap: wrap; gap: 0.4rem; margin: 0.6rem 0; padding: 0; list-style: none; }
.chips a {
  display: inline-flex;
  align-items: baseline;
  gap: 0.45rem;
  padding: 0.35rem 0.7rem;
  border: 1px solid var(--border);
  border-radius: var(--radius);
  background: var(--surface);
  color: var(--text);
  text-decoration: none;
}
.chips a:hover { border-color: var(--muted); }
.chips a[aria-current="true"] { border-color: var(--accent); box-shadow: inset 0 0 0 1px var(--accent); }
.chips b { font-size: 1.05rem; font-variant-numeric: tabular-nums; }
.chips .state { font-weight: 500; }
.chip-alert { background: var(--down-bg) !important; }

/* Where an outage is (Fleet): a key and its values on a line, wrapping, never widening the page; under
   20rem left beside the key (a phone) the values go below it, the width of the panel theirs. */

.spread { padding: 0.6rem 1rem; }
.spread h2 { font-size: 1rem; margin: 0 0 0.3rem; }
.spread ul { list-style: none; margin: 0; padding: 0; }
.spread-keys > li { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.2rem 0.6rem; padding: 0.15rem 0; min-width: 0; }
.spread-key { font-weight: 600; overflow-wrap: anywhere; }
.spread-values { display: flex; flex-wrap: wrap; gap: 0.2rem 0; min-width: 0; flex: 1 1 20rem; }
.spread-values > li { overflow-wrap: anywhere; min-width: 0; }
/* "·" between values, as the counts read in a sentence; drawn, so a screen reader reads none. */
.spread-values > li + li::before { content: "·" / ""; color: var(--muted); margin: 0 0.45rem; }
.spread-values a { text-decoration: none; }
/* "5 down," and "1 degraded" each whole: a phone wraps between them, not inside. */
.spread-values b { white-space: nowrap; }
.spread-values a:hover { text-decoration: underline; }
.spread p { margin: 0.2rem 0 0; }
a.tag { text-decoration: none; }
a.tag:hover { border-color: var(--muted); text-decoration: underline; }

/* Forms */

form.inline { display: inline; margin: 0; }
.filters {
  display: flex;
  flex-wrap: wrap;
  gap: 0.5rem;
  align-items: end;
  margin: 0.4rem 0;
}
.filters label, .field label { display: block; font-size: 0.85rem; color: var(--muted); margin-bottom: 0.15rem; }
input[type="text"], input[type="search"], input[type="password"], input[type="number"], input[type="datetime-local"], input[type="time"], input[type="url"], input[type="email"], select, textarea {
  font: inherit;
  color: var(--text);
  background: var(--surface);
  border: 1px solid var(--field-border);
  border-radius: var(--radius);
  padding: 0.42rem 0.55rem;
  max-width: 100%;
}
/* Grows with what it holds (a node's labels, one a line) where the browser can: no inner scrolling. */
textarea { width: 100%; min-height: 4.5rem; field-sizing: content; }
input:focus-visible, select:focus-visible, textarea:focus-visible { outline-offset: 0; }
.field { margin: 0.6rem 0; }
.field .hint, p.hint { font-size: 0.83rem; color: var(--muted); margin-top: 0.15rem; }
.field .error { color: var(--down); font-size: 0.88rem; margin-top: 0.15rem; font-weight: 600; }
.wide { width: 100%; }
fieldset { border: 1px solid var(--border); border-radius: var(--radius); padding: 0.5rem 0.8rem 0.8rem; margin: 0.6rem 0; }
legend { padding: 0 0.3rem; font-weight: 600; }
.checks-list { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; }
/* A choice on a line of its own reads as text, and when it wraps, continues under its text, not under its box. */
:not(.checks-list) > label:has(> input[type="radio"], > input[type="checkbox"]) {
  display: block;
  padding-left: 1.6em;
  text-indent: -1.6em;
  color: var(--text);
  font-size: 0.95rem;
}
.checks-list label { color: var(--text); font-size: 0.95rem; display: inline-flex; gap: 0.3rem; align-items: center; }

button, .button {
  font: inherit;
  font-weight: 600;
  display: inline-flex;
  align-items: center;
  justify-content: center;
  gap: 0.3rem;
  padding: 0.42rem 0.85rem;
  border-radius: var(--radius);
  border: 1px solid var(--border);
  background: var(--surface);
  color: var(--text);
  cursor: pointer;
  text-decoration: none;
  line-height: 1.3;
  white-space: nowrap;
}
button:hover, .button:hover { border-color: var(--muted); }
/* display above would show a button marked hidden (the maintenance form's first, for Enter). */
button[hidden] { display: none; }
/* A create form already sent (send-once.ts): the button stays in the form, but looks spent. */
button[aria-disabled='true'] { opacity: 0.6; cursor: progress; }
/* A sent form that got no answer (send-once.ts): on a line of its own under the buttons. */
.not-sent { flex-basis: 100%; margin: 0.4rem 0 0; color: var(--down); font-weight: 600; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button.danger, .button.danger { border-color: var(--down); color: var(--down); }
button.danger.solid { background: var(--down-solid); border-color: var(--down-solid); color: #fff; }
button.small, .button.small { padding: 0.2rem 0.6rem; font-size: 0.88rem; }
button.link { border: none; background: none; color: var(--accent); padding: 0; font-weight: 500; text-decoration: underline; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
/* A button naming its thing ("Delete <a 60-character name>" on a confirmation page) wraps rather
   than run past a 390 px phone's edge; min-width: 0 lets the flex item shrink below its text. */
.actions button { white-space: normal; overflow-wrap: anywhere; min-width: 0; text-align: center; }

/* Notices */

.notice {
  border: 1px solid var(--notice-border);
  background: var(--notice-bg);
  border-radius: var(--radius);
  padding: 0.7rem 0.9rem;
  margin: 0.8rem 0;
}
.notice.ok { border-color: var(--healthy); background: var(--ok-bg); }
.notice.bad { border-color: var(--down); background: var(--down-bg); }
.notice p:first-child { margin-top: 0; }
.notice p:last-child { margin-bottom: 0; }
/* Text to copy whole (a heartbeat's curl, a badge's Markdown): one click selects all of it. */
.snippet {
  font-family: var(--mono);
  font-size: 0.88rem;
  background: var(--surface);
  border: 1px solid var(--border);
  padding: 0.5rem 0.7rem;
  border-radius: var(--radius);
  margin: 0.4rem 0 0.8rem;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  user-select: all;
}
/* The add form shows the chosen kind's fields only; without :has() both show, and the kind decides. */
.add-node:has(input[name="kind"][value="job"]:checked) .kind-heartbeat,
.add-node:has(input[name="kind"][value="heartbeat"]:checked) .kind-job { display: none; }
.badge-preview { vertical-align: middle; margin-left: 0.4rem; }
.secret {
  font-family: var(--mono);
  background: var(--surface);
  border: 1px dashed var(--border);
  padding: 0.4rem 0.6rem;
  border-radius: var(--radius);
  word-break: break-all;
  user-select: all;
}

/* Tables */

.table-wrap { margin: 0.5rem 0; overflow-x: auto; border: 1px solid var(--border); border-radius: var(--radius); background: var(--surface); }
/* A linked name in a cell (a node's, up to 128 characters in one word) may break, so its column can narrow to the screen. */
td a { overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.5rem 0.7rem; border-bottom: 1px solid var(--border); vertical-align: top; }
th { font-size: 0.82rem; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); font-weight: 600; background: var(--surface-2); }
tr:last-child td { border-bottom: none; }
tbody tr:hover { background: var(--surface-2); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.sub { display: block; color: var(--muted); font-size: 0.85rem; }
.nowrap { white-space: nowrap; }
.row-down td:first-child { box-shadow: inset 3px 0 0 var(--down); }
.row-degraded td:first-child { box-shadow: inset 3px 0 0 var(--degraded); }
.empty { padding: 1.2rem; text-align: center; color: var(--muted); }
.reason { max-width: 28rem; overflow-wrap: anywhere; }

.pager { display: flex; gap: 0.8rem; align-items: center; margin: 0.7rem 0; flex-wrap: wrap; }

/* Facts (definition lists) */

.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
/* An incident's facts keep each label beside its value on a phone too: stacked, its eight lines of
   facts took 16 and pushed Acknowledge, which sits under them, off the first screen. */
.facts.facts-pairs { grid-template-columns: max-content minmax(0, 1fr); gap: 0.3rem 0.8rem; }
.facts.facts-pairs dt { margin-top: 0; }
.facts + .ack { margin-top: 0.9rem; }

/* Uptime */

.uptime-figures { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 0.5rem; margin: 0.4rem 0 0.8rem; }
.figure { background: var(--surface-2); border-radius: var(--radius); padding: 0.5rem 0.7rem; }
.figure .label { color: var(--muted); font-size: 0.85rem; }
.figure .value { font-size: 1.25rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.figure .detail { color: var(--muted); font-size: 0.8rem; }

.uptime-bar { margin: 0.6rem 0 0; }
.bar { width: 100%; height: 44px; display: block; }
.bar .s-healthy { fill: var(--healthy); }
.bar .s-degraded { fill: var(--degraded); }
.bar .s-down { fill: var(--down); }
.bar .s-maintenance { fill: url(#pat-maintenance); }
.bar .s-unknown { fill: url(#pat-unknown); }
.bar .s-none { fill: var(--surface-2); }
.bar .p-maintenance-bg { fill: var(--surface); }
.bar .p-maintenance-fg { stroke: var(--maintenance); stroke-width: 3; }
.bar .p-unknown-bg { fill: var(--surface); }
.bar .p-unknown-fg { fill: var(--unknown); }
.bar-axis { display: flex; justify-content: space-between; color: var(--muted); font-size: 0.8rem; margin-top: 0.2rem; }
.legend { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; margin: 0.5rem 0 0; padding: 0; list-style: none; font-size: 0.85rem; color: var(--muted); }
.legend li { display: inline-flex; align-items: center; gap: 0.35rem; }
.legend svg { width: 0.95rem; height: 0.95rem; }
details > summary { cursor: pointer; color: var(--accent); margin: 0.5rem 0; }

/* Timeline */

.timeline { list-style: none; margin: 0; padding: 0; }
.timeline.panel { padding: 0.2rem 1rem; }
.timeline li { display: grid; grid-template-columns: 13.5rem 1fr; gap: 0.2rem 1rem; padding: 0.45rem 0; border-bottom: 1px solid var(--border); }
.timeline li:last-child { border-bottom: none; }
.timeline time { color: var(--muted); font-variant-numeric: tabular-nums; }
.timeline .kind { font-weight: 600; }
.timeline .note-text { display: block; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 20em; overflow: auto; }

.grid-2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1rem; }

/* Schedules: the 14-day timeline, one row per local day; people by colour and by name */

.timeline-14 { --who-0: #4e79a7; --who-1: #f28e2b; --who-2: #59a14f; --who-3: #b07aa1; --who-4: #76b7b2; --who-5: #edc948; --who-6: #ff9da7; --who-7: #9c755f; }
.tl-axis, .tl-day { display: grid; align-items: center; grid-template-columns: 7.5rem minmax(0, 1fr); column-gap: 0.8rem; }
.tl-axis { color: var(--muted); font-size: 0.78rem; font-variant-numeric: tabular-nums; }
.tl-hours { display: flex; }
.tl-hours span { flex: 1 1 0; border-left: 1px solid var(--border); padding-left: 0.2rem; }
.tl-days { list-style: none; margin: 0; padding: 0; }
.tl-day { padding: 0.35rem 0; border-bottom: 1px solid var(--border); align-items: center; }
.tl-day:last-child { border-bottom: none; }
.tl-date { grid-row: span 2; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
.tl-when { display: block; color: var(--accent); font-weight: 600; font-size: 0.8rem; }
.tl-bar { width: 100%; height: 1.3rem; display: block; border-radius: 3px; }
.tl-words { margin: 0.15rem 0 0; font-size: 0.85rem; color: var(--muted); overflow-wrap: anywhere; }
.tl-words b { color: var(--text); font-weight: 600; }
.tl-nobody { font-style: italic; }
.tl-gap { fill: var(--surface-2); }
.tl-tick { stroke: var(--border); stroke-width: 1; vector-effect: non-scaling-stroke; }
.tl-now { stroke: var(--down); stroke-width: 2; vector-effect: non-scaling-stroke; }
.tl-override { stroke: var(--text); stroke-width: 2; vector-effect: non-scaling-stroke; }
.tl-override-key { fill: none; }
.tl-today .tl-date { color: var(--accent); }
.tl-swatch { width: 0.95rem; height: 0.95rem; }
.tl-who-0 { fill: var(--who-0); } .tl-who-1 { fill: var(--who-1); } .tl-who-2 { fill: var(--who-2); } .tl-who-3 { fill: var(--who-3); }
.tl-who-4 { fill: var(--who-4); } .tl-who-5 { fill: var(--who-5); } .tl-who-6 { fill: var(--who-6); } .tl-who-7 { fill: var(--who-7); }

.slots { display: flex; flex-wrap: wrap; gap: 0.4rem 1.4rem; margin: 0.2rem 0; padding-left: 1.4rem; }
.slots li::marker { color: var(--muted); }
.label-like { display: block; font-size: 0.85rem; color: var(--muted); margin-bottom: 0.15rem; }
.restriction { padding: 0.4rem 0; border-top: 1px dashed var(--border); }
.restriction > label { font-size: 0.9rem; color: var(--muted); }
ul.plain { list-style: none; margin: 0; padding: 0; }
ul.plain li { margin: 0 0 0.35rem; }
.grid-3 { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 0 1rem; }

/* Sign-in */

.signin { max-width: 26rem; margin: 8vh auto 0; }
.signin .brand { font-size: 1.4rem; margin-bottom: 0.6rem; }
.signin input { width: 100%; }

@media (max-width: 720px) {
  body { font-size: 15px; }
  .top-inner { gap: 0.2rem 0.6rem; padding: 0.4rem 0.7rem; }
  .nav a { padding: 0.35rem 0.5rem; }
  /* On a phone the row wraps instead of scrolling: at 390 px a scrolling row showed four of nine
     sections and its fading edge was not read as "more this way", so Channels to API keys seemed
     not to exist. Wrapped, all nine take three rows (~100 px), each link in view and tappable. */
  .nav { flex-wrap: wrap; overflow-x: visible; mask-image: none; animation: none; padding: 0; margin: 0; }
  .who .who-name { display: none; }
  main { padding: 0.6rem 0.7rem 2rem; }
  th, td { padding: 0.45rem 0.5rem; }
  .uptime-figures { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .grid-2, .grid-3 { grid-template-columns: minmax(0, 1fr); }
  .tl-day { grid-template-columns: minmax(0, 1fr); }
  .tl-date { grid-row: auto; }
  .tl-when { display: inline; }
  .tl-axis { grid-template-columns: minmax(0, 1fr); }
  .tl-axis > span:first-child { display: none; }
  .facts { grid-template-columns: minmax(0, 1fr); gap: 0 1rem; }
  .facts dt { margin-top: 0.35rem; }
  .timeline li { grid-template-columns: minmax(0, 1fr); }
  .panel { padding: 0.8rem 0.75rem; }
  .filters > * { flex: 1 1 9rem; }
  .filters input, .filters select { width: 100%; }

  /* The node page's days: one line each (date, uptime, then what was not up, named), wrapping if need be. */
  .day-table table, .day-table tbody { display: block; }
  .day-table thead { display: none; }
  .day-table tr { display: flex; flex-wrap: wrap; gap: 0 0.9rem; padding: 0.3rem 0.6rem; border-bottom: 1px solid var(--border); }
  .day-table td { border: none; padding: 0; }
  .day-table td:first-child { flex: 1 0 auto; font-variant-numeric: tabular-nums; }
  .day-table td:empty { display: none; }
  .day-table td[data-label]::before { content: attr(data-label) " "; color: var(--muted); }

  /* Wide tables become one card per row, each cell under its column's name. */
  table.cards thead { display: none; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; }
  table.cards tr { padding: 0.5rem 0.7rem; border-bottom: 1px solid var(--border); }
  table.cards tr:last-child { border-bottom: none; }
  table.cards td { border: none; padding: 0.1rem 0; display: grid; grid-template-columns: 7.5rem minmax(0, 1fr); gap: 0.5rem; justify-items: start; }
  table.cards td::before { content: attr(data-label); color: var(--muted); font-size: 0.85rem; }
  /* A card's title is a name of up to 128 characters without a break: it wraps inside the card. */
  table.cards td:first-child { display: block; font-weight: 600; font-size: 1.02rem; box-shadow: none; text-align: left; overflow-wrap: anywhere; }
  table.cards td.num { text-align: left; }
  table.cards td:first-child::before { content: none; }
  /* A card leaves out what a row has nothing in (a check without a value or a message). */
  table.cards td:empty { display: none; }
  table.cards tr.row-down { box-shadow: inset 3px 0 0 var(--down); }
  table.cards tr.row-degraded { box-shadow: inset 3px 0 0 var(--degraded); }
  table.cards td .sub { font-weight: 400; }
  /* A moment under a duration ("2026-12-07 10:19:26 UTC", ~170 px) stays on one line in a row, but a
     320 px card leaves its value ~135 px: there it wraps, or the whole table scrolls sideways. */
  table.cards td .sub.nowrap { white-space: normal; }
}
`;
