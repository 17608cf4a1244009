// A resolution note as people type it, in the console's form and on a Resolve link's page, and as
// the API's Resolve body limits it (src/http/routes/incidents.ts).

import { validationFailed } from '../errors.ts';

/** A resolution note's limit, in the API, the console's form and a Resolve link's page. */
export const NOTE_MAX_CHARS = 2000;

/** What a note over NOTE_MAX_CHARS is told, by the API and by both forms. */
export const NOTE_TOO_LONG = `must be at most ${NOTE_MAX_CHARS} characters`;

/**
 * A resolution note typed in a form (the console's, a Resolve link's page). A form sends each line
 * break as CRLF while the textarea's maxlength counted it as one character, so 2,000 typed
 * characters over 20 lines arrived as 2,020 and were refused.
 */
export const noteOf = (form: Record<string, string | File>): string => (typeof form.note === 'string' ? form.note.replace(/\r\n/g, '\n') : '');

/** A typed note as resolving takes it, by the API's limits: none when blank; validation_failed when too long. */
export function resolutionNote(typed: string): string | undefined {
  if (typed.trim() === '') return undefined;
  if (typed.length > NOTE_MAX_CHARS) throw validationFailed([{ field: 'note', message: NOTE_TOO_LONG }]);
  return typed;
}
