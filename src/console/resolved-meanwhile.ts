// The Resolve form of an incident's page sits outside its live region, so a re-read never wipes a
// note being typed. Resolved meanwhile (a colleague, the API, the node recovering), the region
// showed it resolved while the form stayed, offering a Resolve that could only be refused. So once
// a re-read of the region shows the incident resolved, this script replaces the form with who
// resolved it and when (the sentence the server put on the region's Resolved fact), and moves a
// typed note into Add a note, saying so: the note is kept, visible and editable, one button from
// the timeline, as the server keeps a note whose Resolve was refused for the same reason. Only the
// server knows who resolved it and only the page knows what was typed, hence script; the page's
// CSP admits no inline script, hence a file of this origin. Without script a reload shows the same.

/** The id of the live region the incident's facts are in, and of the form this script replaces. */
export const INCIDENT_LIVE_ID = 'incident-live';
export const RESOLVE_FORM_ID = 'resolve-form';
/** The attribute of the region's Resolved fact holding "Resolved by bob at 21:40 UTC". */
export const RESOLVED_SAID = 'data-resolved-said';

/** Served at RESOLVED_MEANWHILE_SCRIPT_PATH; an unresolved incident's page loads it, for a key that may resolve. */
export const RESOLVED_MEANWHILE_SCRIPT = `(function () {
  document.addEventListener('htmx:after:swap', function (e) {
    if (!e.target || e.target.id !== ${JSON.stringify(INCIDENT_LIVE_ID)}) return;
    var form = document.getElementById(${JSON.stringify(RESOLVE_FORM_ID)});
    var fact = e.target.querySelector('[${RESOLVED_SAID}]');
    if (!form || form.tagName !== 'FORM' || !fact) return;
    var typed = form.querySelector('textarea');
    var note = typed ? typed.value.trim() : '';
    var had = form.contains(document.activeElement);
    var done = document.createElement('div');
    done.id = form.id;
    done.className = 'panel';
    var said = document.createElement('p');
    var b = document.createElement('b');
    b.textContent = fact.getAttribute(${JSON.stringify(RESOLVED_SAID)});
    said.append(b, ' while this page was open: there is nothing left to resolve.');
    done.append(said);
    var kept = document.getElementById('add-note');
    if (note && kept) {
      kept.value = kept.value.trim() ? kept.value.replace(/\\s+$/, '') + '\\n\\n' + note : note;
      var where = document.createElement('p');
      where.id = 'resolve-note-kept';
      where.textContent = 'Your resolution note was not saved. It is in Add a note below: Add note puts it in the timeline.';
      done.append(where);
    }
    form.replaceWith(done);
    if (had && kept) kept.focus();
  });
})();
`;
