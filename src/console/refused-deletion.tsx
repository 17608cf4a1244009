import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { Refusal } from '../errors.ts';
import type { AppDeps } from '../http/deps.ts';
import { HOLDER_WORDS, InUse, type HeldBy, type HolderKind, type NamedBy } from '../oncall/model.ts';
import { formRefusal } from './acting.tsx';
import { refusal } from './render.tsx';

// Every refused deletion of the console is answered here: a page with the navigation, naming what
// still holds the thing as links to those things' pages (the API's message quotes their ids,
// which a person can do nothing with), and a way back to the thing.

/** What a deletion was asked for, and how its refusal says it is still named. */
export interface Deleted {
  name: string;
  href: string;
  /** `ops webhook` … `is still paged by` … `remove it there first`; or `words` name each kind with what it does (a person). */
  held: string | { words: Readonly<Record<HolderKind, readonly [one: string, many: string]>> };
  fix: string;
}

// The API's words, but the console calls its users people, as its navigation does.
const WORDS: Record<HolderKind, readonly [one: string, many: string]> = { ...HOLDER_WORDS, user: ['person', 'people'] };

const PAGES: Record<HolderKind, string> = { policy: '/policies', user: '/users', schedule: '/schedules', override: '/schedules', paged: '/incidents', owing: '/incidents', parked: '/incidents' };

/**
 * How incidents holding a channel or person say so, in place of the Deleted's words for what names
 * it: `Carol` … `was paged for` … `try again once that is resolved: …`. `fix` is told how many
 * there are and the first (a dead event is settled by its id).
 */
const INCIDENTS_HOLD: Partial<Record<HolderKind, { held: string; fix: (total: number, first: NamedBy) => string }>> = {
  paged: {
    held: 'was paged for',
    fix: (n) => (n === 1 ? 'try again once that is resolved: its resolve is sent there too' : 'try again once they are resolved: their resolves are sent there too'),
  },
  owing: { held: 'is still owed messages by', fix: () => 'try again once they are delivered' },
  parked: {
    held: 'would still be messaged, once replayed, by',
    fix: (n, first) => {
      const id = n === 1 ? first.event_id : '{id}';
      return `an admin replays (then try again once ${n === 1 ? 'its' : 'their'} messages are delivered) or discards (they are never sent) ${n === 1 ? 'it' : 'each'} first, through the API: POST /v1/outbox/dead/${id}/replay or DELETE /v1/outbox/dead/${id}`;
    },
  },
};

/** `a`, `a and b`, `a, b and c`. */
function joined(items: Child[]): Child[] {
  return items.flatMap((item, i) => (i === 0 ? [item] : [i === items.length - 1 ? ' and ' : ', ', item]));
}

/** One holder as a link to its page; an incident also by its node, a dead event by its id first. */
function Holder(p: { kind: HolderKind; x: NamedBy }) {
  const link = <a href={`${PAGES[p.kind]}/${p.x.id}`}>{p.x.name}</a>;
  const of = p.x.node === undefined ? link : <>{link} on {p.x.node}</>;
  return p.x.event_id === undefined ? of : <>{p.x.event_id} (of incident {of})</>;
}

export function refusedDeletion(c: Context, deps: AppDeps, what: Deleted, r: Refusal): Promise<Response> {
  return refusal(c, deps, formRefusal(r, 'Not deleted').status, `${what.name} was not deleted`, r instanceof InUse ? <Held what={what} r={r} /> : r.message, {
    href: what.href,
    label: `Back to ${what.name}`,
  });
}

/** How many hold it, where the list may name only the first. */
const count = (h: HeldBy): number => h.total ?? h.list.length;

/** `ops webhook is still paged by escalation policy Primary — remove it there first.` */
function Held(p: { what: Deleted; r: InUse }) {
  // Incidents hold a thing alone: a deletion is refused for what names it before they are read.
  const [first] = p.r.heldBy;
  const incidents = first ? INCIDENTS_HOLD[first.kind] : undefined;
  const lead = incidents ? `${incidents.held} ` : typeof p.what.held === 'string' ? `${p.what.held} ` : '';
  const words = typeof p.what.held === 'string' ? WORDS : p.what.held.words;
  return (
    <>
      {p.what.name} {lead}
      {joined(
        p.r.heldBy.map((h) => (
          <>
            {words[h.kind][count(h) === 1 ? 0 : 1]}{' '}
            {joined([...h.list.map((x) => <Holder kind={h.kind} x={x} />), ...(count(h) > h.list.length ? [`${count(h) - h.list.length} more`] : [])])}
          </>
        )),
      )}{' '}
      — {incidents ? incidents.fix(count(first!), first!.list[0]!) : p.what.fix}.
    </>
  );
}
