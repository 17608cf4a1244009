import { changedSince } from '../audit/service.ts';
import type { Queryable } from '../db/client.ts';
import type { Refusal } from '../errors.ts';
import { utc } from './format.ts';
import { text, type Form } from './forms.ts';

// An edit form carries the version of the row it was drawn from (the ETag a GET of the API answers
// for it, without the quotes) and hands it to the service as the expected version, as an API client
// sends If-Match: a save over a row changed since (a deploy script's PUT /v1/nodes/by-name while the
// form was open) is refused with nothing changed, and the form is drawn again from the row as it is
// now, rather than the stale form silently writing back what the script had changed.

const FIELD = 'version';

/** The hidden field of an edit form (or of a confirmation page): the version `tag` it was drawn at. */
export const Version = (p: { tag: string }) => <input type="hidden" name={FIELD} value={p.tag} />;

/** A row's version as its ETag says it: its `updated_at` in epoch ms (a status page's says more: pageTag). */
export const versionOf = (row: { updated_at: Date }): string => String(row.updated_at.getTime());

/** The hidden field as a confirmation page's `fields` carry it. */
export const versionField = (tag: string): Record<string, string> => ({ [FIELD]: tag });

/**
 * The version the form was drawn at, as the services' `expected`; undefined from a form drawn before
 * forms carried one (open in a tab across an upgrade), which saves as it did. A tag of no version (a
 * forged field) matches none and is refused as stale.
 */
export function sentTags(form: Form): string[] | undefined {
  const tag = text(form, FIELD)?.trim();
  return tag === undefined ? undefined : [tag];
}

/** sentTags as the numbers of a row whose ETag is its `updated_at` alone. */
export const sentVersions = (form: Form): number[] | undefined => sentTags(form)?.map(Number);

type Redraw<T> = (current: T, message: string) => Response | Promise<Response>;

/** The page a refused request was sent from: the kind of row it shows, as the audit log names it (`node` …), and what it sent back. */
export interface Opened {
  sql: Queryable;
  type: string;
  form: Form;
}

/**
 * Who changed the row since the page was drawn, and when: the latest change the audit log has of
 * it after the version the page sent back (for a status page, the milliseconds its tag begins
 * with). Undefined when none is found: a change it holds no row of (a status page's node deleted),
 * or one stamped in the very millisecond of that version, which cannot be told from it.
 */
async function changeSinceOpened(opened: Opened, id: string): Promise<{ by: string; at: Date } | undefined> {
  const ms = /^\d{1,15}/.exec(sentTags(opened.form)?.[0] ?? '')?.[0];
  return ms === undefined ? undefined : changedSince(opened.sql, { type: opened.type, id }, new Date(Number(ms)));
}

/**
 * A refusal of what a page drawn from a row asked (`done`: saved, deleted): over a row changed since
 * it was drawn (412), the page drawn again by `redraw` from the row as `reread` reads it now, with
 * who changed it and when (as the audit log has it; when it has not, the row's own time), and `then`
 * (what to do) said at the top; any other refusal, or a row gone meanwhile, as `refused` shows it.
 */
const refusedOver =
  (page: string, then: string, done: string) =>
  async <T extends { id: string; updated_at: Date }>(
    r: Refusal,
    refused: (r: Refusal) => Response | Promise<Response>,
    reread: () => Promise<T | undefined>,
    redraw: Redraw<T>,
    name: (row: T) => string,
    opened: Opened,
  ): Promise<Response> => {
    const current = r.code === 'precondition_failed' ? await reread() : undefined;
    if (!current) return refused(r);
    const change = await changeSinceOpened(opened, current.id);
    const changed = change ? `was changed by ${change.by} at ${utc(change.at)} since you opened this ${page}` : `was changed since you opened this ${page} (at ${utc(current.updated_at)})`;
    return redraw(current, `${name(current)} ${changed}: ${then}. Nothing was ${done}.`);
  };

/** A refused save of an edit form (refusedOver): the form comes back with the current values. */
export const refusedSave = refusedOver('form', 'review the current values and save again', 'saved');

/** A refused delete from a confirmation page (refusedOver): the question is asked again of the row as it is now. */
export const refusedDelete = refusedOver('page', 'review it and delete again', 'deleted');
