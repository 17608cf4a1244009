// A create form whose first answer shows a secret (a new key's, a generated webhook signing
// secret) must not be sent twice by a double click: the browser shows the second answer, which
// only says the form was already sent, and the secret is lost. So the page sends such a form once:
// a second submit of the same form is ignored, and its buttons say so. The page's CSP admits no
// inline script, hence a file of this origin. Without script the server still creates once.
// An action form marked data-once (Acknowledge, Resolve) is sent once the same way: a second tap
// while the first is on its way would only come back "already acknowledged", and the spent button
// shows the tap was taken. Without script both are sent, and the server keeps the first.
// A page brought back from the back/forward cache keeps its forms marked sent, which would leave
// them dead after Back then Forward: it is a page shown anew, so the marks go.
// A sending that stalls (a phone between cells, a link that drops mid-request) would leave the
// buttons spent for as long as the page stays, with no way to try again but reloading. So an
// action form with no answer after 10 s is given back, saying so: a console answer takes well
// under a second on a working link, and sending it again is harmless (the server keeps the first
// acknowledgement or resolve and answers the second with "already"). A create form is not: the
// first answer is the only one that shows its secret, and a second sending would abandon it.
// The page a sent form is redirected to says how it went (\`?done=saved\`), and that notice takes
// the focus so a screen reader reads it. Only then: the address keeps \`?done=\`, so a reload, Back
// to it or a bookmark would otherwise take the focus from wherever the reader was. Autofocus
// cannot tell them apart; the navigation's type and a referrer of this origin (the form's page,
// which the console's same-origin referrer policy passes on) can.

/** How long a sent form waits for its answer before it may be sent again. */
export const STALLED_AFTER_MS = 10_000;

/** Served at SEND_ONCE_SCRIPT_PATH; every console page loads it. */
export const SEND_ONCE_SCRIPT = `(function () {
function reopen(form) {
  clearTimeout(form.stalled);
  form.removeAttribute('data-sent');
  form.querySelectorAll('button').forEach(function (b) { b.removeAttribute('aria-disabled'); });
}
document.addEventListener('submit', function (e) {
  var form = e.target;
  if (!form.hasAttribute('data-once') && !form.querySelector('input[name="_once"]')) return;
  if (form.hasAttribute('data-sent')) return e.preventDefault();
  form.setAttribute('data-sent', '');
  // aria-disabled, not disabled: a disabled submitter would drop out of the form being sent.
  form.querySelectorAll('button').forEach(function (b) { b.setAttribute('aria-disabled', 'true'); });
  var said = form.querySelector('.not-sent');
  if (said) said.remove();
  if (!form.hasAttribute('data-once')) return;
  form.stalled = setTimeout(function () {
    reopen(form);
    var p = document.createElement('p');
    p.className = 'not-sent';
    p.setAttribute('role', 'alert');
    p.textContent = 'No answer after ${STALLED_AFTER_MS / 1000} s: it may not have been sent. Try again; it is never done twice.';
    form.appendChild(p);
  }, ${STALLED_AFTER_MS});
});
var outcome = document.querySelector('.notice[data-focus]');
var arrival = performance.getEntriesByType('navigation')[0];
if (outcome && arrival && arrival.type === 'navigate' && document.referrer.indexOf(location.origin + '/') === 0) outcome.focus();
window.addEventListener('pageshow', function (e) {
  if (!e.persisted || e.defaultPrevented) return;
  document.querySelectorAll('form[data-sent]').forEach(reopen);
});
})();
`;
