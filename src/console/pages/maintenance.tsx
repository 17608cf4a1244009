import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConsoleSession } from '../../access/sessions.ts';
import { isUuid } from '../../db/ids.ts';
import { validationFailed, type ErrorDetail } from '../../errors.ts';
import type { AppDeps } from '../../http/deps.ts';
import { CreateMaintenance } from '../../http/routes/maintenances.ts';
import { isTimeCursor, parse } from '../../http/validation.ts';
import { shownZone } from '../../local-time.ts';
import { isOpenAt, isOverAt, notBefore, startedBy, windowCovers, type MaintenanceRow } from '../../maintenance/model.ts';
import { createWindow, endWindow } from '../../maintenance/service.ts';
import { getMaintenance, lastTimeZone, listMaintenances } from '../../maintenance/store.ts';
import { findNodeRefs } from '../../nodes/store.ts';
import { acting, Field, may, requireScope } from '../acting.tsx';
import { ALREADY, areaText, LabelList, Outcome, Pager, sayingOf, Table } from '../components.tsx';
import { chrome, cursor, href, nodePath, readCursor } from '../context.ts';
import { localInput } from '../format.ts';
import { fieldProblems, labels, placeFieldProblems, readZonedTime, spanTimes, text, type Form, type Placed } from '../forms.ts';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { Csrf, Page } from '../layout.tsx';
import { AskFirst, asking, Confirm, confirmed } from '../confirm.tsx';
import { createOnce, Once } from '../once.tsx';
import { html, refusal } from '../render.tsx';
import { ZonedAt, ZoneInput, zoneOrFallback } from '../zones.tsx';

// Maintenance windows: the ones open now, the rest newest first, a form for a new one and a way to
// end one, asked first (confirm.tsx): ended, a window's nodes are judged afresh, and one still
// silent goes down and pages a full period later (a job: after its next run) —
// src/maintenance/service.ts's createWindow and endWindow, as the API calls them. A window is typed
// on the clock of a zone the form names, and listed on it with UTC beside (ARCHITECTURE.md,
// "Maintenance is typed on a zone's clock").

const PAGE_SIZE = 50;

/**
 * Windows opened from a node or an incident page ("Maintenance for this node…") come with the node
 * filled in and an end this many hours from now, so silencing one node at 3 a.m. is two clicks. The
 * presets are buttons of the form itself: it comes back with another end and everything else as
 * typed (links re-drew it empty of the nodes and reason typed so far), script or none.
 */
const PRESET_HOURS = [1, 4, 24];
const DEFAULT_HOURS = 1;

/** What the form starts with when a page linked to it for one node. */
interface Prefill {
  nodes: string;
  hours: number;
}

/**
 * A preset's end: `hours` from the later of now and the typed start. From now alone, a window typed
 * to start tonight at 22:00 and given "4 h" at 09:00 would end at 13:00, before it began.
 */
export function presetEnd(now: Date, typedStart: string | undefined, hours: number): Date {
  const start = typedStart === undefined ? Number.NaN : Date.parse(typedStart);
  return new Date(Math.max(now.getTime(), Number.isNaN(start) ? 0 : start) + hours * 3_600_000);
}

/**
 * A preset's end as the instant the form carries beside Until (forms.ts, spanTimes): to the minute,
 * as Until shows it.
 */
const minuteOf = (d: Date): string => new Date(d.getTime() - (d.getTime() % 60_000)).toISOString();

/** A preset's hours as a form sends them, or undefined for anything else. */
const presetOf = (raw: unknown): number | undefined => PRESET_HOURS.find((h) => raw === String(h));

/** The console's words for a window naming nothing (the API's are `node_ids or labels must name …`). */
const NOTHING_NAMED = 'Pick at least one node or give a label';

/** Where asking to end a window already over (ended or cancelled: isOverAt) leads, and what it says there. */
const OVER_DONE = '/maintenance?done=over';
const OVER = 'That window is already over: nothing was changed.';

