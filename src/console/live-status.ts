// A live region's re-read redraws what it shows, silently: a node turning down on Fleet, a new
// incident in the navigation's count, a colleague's acknowledgement of the incident being viewed
// were seen, never heard (WCAG 4.1.3). Each page has one visually hidden role="status" element
// outside every region that re-reads itself (a region replaced by its re-read would take the
// element, and what it was saying, with it). Whatever may change carries `data-say-key` (what it
// is), `data-say-state` (what it is now) and `data-say` (the sentence for that state, where
// "{was}" stands for the state last said); this script compares each re-read with what was last
// said and says only what differs, so a re-read that changes nothing says nothing.
// At most one message every 5 s: a screen reader reads a polite message in ~2 s, and a storm of
// transitions would otherwise queue minutes of speech. Changes waiting meanwhile are said
// together ("3 nodes changed: db-1 down, …"); one that is back where it was before it is said
// is dropped. The page's CSP admits no inline script, hence a file of this origin.

/** The id of the page's status element (Page). */
export const LIVE_STATUS_ID = 'live-status';
/** The fewest milliseconds between two messages. */
export const SAY_EVERY_MS = 5000;

/** The attributes saying what an element is and how its change reads (see above). */
export function sayAttrs(p: { key: string; state: string; say: string; brief?: string; kind?: string }) {
  return { 'data-say-key': p.key, 'data-say-state': p.state, 'data-say': p.say, 'data-say-brief': p.brief, 'data-say-kind': p.kind };
}

/** Served at LIVE_STATUS_SCRIPT_PATH; every signed-in page loads it. */
export const LIVE_STATUS_SCRIPT = `(function () {
  var out = document.getElementById(${JSON.stringify(LIVE_STATUS_ID)});
  if (!out) return;
  var said = {}, waiting = {}, last = 0, timer = null;
  function each(fn) {
    var all = document.querySelectorAll('[data-say-key]');
    for (var i = 0; i < all.length; i++) fn(all[i], all[i].getAttribute('data-say-key'), all[i].getAttribute('data-say-state') || '');
  }
  // What the page showed when it loaded was seen with it: nothing to say.
  each(function (_, key, state) { said[key] = state; });
  function flush() {
    timer = null;
    var keys = Object.keys(waiting);
    if (!keys.length) return;
    var kinds = {}, order = [], parts = [];
    keys.forEach(function (k) {
      var w = waiting[k], kind = w.kind || k;
      if (!kinds[kind]) { kinds[kind] = []; order.push(kind); }
      kinds[kind].push(w);
      said[k] = w.state;
    });
    waiting = {};
    order.forEach(function (kind) {
      var ws = kinds[kind];
      if (ws.length === 1) parts.push(ws[0].say);
      else parts.push(ws.length + ' ' + kind + 's changed: ' + ws.map(function (w) { return w.brief || w.say; }).join(', '));
    });
    var text = parts.join('. ');
    // The same words again (down, up, down) are no change to a screen reader, which would stay
    // silent: a trailing no-break space makes them one.
    out.textContent = out.textContent === text ? text + '\\u00a0' : text;
    last = Date.now();
  }
  function look() {
    each(function (el, key, state) {
      if (!(key in said)) { said[key] = state; return; }
      if (state === said[key]) { delete waiting[key]; return; }
      var say = el.getAttribute('data-say') || '';
      if (!say) { said[key] = state; delete waiting[key]; return; }
      waiting[key] = { state: state, say: say.replace('{was}', said[key]), brief: el.getAttribute('data-say-brief'), kind: el.getAttribute('data-say-kind') };
    });
    if (!Object.keys(waiting).length) { if (timer) { clearTimeout(timer); timer = null; } return; }
    if (timer) return;
    var wait = last + ${SAY_EVERY_MS} - Date.now();
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  }
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) if (records[i].target !== out && records[i].target.parentNode !== out) return look();
  }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-say-state', 'data-say-key'] });
})();
`;
