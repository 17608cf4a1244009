import { raw } from 'hono/html';
import { isTimeZone, zonedTime, ZONE_NAMES } from '../local-time.ts';
import { At } from './components.tsx';
import { consoleClock, hhmm } from './format.ts';

// The time zone field people, schedules and maintenance windows share: free text, checked by the API's schema, with
// the zones this Node knows offered as suggestions (437 names on Node 20, current ones such as
// Asia/Kolkata beside the old ones its ICU lists; about 13 KB, only on the pages with such a
// field). The suggestions are rendered once, not per request: the names are letters, digits,
// "/", "_", "-", "+", nothing to escape.

const ZONES = ['UTC', ...ZONE_NAMES.filter((z) => z !== 'UTC')];
const OPTIONS = raw(ZONES.map((z) => `<option value="${z}"></option>`).join(''));

/**
 * The zone typed in a form when it is one, else `fallback`: a form re-shown after a refusal keeps
 * what was typed, and a zone that is no zone (refused when sent) still needs a clock to show times on.
 */
export const zoneOrFallback = (typed: string | undefined, fallback: string): string => (typed !== undefined && isTimeZone(typed) ? typed : fallback);

/**
 * `autofocus`: the first input a refused form's problems are at (placeProblems), which has the
 * focus. It and the aria attributes (problem and hint) may come from its Field, passed on to the input.
 */
export function ZoneInput(p: { id: string; value: string; autofocus?: true | undefined; 'aria-invalid'?: string | undefined; 'aria-describedby'?: string | undefined }) {
  return (
    <>
      <input id={p.id} name={p.id} type="text" required maxlength={64} list={`${p.id}-zones`} autocomplete="off" spellcheck={false} value={p.value} aria-invalid={p['aria-invalid']} aria-describedby={p['aria-describedby']} autofocus={p.autofocus} />
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

/**
 * "2026-12-07 22:00 Europe/Berlin (21:00 UTC)": a maintenance window's time on the clock it was
 * typed on, and in UTC, as the API and the logs say it (with the UTC date when it is another).
 * A window given as instants only, or typed in UTC by any of its names, in UTC alone. Wherever the
 * console names a window's time: the maintenance list, and the incident and node pages' "until".
 * The zone by its canonical name ("europe/berlin" kept before names were canonical reads as
 * Europe/Berlin), a zone this engine does not know in UTC alone. `seconds` for a window that began
 * when it was created, whose start is not a whole minute.
 */
export function ZonedAt(p: { at: Date | null; zone: string | null; none?: string; seconds?: boolean }) {
  const shown = p.at === null ? null : zonedTime(p.at.getTime(), p.zone, consoleClock({ seconds: p.seconds === true }));
  if (p.at === null || shown === null || shown.utc === null) return <At at={p.at} {...(p.none ? { none: p.none } : {})} />;
  return (
    <span>
      <time datetime={p.at.toISOString()}>{shown.here}</time> <span class="muted">({shown.utc})</span>
    </span>
  );
}
