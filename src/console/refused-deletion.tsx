import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { Refusal } from '../errors.ts';
import type { AppDeps } from '../http/deps.ts';
import { HOLDER_WORDS, InUse, type HolderKind } from '../oncall/model.ts';
import { formRefusal } from './acting.tsx';
import { refusal } from './render.tsx';

// Every refused deletion of the console is answered here: a page with the navigation, naming what
// still holds the thing as links to those things' pages (the API's message quotes their ids,
// which a person can do nothing with), and a way back to the thing.

/** What a deletion was asked for, and how its refusal says it is still held. */
export interface Deleted {
  name: string;
  href: string;
  /** `ops webhook` … `is still paged by` … `remove it there first`. */
  held: string;
  fix: string;
}

// The API's words, but the console calls its users people, as its navigation does.
const WORDS: Record<HolderKind, readonly [one: string, many: string]> = { ...HOLDER_WORDS, user: ['person', 'people'] };

const PAGES: Record<HolderKind, string> = { policy: '/policies', user: '/users', schedule: '/schedules', override: '/schedules' };

/** `a`, `a and b`, `a, b and c`. */
function joined(items: Child[]): Child[] {
  return items.flatMap((item, i) => (i === 0 ? [item] : [i === items.length - 1 ? ' and ' : ', ', item]));
}

export function refusedDeletion(c: Context, deps: AppDeps, what: Deleted, r: Refusal): Promise<Response> {
  const why =
    r instanceof InUse ? (
      <>
        {what.name} {what.held}{' '}
        {joined(
          r.heldBy.map(({ kind, list }) => (
            <>
              {WORDS[kind][list.length === 1 ? 0 : 1]}{' '}
              {joined(
                list.map((x) => (
                  <a href={`${PAGES[kind]}/${x.id}`}>{x.name}</a>
                )),
              )}
            </>
          )),
        )}{' '}
        — {what.fix}.
      </>
    ) : (
      r.message
    );
  return refusal(c, deps, formRefusal(r, 'Not deleted').status, `${what.name} was not deleted`, why, { href: what.href, label: `Back to ${what.name}` });
}
