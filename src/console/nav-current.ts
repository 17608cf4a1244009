// Narrower than 1,100 px the navigation is one row that scrolls sideways (style.ts), and on a
// 390 px phone it shows about four of its nine sections: on Schedules, People or API keys the link
// saying where the person is sat out of view to the right. The page scrolls that row, and only
// that row, to bring it in as soon as the navigation is parsed, before the rest of the page is
// drawn. CSS alone cannot: scroll-initial-target is Chromium's only (133+), not Safari's nor
// Firefox's, and snapping to the current link would snap back every sideways scroll. Not
// scrollIntoView(): it would also scroll the page to the header. The page's CSP admits no inline
// script, hence a file of this origin; without script the row still scrolls by hand.

/** Served at NAV_SCRIPT_PATH; every signed-in page runs it right after its navigation. */
export const NAV_SCRIPT = `(function () {
  var row = document.querySelector('.nav');
  var current = row && row.querySelector('a[aria-current="page"]');
  if (!current) return;
  function bring() {
    // The row's 5 px padding keeps a focus ring inside the box, which clips: keep it clear too.
    var pad = 5, box = row.getBoundingClientRect(), link = current.getBoundingClientRect();
    if (link.right > box.right - pad) row.scrollLeft += link.right - box.right + pad;
    else if (link.left < box.left + pad) row.scrollLeft -= box.left + pad - link.left;
  }
  bring();
  // Measured this early the page may not yet be taller than the window: once it is, a desktop
  // browser with classic scrollbars (600-1,100 px wide) takes ~15 px from the row for the
  // vertical one and the link ended ~10 px clipped. Once the page is parsed, measured again.
  document.addEventListener('DOMContentLoaded', bring);
})();
`;