function prefillOf(c: ConsoleContext): Prefill | undefined {
  const node = c.req.query('node');
  const hours = Number(c.req.query('hours'));
  if (node === undefined && !PRESET_HOURS.includes(hours)) return undefined;
  return { nodes: node ?? '', hours: PRESET_HOURS.includes(hours) ? hours : DEFAULT_HOURS };
}

const formLink = (nodes: string | undefined) => `${href('/maintenance', { node: nodes })}#new-window`;

/** The node and incident pages' way into a window for their node. */
export const MaintenanceLink = (p: { node: string }) => (
  <a class="button" href={formLink(p.node)} id="maintenance-for-node">
    Maintenance for this node…
  </a>
);

/** "the window over web-1, role=web": what it covers, as the list shows it, for the question and its link. */
const windowName = (m: MaintenanceRow, names: Map<string, string>) => `the window over ${windowCovers(m, names)}`;

function Windows(p: { rows: MaintenanceRow[]; names: Map<string, string>; now: Date; session: ConsoleSession; empty: string }) {
  if (p.rows.length === 0) return <p class="empty panel">{p.empty}</p>;
  const canEnd = may(p.session, 'write');
  return (
    <Table head={['Covers', 'From', 'Until', 'Why', ...(canEnd ? [{ label: 'Actions', hidden: true } as const] : [])]}>
      {p.rows.map((m) => {
        return (
          <tr>
            <td data-label="Covers">
              <span>
                {m.node_ids.map((id) => (
                  <a class="tag" href={nodePath({ id, name: p.names.get(id) ?? id })}>
                    {p.names.get(id) ?? 'a deleted node'}
                  </a>
                ))}
                <LabelList labels={m.labels} />
              </span>
            </td>
            <td data-label="From">
              <ZonedAt at={m.starts_at} zone={m.time_zone} />
            </td>
            <td data-label="Until">
              <ZonedAt at={m.ends_at} zone={m.time_zone} none="until ended" />
            </td>
            <td data-label="Why" class="reason">
              {m.reason ?? ''}
            </td>
            {canEnd ? (
              <td data-label="">
                {isOverAt(m, p.now) ? null : <AskFirst href={`/maintenance/${m.id}/end`} name={windowName(m, p.names)} {...(isOpenAt(m, p.now) ? { label: 'End now' } : { verb: 'Cancel' as const })} small />}
              </td>
            ) : null}
          </tr>
        );
      })}
    </Table>
  );
}

