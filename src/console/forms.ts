import type { ErrorDetail } from '../errors.ts';
import { fromLocal, isTimeZone, showings, toLocal } from '../local-time.ts';

// HTML forms send text; the API's schemas take JSON. These turn a form's fields into the JSON a
// request body would carry, so the console validates with the very schemas the API does and a
// bad field gets the same message in both.

export type Form = Record<string, string | File | (string | File)[]>;

/** A text field, or undefined when absent or only blanks (an optional field left empty). */
export function text(form: Form, name: string): string | undefined {
  const v = form[name];
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** Every value of a repeated field (checkboxes), text only. */
export function all(form: Form, name: string): string[] {
  const v = form[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
}

/** A whole number as a number; anything else as typed, for the schema to refuse in its words. */
export function integer(form: Form, name: string): number | string | undefined {
  const v = text(form, name)?.trim();
  return v !== undefined && /^-?\d{1,15}$/.test(v) ? Number(v) : v;
}

/**
 * Labels written one per line as key=value (blank lines ignored). A line without "=" is a problem
 * named `field`, reported beside the schema's own.
 */
export function labels(raw: string | undefined, field: string): { labels: Record<string, string>; problems: ErrorDetail[] } {
  const out: Record<string, string> = {};
  const problems: ErrorDetail[] = [];
  for (const [i, line] of (raw ?? '').split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) problems.push({ field, message: `line ${i + 1} is not key=value` });
    else out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { labels: out, problems };
}

/** Labels back into the textarea's form. */
export const labelLines = (l: Record<string, string>): string =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');

/** A datetime-local value (no zone; the console's times are UTC) as RFC 3339, or as typed. */
function utcTime(form: Form, name: string): string | undefined {
  const v = text(form, name)?.trim();
  if (v === undefined) return undefined;
  return DATETIME_LOCAL.test(v) ? `${v.length === 16 ? `${v}:00` : v}.000Z` : v;
}

const DATETIME_LOCAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/;

/**
 * A datetime-local value read on the clock of `zone` (a schedule's rules are written in its
 * zone), as RFC 3339; as typed when it is no time or `zone` is none, for the schema to refuse.
 */
export function readZonedTime(form: Form, name: string, zone: string): string | undefined {
  const { utc, local } = clockReading(form, name, zone);
  return local === undefined ? utc : new Date(fromLocal(zone, local)).toISOString();
}

/**
 * A datetime-local field as utcTime reads it, and the clock reading it is (epoch milliseconds of
 * the clock's fields, as local-time.ts counts) when it is one and `zone` is a zone.
 */
function clockReading(form: Form, name: string, zone: string): { utc: string | undefined; local?: number } {
  const utc = utcTime(form, name);
  if (utc === undefined || !DATETIME_LOCAL.test(utc.slice(0, 19)) || !isTimeZone(zone)) return { utc };
  const local = Date.parse(utc);
  // Date.parse rolls 30 February over into March; the schema names such a date instead.
  if (Number.isNaN(local) || new Date(local).toISOString() !== utc) return { utc };
  return { utc, local };
}

/**
 * A span typed as two readings of the clock of `zone` (a maintenance window's From and Until, as
 * "22:00–23:00 Europe/Berlin"), its ends as RFC 3339 and the problems found before converting.
 * Until must read later than From, as on any other night: where the clocks go back, 02:30–02:30
 * would else be the hour between the two showings of 02:30, and 02:45–02:15 half an hour. The form
 * may carry Until's instant (`<until>_instant`, from a preset: From 01:30 + 1 h in Berlin on
 * 2027-10-31 is the first 02:30, which the reading alone makes the second); it is taken while
 * Until still reads it, and the instants are compared by the schema. As typed when a field is no
 * time or `zone` is none, for the schema to refuse.
 */
export function spanTimes(form: Form, zone: string, from: string, until: string): { starts: string | undefined; ends: string | undefined; problems: ErrorDetail[] } {
  const start = spanTime(form, from, zone, 'start');
  const carried = carriedInstant(form, until, zone);
  const end = carried === undefined ? spanTime(form, until, zone, 'end') : { time: carried };
  const problems = [start.problem, end.problem].filter((d) => d !== undefined);
  const [a, b] = [clockReading(form, from, zone).local, clockReading(form, until, zone).local];
  if (carried === undefined && a !== undefined && b !== undefined && b <= a) problems.push({ field: until, message: `must be after ${from}` });
  return { starts: start.time, ends: end.time, problems };
}

/** The instant the form carries for field `name` when it is one of the times the field's reading shows. */
function carriedInstant(form: Form, name: string, zone: string): string | undefined {
  const { local } = clockReading(form, name, zone);
  const instant = Date.parse(text(form, `${name}_instant`) ?? '');
  return local !== undefined && showings(zone, local).includes(instant) ? new Date(instant).toISOString() : undefined;
}

/**
 * One end of a span the clock of `zone` must cover, as RFC 3339: a time the clock shows twice when
 * it goes back is its first showing for the start and its second for the end, so the span holds
 * every moment the clock reads a time inside it; a time the clock skips when it jumps forward is a
 * problem under the field, naming the jump, rather than a guess an hour off.
 */
function spanTime(form: Form, name: string, zone: string, end: 'start' | 'end'): { time: string | undefined; problem?: ErrorDetail } {
  const { utc, local } = clockReading(form, name, zone);
  if (local === undefined) return { time: utc };
  const at = showings(zone, local);
  const t = end === 'start' ? at[0] : at.at(-1);
  if (t !== undefined) return { time: new Date(t).toISOString() };
  // Skipped: the jump happens at fromLocal's answer, from the clock just before it to the one at it.
  const jump = fromLocal(zone, local);
  const [before, after] = [new Date(toLocal(zone, jump - 1) + 1).toISOString(), new Date(toLocal(zone, jump)).toISOString()];
  const reading = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
  // Apia skipped all of 2011-12-30 (00:00 to 00:00 a day later): a jump into another day, or one
  // at midnight, which is no night's, is said with its dates.
  const jumps = before.slice(0, 10) === after.slice(0, 10) && before.slice(11, 16) !== '00:00' ? `${before.slice(11, 16)} to ${after.slice(11, 16)} that night` : `${reading(before)} to ${reading(after)}`;
  return { time: undefined, problem: { field: name, message: `${reading(utc!)} does not happen in ${zone}: clocks jump from ${jumps}` } };
}

/** The first problem of each field, by the field's own name or the name it sits under (labels.x → labels). */
export function fieldProblems(details: ErrorDetail[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of details ?? []) {
    const field = d.field.split('.')[0]!;
    if (!out.has(field)) out.set(field, d.field === field ? d.message : `${d.field}: ${d.message}`);
  }
  return out;
}

/**
 * The problem at a nested field or anywhere under it (`layers.0` finds `layers.0.user_ids.1`), the
 * rest of its path in front; for forms with repeated groups, whose fields fieldProblems would fold
 * into one.
 */
export function problemAt(details: ErrorDetail[] | undefined, path: string): string | undefined {
  for (const d of details ?? []) {
    if (d.field === path) return d.message;
    if (d.field.startsWith(`${path}.`)) return `${d.field.slice(path.length + 1)}: ${d.message}`;
  }
  return undefined;
}

/**
 * A refusal's messages in the form's words: an API field a message names ("must be after
 * starts_at") by the label the form shows for it ("must be after “From”").
 */
function inFormWords(details: ErrorDetail[], labels: Record<string, string>): ErrorDetail[] {
  // With no labels the pattern would be \b()\b, matching between every two words.
  if (Object.keys(labels).length === 0) return details;
  const named = new RegExp(`\\b(${Object.keys(labels).join('|')})\\b`, 'g');
  return details.map((d) => ({ ...d, message: d.message.replace(named, (field) => `“${labels[field]}”`) }));
}

/**
 * Where a form shows an API field: its input's id and label, or, when the path goes into one part
 * of what the input holds (`to.1`, the second address typed), that part in people's words instead.
 */
type Spot = { id: string; label: string; part?: undefined } | { id: string; part: string };

/**
 * A refusal laid on a form: each input's problems, the first input refused top down, and the
 * problems no input holds (`rest`), which the summary says as text: a link to an id the page lacks
 * goes nowhere and focuses nothing.
 */
export interface Placed {
  at: Map<string, string>;
  first?: { id: string; says: string };
  rest: string[];
}

/**
 * A refusal's problems at the inputs that hold them, in the form's words (inFormWords): `spot`
 * places an API path (`levels.1.after_seconds`) at the form's input (Level 2's wait), and `order`
 * lists the inputs the page shows, top down, so the first refused one is the summary's link and
 * has the focus. Every problem of an input is said, one message once ("Addresses 1, 2: must be an
 * email address"); a path `spot` does not place at an input in `order` is in `rest`, with its path.
 */
export function placeProblems(details: ErrorDetail[] | undefined, spot: (field: string) => Spot | undefined, order: string[], labels: Record<string, string> = {}): Placed {
  // Per input, each message with what it was said of (the parts; the label for the whole input),
  // in the order the API listed them.
  const found = new Map<string, Map<string, { parts: string[]; whole?: string }>>();
  const rest: string[] = [];
  for (const d of inFormWords(details ?? [], labels)) {
    const s = spot(d.field);
    if (!s || !order.includes(s.id)) {
      rest.push(`${d.field}: ${d.message}`);
      continue;
    }
    const said = found.get(s.id) ?? new Map<string, { parts: string[]; whole?: string }>();
    found.set(s.id, said);
    const of = said.get(d.message) ?? { parts: [] };
    said.set(d.message, of);
    if (s.part === undefined) of.whole = s.label;
    else if (!of.parts.includes(s.part)) of.parts.push(s.part);
  }
  const at = new Map<string, string>();
  const says = new Map<string, string>();
  for (const [id, said] of found) {
    // Said of the whole input, a message needs no part in front; in the summary, the input's label.
    const lines = [...said].map(([message, of]) => ({ message, part: of.whole === undefined ? partsOf(of.parts) : undefined, of: of.whole ?? partsOf(of.parts) }));
    at.set(id, lines.map((l) => (l.part ? `${l.part}: ${l.message}` : l.message)).join('; '));
    says.set(id, lines.map((l) => `${l.of}: ${l.message}`).join('; '));
  }
  const id = order.find((x) => at.has(x));
  return id === undefined ? { at, rest } : { at, first: { id, says: says.get(id)! }, rest };
}

/**
 * placeProblems for a form whose problems are one per API field already (fieldProblems): `fields`
 * lists the inputs top down, each as the API field it holds, its id and its label.
 */
export function placeFieldProblems(problems: Map<string, string>, fields: Array<[field: string, id: string, label: string]>): Placed {
  const spots = new Map(fields.map(([field, id, label]) => [field, { id, label }]));
  const details = [...problems].map(([field, message]) => ({ field, message }));
  return placeProblems(details, (field) => spots.get(field), fields.map(([, id]) => id));
}

/**
 * The parts one message was said of, as one name: "Address 1" and "Address 2" are "Addresses 1, 2";
 * parts not all "<word> <number>" of one word are listed as they are.
 */
function partsOf(parts: string[]): string {
  if (parts.length === 1) return parts[0]!;
  const numbered = parts.map((x) => /^(\p{L}+) (\d+)$/u.exec(x));
  const word = numbered[0]?.[1];
  if (word === undefined || numbered.some((m) => m?.[1] !== word)) return parts.join(', ');
  return `${word}${/(s|x|sh|ch)$/.test(word) ? 'es' : 's'} ${numbered.map((m) => m![2]).join(', ')}`;
}
