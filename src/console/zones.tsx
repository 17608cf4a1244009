import { raw } from 'hono/html';
import { isTimeZone } from '../local-time.ts';
import { hhmm } from './format.ts';

// The time zone field people, schedules and maintenance windows share: free text, checked by the API's schema, with
// the zones this Node knows offered as suggestions (418 names, about 12 KB, only on the pages
// with such a field). The suggestions are rendered once, not per request: the names are
// Intl's own (letters, digits, "/", "_", "-", "+"), nothing to escape.

const ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
const OPTIONS = raw(ZONES.map((z) => `<option value="${z}"></option>`).join(''));

/**
 * The zone typed in a form when it is one, else `fallback`: a form re-shown after a refusal keeps
 * what was typed, and a zone that is no zone (refused when sent) still needs a clock to show times on.
 */
export const zoneOrFallback = (typed: string | undefined, fallback: string): string => (typed !== undefined && isTimeZone(typed) ? typed : fallback);

export function ZoneInput(p: { id: string; value: string; problem?: string | undefined }) {
  return (
    <>
      <input id={p.id} name={p.id} type="text" required maxlength={64} list={`${p.id}-zones`} autocomplete="off" spellcheck={false} value={p.value} aria-invalid={p.problem ? 'true' : undefined} />
      <datalist id={`${p.id}-zones`}>{OPTIONS}</datalist>
    </>
  );
}

/**
 * "Europe/Berlin · 14:05 now", as one element: a table cell turned card on a phone lays out each of
 * its children in the value column, so the zone as bare text beside the clock's span put "· 14:05
 * now" on a row of its own under the cell's label.
 */
export const ZoneNow = (p: { zone: string; now: Date }) => (
  <span>
    {p.zone} <span class="muted">· {hhmm(p.now, p.zone)} now</span>
  </span>
);