function CreateForm(p: { session: ConsoleSession; now: Date; zone: string; prefill?: Prefill | undefined; form?: Form; placed?: Placed }) {
  const f = p.form;
  const at = (id: string) => ({ problem: p.placed?.at.get(id), focus: p.placed?.first?.id === id });
  const pre = p.prefill;
  const v = (name: string, fallback = '') => (f ? (text(f, name) ?? '') : fallback);
  // Fields re-shown after a refusal are as typed; times are filled in on the zone the form shows.
  const zone = zoneOrFallback(f && text(f, 'time_zone')?.trim(), p.zone);
  const hours = pre?.hours ?? (f ? presetOf(f.hours) : undefined);
  const presetUntil = pre ? new Date(p.now.getTime() + pre.hours * 3_600_000) : undefined;
  const untilInstant = f ? text(f, 'ends_at_instant') : presetUntil && minuteOf(presetUntil);
  return (
    <form method="post" action="/maintenance" class="panel">
      <Csrf session={p.session} />
      <Once />
      {/* Enter in a field sends the form by its first submit button: this one, so it starts the
          window rather than pressing the "1 h" preset, which comes first on the page. */}
      <button type="submit" hidden tabindex={-1}>
        Start the window
      </button>
      <div class="grid-2">
        <Field id="nodes" label="Nodes" hint="Names or ids, separated by spaces or commas." {...at('nodes')}>
          <input id="nodes" name="nodes" type="text" class="wide" value={v('nodes', pre?.nodes)} spellcheck={false} />
        </Field>
        <Field id="labels" label="Or every node with these labels" hint="One key=value per line; a node needs all of them." {...at('labels')}>
          <textarea id="labels" name="labels" spellcheck={false}>
            {areaText(v('labels'))}
          </textarea>
        </Field>
        <Field id="starts_at" label="From" hint="On the clock of the time zone below. A time already past starts the window when it is created: time already judged stays as it was." {...at('starts_at')}>
          <input id="starts_at" name="starts_at" type="datetime-local" required value={v('starts_at', localInput(p.now, zone))} />
        </Field>
        <Field id="ends_at" label="Until" hint="Empty: until someone ends it." {...at('ends_at')}>
          <input id="ends_at" name="ends_at" type="datetime-local" value={v('ends_at', presetUntil ? localInput(presetUntil, zone) : '')} />
          {untilInstant ? <input type="hidden" name="ends_at_instant" value={untilInstant} /> : null}
          <p class="hint">
            From now (or the later start) for{' '}
            {PRESET_HOURS.map((h, i) => (
              <>
                {i > 0 ? ', ' : ''}
                <button type="submit" class="link" name="hours" value={String(h)} formaction="/maintenance#new-window" formnovalidate aria-current={hours === h ? 'true' : undefined}>
                  {h} h
                </button>
              </>
            ))}
          </p>
        </Field>
        <Field id="time_zone" label="Time zone" hint="From and Until are read on its clock, summer time included; the last zone used is offered." {...at('time_zone')}>
          <ZoneInput id="time_zone" value={f ? (text(f, 'time_zone') ?? '') : p.zone} />
        </Field>
      </div>
      <Field id="reason" label="Why" {...at('reason')}>
        <input id="reason" name="reason" type="text" class="wide" maxlength={1024} value={v('reason')} />
      </Field>
      <button type="submit" class="primary">
        Start the window
      </button>
    </form>
  );
}

/**
 * "No node named web-1", "web/1: must be …": the service's `node_ids.0: is not a node` and the
 * schema's `node_ids.0: must be …` said by what was typed, since the form has one Nodes field and
 * no numbered ids. One problem per typed name: the schema may find two in one.
 */
function byTyped(details: ErrorDetail[] | undefined, typed: string[]): ErrorDetail[] | undefined {
  const index = (d: ErrorDetail) => /^node_ids\.(\d+)$/.exec(d.field)?.[1];
  const each = new Map<string, string>();
  for (const d of details ?? []) {
    const i = index(d);
    if (i !== undefined && !each.has(i)) each.set(i, d.message);
  }
  if (each.size === 0) return details;
  const missing = [...each].filter(([, m]) => m === 'is not a node').map(([i]) => typed[Number(i)]);
  const invalid = [...each].filter(([, m]) => m !== 'is not a node').map(([i, m]) => `${typed[Number(i)]}: ${m}`);
  const message = [...(missing.length ? [`No node named ${missing.join(', ')}`] : []), ...invalid].join('; ');
  return [{ field: 'node_ids', message }, ...details!.filter((d) => index(d) === undefined)];
}

/**
 * A window naming no node and no label is refused under both API fields; the form says so once, in
 * its own words, under Nodes (beside Labels).
 */
function saidHere(problems: Map<string, string>, input: { node_ids: string[]; labels: Record<string, string> }): Map<string, string> {
  if (input.node_ids.length > 0 || Object.keys(input.labels).length > 0 || !problems.has('node_ids')) return problems;
  const out = new Map(problems);
  out.set('node_ids', NOTHING_NAMED);
  out.delete('labels');
  return out;
}

/** The form's inputs top down: the API field each holds, its id and its label. */
const FIELDS: Array<[string, string, string]> = [
  ['node_ids', 'nodes', 'Nodes'],
  ['labels', 'labels', 'Labels'],
  ['starts_at', 'starts_at', 'From'],
  ['ends_at', 'ends_at', 'Until'],
  ['time_zone', 'time_zone', 'Time zone'],
  ['reason', 'reason', 'Why'],
];

