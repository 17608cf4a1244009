// A note as people type it: a resolution note (the console's form, a Resolve link's page, the API's
// Resolve body) and a note added to the timeline (the console's Add a note, POST
// /v1/incidents/{id}/notes), both limited alike (src/http/routes/incidents.ts).

import { validationFailed } from '../errors.ts';
import { BIDI_REFUSED, hasBidiControls } from '../invisible.ts';

/** A note's limit, resolving or added, in the API, the console's forms and a Resolve link's page. */
export const NOTE_MAX_CHARS = 2000;

/** What a note over NOTE_MAX_CHARS is told, by the API and by the forms. */
export const NOTE_TOO_LONG = `must be at most ${NOTE_MAX_CHARS} characters`;

/**
 * Notes one incident takes. Unbounded, 100,000 notes of 2,000 characters made its page and the
 * API's incident 15.6 s and 207 MB to answer; 1,000 is far past any real incident's record.
 */
export const NOTES_MAX = 1000;

/** What a note past NOTES_MAX is told (409 conflict: the incident's state, not the note, refuses it). */
export const NOTES_FULL = `The incident has ${NOTES_MAX.toLocaleString('en-US')} notes, the most one incident takes; no note was added.`;

/** What an added note of nothing but spaces is told: it would be an empty line in the timeline. */
export const NOTE_BLANK = 'must not be empty';

/** Whether a typed note is nothing but whitespace. */
export const isBlank = (typed: string): boolean => typed.trim() === '';

/**
 * A resolution note typed in a form (the console's, a Resolve link's page). A form sends each line
 * break as CRLF while the textarea's maxlength counted it as one character, so 2,000 typed
 * characters over 20 lines arrived as 2,020 and were refused.
 */
export const noteOf = (form: Record<string, string | File>): string => (typeof form.note === 'string' ? form.note.replace(/\r\n/g, '\n') : '');

/** A typed note as resolving takes it, by the API's limits: none when blank; validation_failed when too long. */
export function resolutionNote(typed: string): string | undefined {
  return isBlank(typed) ? undefined : addedNote(typed);
}

/** A typed note as adding one takes it, by the API's limits: validation_failed when blank, too long or holding a bidirectional control. */
export function addedNote(typed: string): string {
  if (isBlank(typed)) throw validationFailed([{ field: 'note', message: NOTE_BLANK }]);
  if (typed.length > NOTE_MAX_CHARS) throw validationFailed([{ field: 'note', message: NOTE_TOO_LONG }]);
  if (hasBidiControls(typed)) throw validationFailed([{ field: 'note', message: BIDI_REFUSED }]);
  return typed;
}
