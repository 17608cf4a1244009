import type { ErrorDetail } from '../errors.ts';

// A status page's components as the console's form writes them: one line each,
//
//   API: api-1, api-2, role=api, region="eu west"
//
// the name, then after ": " the nodes (names or ids) and key=value label selectors, separated by
// commas or spaces. A textarea works without JavaScript, from the keyboard and on a phone, and
// holds the API's MAX_COMPONENTS (src/statuspages/model.ts: 50) where 50 groups of fields would
// not. Node names and label keys can hold neither spaces, commas, '=' nor '"', so those separate
// them; a label value with any of these is written in double quotes, as in JSON.

export interface ComponentInput {
  name: string;
  node_ids: string[];
  labels: Record<string, string>;
}

export interface ReadLines {
  components: ComponentInput[];
  /** The textarea's line number (from 1) of each component. */
  lines: number[];
  /** Lines that could not be read, as problems of the `components` field. */
  problems: ErrorDetail[];
}

// A separator, a label (its value bare or quoted), a node, or a character nothing expects.
const TOKEN = /[\s,]+|([^\s,="]+)=("(?:[^"\\]|\\.)*"|[^\s,"]*)|([^\s,="]+)|(.)/g;

/**
 * Where the name ends: the last ':' followed by a blank outside quotes, or -1. Searched from the
 * end, so a name may hold ": " itself ("EU: API: api-1"); a node name may end in ':' but is never
 * followed by a blank as written back (", " separates), and a ':' ending the line ends no name (a
 * component must select something anyway).
 */
function nameEnd(line: string, quotes = true): number {
  let quoted = false;
  for (let i = line.length - 1; i >= 0; i--) {
    const ch = line[i];
    if (ch === '"' && quotes && !escaped(line, i)) quoted = !quoted;
    else if (ch === ':' && !quoted && i + 1 < line.length && /\s/.test(line[i + 1]!)) return i;
  }
  // An unclosed quote hides every ':' before it: searched again regardless of quotes, so the
  // quote is the problem named, not a missing name.
  return quotes ? nameEnd(line, false) : -1;
}

/** Whether the quote at `at` is escaped: an odd run of backslashes before it (`\\"` ends a value). */
function escaped(line: string, at: number): boolean {
  let run = 0;
  while (line[at - 1 - run] === '\\') run++;
  return run % 2 === 1;
}

export function readComponentLines(raw: string | undefined): ReadLines {
  const out: ReadLines = { components: [], lines: [], problems: [] };
  for (const [i, line] of (raw ?? '').split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const problem = (message: string) => out.problems.push({ field: 'components', message: `line ${i + 1}: ${message}` });
    const end = nameEnd(line);
    if (end < 0) {
      problem('write it as "name: nodes or labels", e.g. "API: api-1, role=api"');
      continue;
    }
    const component: ComponentInput = { name: line.slice(0, end).trim(), node_ids: [], labels: {} };
    let unreadable = false;
    for (const m of line.slice(end + 1).matchAll(TOKEN)) {
      const [, key, value, node, stray] = m;
      if (stray !== undefined) unreadable = true;
      else if (node !== undefined) component.node_ids.push(node);
      else if (key !== undefined) {
        const unquoted = value!.startsWith('"') ? unquote(value!) : value!;
        if (unquoted === undefined) unreadable = true;
        else component.labels[key] = unquoted;
      }
    }
    if (unreadable) problem(`cannot read "${line.slice(end + 1).trim()}": a label with a blank, comma or quote in its value is key="value"`);
    else {
      out.components.push(component);
      out.lines.push(i + 1);
    }
  }
  return out;
}

function unquote(quoted: string): string | undefined {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return undefined;
  }
}

const labelValue = (v: string) => (v === '' || /[\s,"\\]/.test(v) ? JSON.stringify(v) : v);

/** Components back into the textarea's lines; nodes by name where `names` knows them, else by id. */
export function componentLines(components: readonly ComponentInput[], names: ReadonlyMap<string, string>): string {
  return components
    .map((c) => {
      const items = [...c.node_ids.map((id) => names.get(id) ?? id), ...Object.entries(c.labels).map(([k, v]) => `${k}=${labelValue(v)}`)];
      return `${c.name}: ${items.join(', ')}`;
    })
    .join('\n');
}

/**
 * The problems the API's schema and the service found under `components`, said by line as the
 * person wrote them (`components.2.node_ids.0`: line 4: "web-9" is not a node). The same message
 * twice for a line is said once (a component selecting nothing is a problem of its node_ids and
 * of its labels).
 */
export function lineProblems(details: readonly ErrorDetail[], read: Pick<ReadLines, 'components' | 'lines'>): string[] {
  const out: string[] = [];
  for (const d of details) {
    const [top, index, field, item] = d.field.split('.');
    if (top !== 'components') continue;
    const i = Number(index);
    const component = read.components[i];
    let said: string;
    if (index === undefined) said = d.message.startsWith('line ') ? d.message : `the components ${d.message}`;
    else if (!component) said = `component ${i + 1}: ${d.message}`;
    else if (field === 'node_ids' && item !== undefined) said = `line ${read.lines[i]}: "${component.node_ids[Number(item)] ?? item}" ${d.message}`;
    else if (field === 'name') said = `line ${read.lines[i]}: the name ${d.message}`;
    else said = `line ${read.lines[i]}: ${d.message}`;
    if (!out.includes(said)) out.push(said);
  }
  return out;
}

/** A component the form was given, with its id and its nodes as its line names them (componentLines). */
export type ShownComponent = ComponentInput & { id: string };

const sameSelection = (a: ComponentInput, b: ComponentInput) =>
  a.node_ids.length === b.node_ids.length &&
  a.node_ids.every((n) => b.node_ids.includes(n)) &&
  Object.keys(a.labels).length === Object.keys(b.labels).length &&
  Object.entries(a.labels).every(([k, v]) => b.labels[k] === v);

const words = (name: string): string[] => name.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** Whether two lines have anything in common: a word of their names (in any case), a node or a label. */
const akin = (a: ComponentInput, b: ComponentInput) =>
  words(a.name).some((w) => words(b.name).includes(w)) ||
  a.node_ids.some((n) => b.node_ids.includes(n)) ||
  Object.entries(a.labels).some(([k, v]) => b.labels[k] === v);

/**
 * Each line read back with the id of the component it edits, among those the form was given
 * (`shown`, in the order of its lines), so its kept days follow it as they do a PATCH that sends
 * the id. In passes, each taking the first component not yet claimed: the one of its name that
 * selects the same nodes and labels (unchanged, or moved); else the one selecting the same (a
 * rename); else the one of its name (its nodes edited); else, with as many lines as the form was
 * given, the one on its line if the two have a word of the name, a node or a label in common (a
 * line edited in place, name and nodes at once). Else none: a new component, with a past of its
 * own. Selection before name, so of two components "API: api-1" and "API: api-2", deleting the
 * first or swapping them leaves each its own past; and a line typed over another with nothing in
 * common is not handed that other's 90 days. Each id once.
 */
export function identifiedLines(lines: readonly ComponentInput[], shown: readonly ShownComponent[]): Array<ComponentInput & { id?: string }> {
  const ids: Array<string | undefined> = lines.map(() => undefined);
  const claimed = new Set<string>();
  const pass = (match: (line: ComponentInput, i: number) => ShownComponent | undefined) =>
    lines.forEach((line, i) => {
      if (ids[i] !== undefined) return;
      const found = match(line, i);
      if (!found || claimed.has(found.id)) return;
      ids[i] = found.id;
      claimed.add(found.id);
    });
  const unclaimed = (c: ShownComponent) => !claimed.has(c.id);
  pass((line) => shown.find((c) => unclaimed(c) && c.name === line.name && sameSelection(c, line)));
  pass((line) => shown.find((c) => unclaimed(c) && sameSelection(c, line)));
  pass((line) => shown.find((c) => unclaimed(c) && c.name === line.name));
  if (lines.length === shown.length) pass((line, i) => (akin(shown[i]!, line) ? shown[i] : undefined));
  return lines.map((line, i) => (ids[i] === undefined ? line : { id: ids[i], ...line }));
}