export function maintenanceRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();

  /** The zone the form offers: the last one used, UTC when none was or it is one this engine does not know. */
  const formZone = async () => shownZone(await lastTimeZone(deps.sql)) ?? 'UTC';

  const page = async (c: ConsoleContext, o: { prefill?: Prefill | undefined; form?: Form; placed?: Placed; message?: string; done?: Child; status?: ContentfulStatusCode } = {}) => {
    const now = deps.clock.now();
    const after = readCursor(c.req.query('after'), isTimeCursor);
    const [frame, active, rest, zone] = await Promise.all([
      chrome(c, deps),
      listMaintenances(deps.sql, { active: true, now, limit: PAGE_SIZE }),
      listMaintenances(deps.sql, { active: false, now, after, limit: PAGE_SIZE + 1 }),
      formZone(),
    ]);
    const others = rest.slice(0, PAGE_SIZE);
    const ids = [...new Set([...active, ...others].flatMap((m) => m.node_ids))];
    const names = new Map((await findNodeRefs(deps.sql, ids)).map((n) => [n.id, n.name]));
    const last = others.at(-1);
    const next = rest.length > PAGE_SIZE && last ? href('/maintenance', { after: cursor([last.created_at.toISOString(), last.id]) }) : undefined;
    return html(
      c,
      <Page title="Maintenance" chrome={frame} section="maintenance">
        <h1>Maintenance</h1>
        <p class="muted">Nodes in a window are in maintenance: no incident opens and nobody is paged, and the time does not count against uptime.</p>
        <Outcome done={o.done} problem={o.message} placed={o.placed} />
        <h2>Now</h2>
        <Windows rows={active} names={names} now={now} session={frame.session} empty="No window is open." />
        {may(frame.session, 'write') ? (
          <>
            <h2 id="new-window">New window</h2>
            <CreateForm session={frame.session} now={now} zone={zone} prefill={o.prefill} {...(o.form ? { form: o.form } : {})} {...(o.placed ? { placed: o.placed } : {})} />
          </>
        ) : null}
        <h2>Coming and past</h2>
        <Windows rows={others} names={names} now={now} session={frame.session} empty="None." />
        <Pager next={next} first={after ? '/maintenance' : undefined} />
      </Page>,
      o.status,
    );
  };

  /**
   * What a window whose From was past says once created: when it really started (notBefore), so
   * the From typed or pre-filled is not taken for its start. Read from the window, not the
   * address, so an address edited by hand says nothing it did not do.
   */
  const startedSaying = async (id: string | undefined): Promise<{ done?: Child }> => {
    const w = id !== undefined && isUuid(id) ? await getMaintenance(deps.sql, id) : undefined;
    return w
      ? {
          done: (
            <>
              Started at <ZonedAt at={w.starts_at} zone={w.time_zone} seconds />, when it was created: a window cannot begin in the past from the console (the API can record one).
            </>
          ),
        }
      : {};
  };

  app.get('/maintenance', ...guards.page, async (c) => {
    const done = c.req.query('done');
    const said: Record<string, string> = { created: 'The window is on: its nodes enter maintenance at its start.', already: ALREADY, ended: 'Ended: its nodes are judged afresh.', cancelled: 'Cancelled: it will not start.', over: OVER };
    const saying = done === 'started' ? await startedSaying(c.req.query('window')) : sayingOf(said, done);
    return page(c, saying.done ? saying : { prefill: prefillOf(c) });
  });

  app.post('/maintenance', ...guards.action, requireScope(deps, 'write'), async (c) => {
    const form = (await c.req.parseBody()) as Form;
    const hours = presetOf(form.hours);
    // A preset pressed: the form again, as typed, with another end; nothing created.
    if (hours !== undefined) {
      const zone = zoneOrFallback(text(form, 'time_zone')?.trim(), await formZone());
      const end = presetEnd(deps.clock.now(), readZonedTime(form, 'starts_at', zone), hours);
      return page(c, { form: { ...form, ends_at: localInput(end, zone), ends_at_instant: minuteOf(end) } });
    }
    const parsedLabels = labels(text(form, 'labels'), 'labels');
    const zone = text(form, 'time_zone')?.trim() ?? '';
    const span = spanTimes(form, zone, 'starts_at', 'ends_at');
    const problems = [...parsedLabels.problems, ...span.problems];
    const input = {
      node_ids: (text(form, 'nodes') ?? '').split(/[\s,]+/).filter(Boolean),
      labels: parsedLabels.labels,
      starts_at: span.starts,
      ends_at: span.ends ?? null,
      reason: text(form, 'reason')?.trim() ?? null,
      time_zone: zone,
    };
    // Whether From was past, so the page says when the window really started.
    let movedToNow = false;
    return createOnce(
      c,
      deps,
      form,
      async () => {
        if (problems.length) throw validationFailed(problems);
        const now = deps.clock.now();
        const asked = startedBy(parse(CreateMaintenance, input), now);
        movedToNow = asked.starts_at < now;
        return createWindow(deps.sql, notBefore(asked, now), now, acting(c));
      },
      (r) => page(c, { form, placed: placeFieldProblems(saidHere(fieldProblems(byTyped(r.details, input.node_ids)), input), FIELDS), message: r.details ? 'The window was not created: some fields need another look.' : r.message, status: 400 }),
      () => '/maintenance',
      (made) => c.redirect(href('/maintenance', movedToNow ? { done: 'started', window: made.id } : { done: 'created' }), 303),
    );
  });

  const find = async (c: ConsoleContext) => (isUuid(c.req.param('id') ?? '') ? getMaintenance(deps.sql, c.req.param('id')!) : undefined);
  const missing = (c: ConsoleContext) => refusal(c, deps, 404, 'No such window', 'There is no maintenance window with that id.');

  // Asked like a deletion: ended at once, a window's nodes are judged afresh and one still silent
  // pages a full period later, at 3 a.m. maybe; cancelled, the hours it was made for are judged as
  // usual. One already over is not asked about: ending it again would only re-audit it.
  app.get(
    '/maintenance/:id/end',
    ...guards.page,
    requireScope(deps, 'write'),
    asking(
      deps,
      find,
      missing,
      async (m, frame) => {
        const names = new Map((await findNodeRefs(deps.sql, m.node_ids)).map((n) => [n.id, n.name]));
        const open = isOpenAt(m, deps.clock.now());
        return (
          <Confirm verb={open ? 'End' : 'Cancel'} name={windowName(m, names)} back="/maintenance" backLabel="Maintenance" action={`/maintenance/${m.id}/end`} chrome={frame} section="maintenance">
            {open
              ? 'Its nodes are judged afresh from now: one still silent goes down after a full period (a job: after its next run) and pages.'
              : 'It will not start: its nodes are judged as usual through those hours.'}
          </Confirm>
        );
      },
      (m) => (isOverAt(m, deps.clock.now()) ? OVER_DONE : undefined),
    ),
  );

  app.post('/maintenance/:id/end', ...guards.action, requireScope(deps, 'write'), confirmed(), async (c) => {
    const id = c.req.param('id');
    const now = deps.clock.now();
    const result = isUuid(id) ? await endWindow(deps.sql, id, now, acting(c)) : undefined;
    if (!result) return page(c, { message: 'There is no such window.', status: 404 });
    if (!result.ended) return c.redirect(OVER_DONE, 303);
    // One that had not begun ends where it starts (endMaintenance): it was cancelled.
    return c.redirect(`/maintenance?done=${result.window.starts_at > now ? 'cancelled' : 'ended'}`, 303);
  });

  return app;
}
