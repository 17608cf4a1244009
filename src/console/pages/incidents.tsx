import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { listDeliveries } from '../../notifications/store.ts';
import { isPageEvent, shownPeople, type DeliveryRow } from '../../notifications/model.ts';
import { lastReasonOf, reasonNow, stillFailing, stillFailingWarning } from '../../incidents/still-failing.ts';
import { findNodeRefs, nodeById } from '../../nodes/store.ts';
import { countIncidentsByStatus, getIncident, getIncidents, incidentsNodeId, listIncidents, pagedNobody, timelinesOf } from '../../incidents/store.ts';
import { ACKNOWLEDGE_MAX, type IncidentRow, type IncidentStatus } from '../../incidents/model.ts';
import { isUuid } from '../../db/ids.ts';
import type { AppDeps } from '../../http/deps.ts';
import { isTimeCursor } from '../../http/validation.ts';
import { addedNote, NOTE_MAX_CHARS, noteOf, resolutionNote } from '../../incidents/resolve-note.ts';
import { acknowledgeEach, acknowledgeOnce, addNote, policiesEscalating, resolve } from '../../incidents/service.ts';
import type { Refusal } from '../../errors.ts';
import type { Acting } from '../../audit/model.ts';
import { acting, actor, attempt, Field, may, requireScope } from '../acting.tsx';
import { createOnce, Once } from '../once.tsx';
import { Ago, areaText, At, AtOn, Back, Notice, Pager, StateBadge } from '../components.tsx';
import { CATEGORIES } from '../../incidents/categorize.ts';
import { ago, agoAndAt, atOn, day, duration, utc } from '../format.ts';
import { chrome, cursor, href, readCursor } from '../context.ts';
import { sitePath, type ConsoleContext, type ConsoleEnv, type Guards } from '../guard.ts';
import { actorNames } from '../../incidents/actor-names.ts';
import { Actor, capitalized, IncidentTable, incidentTableFacts, Ledger, maintenanceOf, namesFor, PagedNobodyNotice, PagedNow, SeverityTag, StatusTag, Timeline, UnderMaintenance } from '../incident-parts.tsx';
import { actorText } from '../../incidents/shown-actor.ts';
import { RESOLVED_MEANWHILE_SCRIPT_PATH } from '../assets.ts';
import { RESOLVED_SAID } from '../resolved-meanwhile.ts';
import { Csrf, Live, Page } from '../layout.tsx';
import type { EventType } from '../../live/model.ts';
import { sayAttrs } from '../live-status.ts';
import { html, refusal } from '../render.tsx';
import { MaintenanceLink } from './maintenance.tsx';
import { Confirm, asking, confirmed } from '../confirm.tsx';
import { LabelField, LabelProblem, readLabelFilters } from '../label-filter.tsx';
import { NOT_SET_UP, ReachesNobody, unsentWithoutEmail } from '../email-reach.tsx';
import type { ConsoleSession } from '../../access/sessions.ts';
import { levelName, levelNumber, reachNames } from '../../../alerting/render.ts';
import { policyStep } from '../../incidents/events.ts';
import type { PolicyRow } from '../../oncall/model.ts';
import { policyAt } from '../../oncall/schedules.ts';
import { scheduleNames } from '../../oncall/store-schedules.ts';

/** A day of the range as its UTC instants, or why what was sent was left out (said, not a 400 page). */
type DayQuery = { text: string; start: Date; end: Date } | { problem: string } | undefined;

/*
 * Days whose start and end Postgres and postgres.js both carry: the API's Timestamp bounds are
 * 1970 to 9999, and the last day's end is a day later, so 9999-12-31 would end in year 10,000,
 * which Date writes with six digits and Postgres refuses.
 */
const FIRST_DAY = '1970-01-01';
const LAST_DAY = '9998-12-31';

/**
 * A date input's day (2026-11-21), as the UTC instants it starts and ends at; undefined for
 * nothing. A browser's date input sends only that form, but a typed or edited link may not.
 */
function dayOf(raw: string | undefined): DayQuery {
  if (!raw) return undefined;
  const start = new Date(`${raw}T00:00:00.000Z`);
  if (!/^\d{4}-\d\d-\d\d$/.test(raw) || Number.isNaN(start.getTime()) || day(start) !== raw) return { problem: `${raw} is not a day; pick one such as 2026-11-21.` };
  if (raw < FIRST_DAY || raw > LAST_DAY) return { problem: `days run from ${FIRST_DAY} to ${LAST_DAY}.` };
  return { text: raw, start, end: new Date(start.getTime() + 86_400_000) };
}

/** The range's days, each left out with a problem when it is not one, `to` also when before `from`. */
function rangeOf(rawFrom: string | undefined, rawTo: string | undefined) {
  const [from, to] = [dayOf(rawFrom), dayOf(rawTo)];
  const valid = (d: DayQuery) => (d && 'text' in d ? d : undefined);
  const problems = [from && 'problem' in from ? `Opened from: ${from.problem}` : undefined, to && 'problem' in to ? `to: ${to.problem}` : undefined];
  const [f, t] = [valid(from), valid(to)];
  if (f && t && t.start < f.start) return { from: f, to: undefined, problems: [...problems, `to: ${t.text} is before the first day; it was left out.`] };
  return { from: f, to: t, problems };
}

/** Why a day of the range was left out, above the list, as LabelProblem says it of the label. */
const DayProblems = (p: { problems: Array<string | undefined> }) => <>{p.problems.map((m) => (m ? <Notice kind="bad">{m}</Notice> : null))}</>;

/** How long after the opening a step came, for a review: "after 8 min", "after 1 h 12 min". */
const AfterOpening = (p: { incident: IncidentRow; at: Date; then?: string }) => (
  <span class="muted">
    , after {duration(p.at.getTime() - p.incident.opened_at.getTime())}
    {p.then ? `; ${p.then}` : ''}
  </span>
);

const PAGE_SIZE = 50;
/** An incident's page follows its node's reason too: its Why says what the node says now (reasonNow). */
const INCIDENT_ON: readonly EventType[] = ['incident.changed', 'node.reason_changed'];
const STATUSES: IncidentStatus[] = ['open', 'acknowledged', 'resolved'];
/** The node filter of a name no node has: an id none has either, so the list is empty, not everything. */
const NO_NODE = '00000000-0000-0000-0000-000000000000';

/**
 * The list's filters. By default what is not resolved, open and acknowledged alike (PagerDuty's and
 * Opsgenie's default view): under "open" alone, an incident acknowledged from the list vanished
 * while its node was still down. Its address has no `status`; any other value is read as it.
 */
type Filter = IncidentStatus | 'unresolved';
const FILTERS: Filter[] = ['unresolved', ...STATUSES];
const FILTER_LABEL: Record<Filter, string> = { unresolved: 'not resolved', open: 'open', acknowledged: 'acknowledged', resolved: 'resolved' };
const filterOf = (raw: string | undefined): Filter => ((STATUSES as string[]).includes(raw ?? '') ? (raw as IncidentStatus) : 'unresolved');
/** The filter as the list's address carries it: the default as none. */
const statusParam = (f: Filter): IncidentStatus | undefined => (f === 'unresolved' ? undefined : f);

/** What an action on an incident did, as its redirect says it (`?done=`). */
type Done = 'acknowledged' | 'resolved';
/**
 * `already`: acknowledged before this acknowledgement came (someone else, or the same form sent
 * twice). `noted`: a note was added to the timeline.
 */
type Saying = Done | 'already' | 'noted';
const SAYINGS: readonly Saying[] = ['acknowledged', 'resolved', 'already', 'noted'];

export function incidentRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();

  app.get('/incidents', ...guards.page, async (c) => {
    const filter = filterOf(c.req.query('status'));
    const status = statusParam(filter);
    // A node by id or name, as the API's `node_id` takes it (a deleted node's name too); a name no incident was opened under lists nothing.
    const nodeRef = c.req.query('node')?.trim() || undefined;
    const nodeId = nodeRef === undefined ? undefined : ((await incidentsNodeId(deps.sql, nodeRef)) ?? NO_NODE);
    const labels = readLabelFilters(c.req.queries('label'));
    // Opened from the start of one UTC day to the end of another, both included (date inputs).
    const { from, to, problems: dayProblems } = rangeOf(c.req.query('from'), c.req.query('to'));
    const on = { nodeId, labels: labels.labels, openedAfter: from?.start, openedBefore: to?.end };
    // What every link of the list keeps: its node, label and days as given.
    const keep = { node: nodeRef, label: labels.labelTexts, from: from?.text, to: to?.text };
    const after = readCursor(c.req.query('after'), isTimeCursor);
    const [frame, counts, fetched, refs, acked] = await Promise.all([
      chrome(c, deps),
      countIncidentsByStatus(deps.sql, on),
      listIncidents(deps.sql, { ...on, status: filter, after: after ? { openedAt: new Date(after[0]), id: after[1] } : undefined, limit: PAGE_SIZE + 1 }),
      nodeId ? findNodeRefs(deps.sql, [nodeId]) : [],
      acknowledgedFromList(deps, c.req.query('already') ?? c.req.query('acknowledged'), c.req.query('already') !== undefined),
    ]);
    const rows = fetched.slice(0, PAGE_SIZE);
    // The node's name now, not the one its incidents opened under (a rename since would mislead).
    // A name no node has is not repeated in the heading: anyone may send a link with words of their own there.
    const nodeName = nodeId === NO_NODE ? 'no such node' : (refs.find((r) => r.id === nodeId)?.name ?? rows[0]?.node_name);
    const last = rows.at(-1);
    const next = fetched.length > PAGE_SIZE && last ? href('/incidents', { status, ...keep, after: cursor([last.opened_at.toISOString(), last.id]) }) : undefined;
    const now = deps.clock.now();
    const facts = await incidentTableFacts(deps.sql, rows, now);
    const self = href('/incidents', { status, ...keep, after: c.req.query('after') });

    return html(
      c,
      <Page title="Incidents" chrome={frame} section="incidents" live={['incident.changed']}>
        <div class="page-head">
          <h1>Incidents{nodeRef && nodeName ? ` of ${nodeName}` : ''}</h1>
          <form class="filters" method="get" action="/incidents" role="search">
            {status ? <input type="hidden" name="status" value={status} /> : null}
            {nodeRef ? <input type="hidden" name="node" value={nodeRef} /> : null}
            <LabelField q={labels} />
            <div>
              <label for="from">Opened from</label>
              <input id="from" name="from" type="date" value={from?.text ?? ''} />
            </div>
            <div>
              <label for="to">to (UTC days)</label>
              <input id="to" name="to" type="date" value={to?.text ?? ''} />
            </div>
            <button type="submit">Filter</button>
          </form>
          {nodeRef ? <a href={href('/incidents', { status, label: keep.label, from: keep.from, to: keep.to })}>All nodes</a> : null}
        </div>
        <LabelProblem q={labels} />
        <DayProblems problems={dayProblems} />
        {acked}
        <BulkSaying acknowledged={c.req.query('bulk')} of={c.req.query('of')} />
        <Live id="incidents-live" url={self} on={['incident.changed']}>
          <ul class="chips" aria-label="Incidents by status">
            {FILTERS.map((f) => (
              <li>
                <a href={href('/incidents', { status: statusParam(f), ...keep })} aria-current={f === filter ? 'true' : undefined} class={f === 'open' && counts.open > 0 ? 'chip-alert' : undefined}>
                  <b>{(f === 'unresolved' ? counts.open + counts.acknowledged : counts[f]).toLocaleString('en-US')}</b> {FILTER_LABEL[f]}
                </a>
              </li>
            ))}
          </ul>
          {may(frame.session, 'write') ? <AckAllLink rows={rows} back={self} /> : null}
          <IncidentTable rows={rows} now={now} facts={facts} action={may(frame.session, 'write') ? (i) => (i.status === 'open' ? <AckButton incident={i} csrf={<Csrf session={frame.session} />} back={self} /> : null) : undefined} />
          <Pager next={next}>{after ? <a href={href('/incidents', { status, ...keep })}>Newest</a> : null}</Pager>
        </Live>
      </Page>,
    );
  });

  /**
   * "Acknowledge all N shown": the list's open incidents, by id, asked first (confirm.tsx), then
   * each acknowledged through acknowledgeEach, the API's `POST /v1/incidents/acknowledge`. By id,
   * not by the list's filter: an incident opened after the list was drawn was seen by nobody, and
   * acknowledging it would stop its pages unread. A list whose open incidents were all taken
   * meanwhile goes straight back, saying so.
   */
  app.get(
    '/incidents/acknowledge',
    ...guards.page,
    requireScope(deps, 'write'),
    asking(
      deps,
      async (c) => {
        const ids = idsOf(c.req.query('ids'));
        if (!ids) return undefined;
        const found = await getIncidents(deps.sql, ids);
        const open = ids.flatMap((id) => (found.get(id)?.status === 'open' ? [found.get(id)!] : []));
        return { ids, open, back: listWith(c.req.query('back'), {}) ?? '/incidents' };
      },
      async (c) => c.redirect('/incidents', 303),
      (ask, frame) => (
        <Confirm
          verb="Acknowledge"
          name={`${ask.open.length} open ${ask.open.length === 1 ? 'incident' : 'incidents'}`}
          back={ask.back}
          backLabel="Incidents"
          action="/incidents/acknowledge"
          fields={{ ids: ask.open.map((i) => i.id).join(','), back: ask.back }}
          keep="Not now"
          sendOnce
          chrome={frame}
          section="incidents"
        >
          Escalation stops for each of {ask.open.map((i) => i.title).join(', ')}; every channel and person paged for one is told it was acknowledged, as when
          it is acknowledged alone. Acts as your key, {frame.session.keyName}.
        </Confirm>
      ),
      (ask) => (ask.open.length ? undefined : (listWith(ask.back, { bulk: '0', of: String(ask.ids.length) }) ?? '/incidents')),
    ),
  );

  app.post('/incidents/acknowledge', ...guards.action, requireScope(deps, 'write'), confirmed(), async (c) => {
    const form = await c.req.parseBody();
    const back = typeof form.back === 'string' ? form.back : undefined;
    const ids = idsOf(form.ids);
    if (!ids) return c.redirect(listWith(back, {}) ?? '/incidents', 303);
    const outcome = await attempt(
      () => acknowledgeEach(deps.sql, ids, { by: actor(c.get('session')) }, deps.clock, acting(c)),
      // Only an incident gone since the list was drawn (its data removed) is refused.
      (r) => refusal(c, deps, 400, 'Nothing was acknowledged', r.message),
    );
    if (outcome instanceof Response) return outcome;
    const saying = { bulk: String(outcome.length), of: String(ids.length) };
    return c.redirect(listWith(back, saying) ?? href('/incidents', saying), 303);
  });

  app.get('/incidents/:id', ...guards.page, async (c) => {
    const incident = isUuid(c.req.param('id')) ? await getIncident(deps.sql, c.req.param('id')) : undefined;
    if (!incident) return refusal(c, deps, 404, 'No such incident', 'There is no incident with that id; it may have been removed with its data.');
    const done = SAYINGS.find((d) => d === c.req.query('done'));
    return incidentPage(c, deps, incident, done ? { done } : {});
  });

  /**
   * Acknowledge and resolve, as the API does them (src/incidents/service.ts), by the signed-in key,
   * on the incident whatever moved it since the page was drawn. The engine's own moves (an
   * escalation, a held step, a level that reached nobody) are no reason to refuse a person; what
   * a person did meanwhile is: resolved, the command refuses and the page says by whom; already
   * acknowledged (by someone else, or by this same form sent twice), the first acknowledgement is
   * kept and the page says whose it is.
   */
  const act = (command: (id: string, form: Record<string, string | File>, by: string, who: Acting) => Promise<boolean>, done: Done) =>
    async (c: ConsoleContext) => {
      const id = c.req.param('id') ?? '';
      const form = await c.req.parseBody();
      const note = noteOf(form);
      const by = actor(c.get('session'));
      const outcome = await attempt(
        () => command(id, form, by, acting(c)),
        async (r) => {
          const now = isUuid(id) ? await getIncident(deps.sql, id) : undefined;
          if (!now) return refusal(c, deps, 404, 'No such incident', 'There is no incident with that id; it may have been removed with its data.');
          // The note goes back into its field whatever the refusal, even on an incident resolved
          // meanwhile (the live page kept the form for it): a paragraph is not retyped.
          return incidentPage(c, deps, now, { refused: r, action: done, note, by, status: r.code === 'validation_failed' ? 400 : 409 });
        },
      );
      if (outcome instanceof Response) return outcome;
      // Back to the list as it was (its filter, its page), saying what was done (or that it was
      // done already) and to which incident.
      const back = listWith(typeof form.back === 'string' ? form.back : undefined, { [outcome ? done : 'already']: id });
      return c.redirect(back ?? `/incidents/${id}?done=${outcome ? done : 'already'}`, 303);
    };

  app.post(
    '/incidents/:id/acknowledge',
    ...guards.action,
    requireScope(deps, 'write'),
    act(async (id, _form, by, who) => (await acknowledgeOnce(deps.sql, id, { by }, deps.clock, who)).changed, 'acknowledged'),
  );
  app.post(
    '/incidents/:id/resolve',
    ...guards.action,
    requireScope(deps, 'write'),
    act(async (id, form, by, who) => {
      await resolve(deps.sql, id, { by, note: resolutionNote(noteOf(form)) }, deps.clock, who);
      return true;
    }, 'resolved'),
  );

  /**
   * A note for the timeline, as the API adds it (addNote), on an incident in any status: back to the
   * incident's page at its timeline, where the note now is. Refused (blank, too long), the page
   * says why beside the field, with the text kept in it.
   */
  app.post('/incidents/:id/notes', ...guards.action, requireScope(deps, 'write'), async (c) => {
    const id = c.req.param('id') ?? '';
    const form = await c.req.parseBody();
    const text = noteOf(form);
    const gone = () => refusal(c, deps, 404, 'No such incident', 'There is no incident with that id; it may have been removed with its data.');
    if (!isUuid(id)) return gone();
    // Once per form token, as a create form: unlike an acknowledge or resolve, a note sent twice
    // (a double submit without script, or sent again after 10 s without an answer) would be two
    // notes. Sent again, it lands where the first did: the note is in the timeline.
    const timeline = `/incidents/${id}?done=noted#timeline`;
    return createOnce(
      c,
      deps,
      form,
      () => addNote(deps.sql, id, { by: actor(c.get('session')), note: addedNote(text) }, deps.clock, acting(c)),
      async (r) => {
        const now = await getIncident(deps.sql, id);
        if (!now) return gone();
        return incidentPage(c, deps, now, { noteRefused: { text, problem: r.details?.find((d) => d.field === 'note')?.message ?? r.message }, status: r.code === 'conflict' ? 409 : 400 });
      },
      () => timeline,
      () => c.redirect(timeline, 303),
      () => timeline,
    );
  });

  return app;
}

/**
 * " 5 min ago · 10:04 UTC by alice": when and by whom an incident was resolved or acknowledged, as
 * its notices say it. The day is said when it is not today's, lest "10:04 UTC" read as this morning.
 */
const WhenBy = (p: { at: Date | null; by: string | null; names: Map<string, string>; now: Date }) => (
  <>
    {p.at ? (
      <>
        {' '}
        <Ago at={p.at} now={p.now} />
      </>
    ) : null}
    {p.by ? (
      <>
        {' '}
        by <Actor by={p.by} names={p.names} />
      </>
    ) : null}
  </>
);

/** Why an action on an incident was not carried out, in the page's own words. */
function RefusalNotice(p: { refusal: Refusal; action: Done | undefined; note: string; ownEarlier: boolean; incident: IncidentRow; names: Map<string, string>; now: Date }) {
  const r = p.refusal;
  if (p.ownEarlier) {
    return (
      <Notice kind="ok">
        <p>
          <b>
            Resolved
            <WhenBy at={p.incident.resolved_at} by={p.incident.resolved_by} names={p.names} now={p.now} />
          </b>{' '}
          by your earlier sending of this form, with your note.
        </p>
      </Notice>
    );
  }
  if (r.code === 'conflict') {
    // Resolved meanwhile: by whom and when, and that this action had nothing left to do.
    return (
      <Notice kind="bad">
        <p>
          <b>
            Already resolved
            <WhenBy at={p.incident.resolved_at} by={p.incident.resolved_by} names={p.names} now={p.now} />
          </b>
          {p.note.trim() !== '' ? '; your note was not saved. It is kept below: Add note puts it in the timeline.' : p.action === 'acknowledged' ? ': nothing to acknowledge.' : ': nothing was done.'}
        </p>
      </Notice>
    );
  }
  const tooLong = r.details?.find((d) => d.field === 'note');
  if (tooLong) {
    return (
      <Notice kind="bad">
        <p>
          <b>Not resolved</b>: the resolution note {tooLong.message} and has {p.note.length.toLocaleString('en-US')}. Your text is kept below;
          shorten it and resolve again.
        </p>
      </Notice>
    );
  }
  return (
    <Notice kind="bad">
      <p>{r.message}</p>
      {r.details?.length ? (
        <ul>
          {r.details.map((d) => (
            <li>
              {d.field}: {d.message}
            </li>
          ))}
        </ul>
      ) : null}
    </Notice>
  );
}

/**
 * The incident list `back` names (its filter and page), with `name=value` set in its query;
 * undefined for any other path, since only the list sends `back`, and for anything sitePath
 * refuses (another host, or an address hiding one).
 */
const listWith = (back: string | undefined, params: Record<string, string>): string | undefined => {
  const url = sitePath(back);
  if (url?.pathname !== '/incidents') return undefined;
  // One saying at a time: a `back` carrying another would say both.
  for (const saying of SAYING_PARAMS) url.searchParams.delete(saying);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.pathname + url.search;
};

/** What the list's redirects say with: one acknowledged, one acknowledged already, several. */
const SAYING_PARAMS = ['acknowledged', 'already', 'bulk', 'of'];

/**
 * What the list says after Acknowledge in one of its rows sent it back (`?acknowledged=<id>`, or
 * `?already=<id>` when someone, or the same form sent twice, had acknowledged it first). The
 * default list keeps the row, marked acknowledged; under "open" it has left the list; either way
 * the saying names the node and the incident and links to it. Only while the incident stands
 * acknowledged, with who did it and when: the address can be kept, reloaded after a resolve or
 * typed with any id, and "escalation stops" over an incident that is open and paging, or resolved
 * since, would say what is not so.
 */
async function acknowledgedFromList(deps: AppDeps, id: string | undefined, already: boolean) {
  const incident = id !== undefined && isUuid(id) ? await getIncident(deps.sql, id) : undefined;
  if (incident?.status !== 'acknowledged') return null;
  // The node's name now, as everywhere in the console: node_name is the one it had at opening.
  const [refs, names] = await Promise.all([findNodeRefs(deps.sql, [incident.node_id]), actorNames(deps.sql, [incident.acknowledged_by])]);
  const nodeName = refs.find((r) => r.id === incident.node_id)?.name ?? incident.node_name;
  const now = deps.clock.now();
  const at = incident.acknowledged_at;
  // One sentence per fact: the incident with when it opened, then the acknowledgement with who and
  // when. "web-1's incident web-1 is down 0 s ago" read as if the node went down 0 s ago. Under a
  // minute is "just now": a redirect's page is read within seconds of the click. The title names
  // the node as it was at opening (node_name), so a node renamed since is named after it: testing
  // whether the title contains the name missed "web-10" renamed to "web-1".
  return (
    <Notice kind="ok">
      <p>
        {already ? 'Already acknowledged' : 'Acknowledged'}: <a href={`/incidents/${incident.id}`}>{incident.title}</a>
        {nodeName === incident.node_name ? null : ` on ${nodeName}`} (incident opened{' '}
        <time datetime={incident.opened_at.toISOString()} title={utc(incident.opened_at)}>
          {atOn(incident.opened_at, now)}
        </time>
        ). Escalation stopped{incident.acknowledged_by ? <> — by <Actor by={incident.acknowledged_by} names={names} /></> : null}
        {at ? (
          <>
            ,{' '}
            <time datetime={at.toISOString()} title={utc(at)}>
              {now.getTime() - at.getTime() < 60_000 ? 'just now' : agoAndAt(at, now)}
            </time>
          </>
        ) : null}
        .
      </p>
    </Notice>
  );
}

/** The ids an "Acknowledge all" names (`a,b,c`): none, one twice or over the API's limit is no list. */
function idsOf(raw: unknown): string[] | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  const ids = raw.split(',');
  return ids.length <= ACKNOWLEDGE_MAX && ids.every(isUuid) && new Set(ids).size === ids.length ? ids : undefined;
}

/**
 * "Acknowledge all N shown": the open, unacknowledged incidents on this page of the list, asked
 * first. From two on: one has its own Acknowledge in its row, and "all 1" says nothing more.
 */
function AckAllLink(p: { rows: IncidentRow[]; back: string }) {
  const open = p.rows.filter((r) => r.status === 'open');
  if (open.length < 2) return null;
  return (
    <div class="actions">
      <a class="button" id="ack-all" href={href('/incidents/acknowledge', { ids: open.map((r) => r.id).join(','), back: p.back })}>
        Acknowledge all {open.length} open shown…
      </a>
    </div>
  );
}

/**
 * What "Acknowledge all" did (`?bulk=<acknowledged>&of=<asked>`): how many it acknowledged of
 * those asked, and that the rest had been acknowledged or resolved meanwhile (the first is kept).
 */
function BulkSaying(p: { acknowledged: string | undefined; of: string | undefined }) {
  const n = Number(p.acknowledged);
  const of = Number(p.of);
  if (!Number.isInteger(n) || !Number.isInteger(of) || n < 0 || of < 1 || n > of || p.acknowledged === '' || p.of === '') return null;
  const incidents = (k: number) => `${k} ${k === 1 ? 'incident' : 'incidents'}`;
  const rest = of - n;
  return (
    <Notice kind="ok" focus>
      <p>
        {n === 0 ? `Nothing was acknowledged: the ${incidents(of)}` : `Acknowledged ${incidents(n)}: escalation stops for each.`}
        {rest === 0 ? null : n === 0 ? ' had been acknowledged or resolved meanwhile.' : ` The other ${rest} had been acknowledged or resolved meanwhile.`}
      </p>
    </Notice>
  );
}

/** Acknowledge from a list, coming back to the list. */
function AckButton(p: { incident: IncidentRow; csrf: Child; back: string }) {
  return (
    <form method="post" action={`/incidents/${p.incident.id}/acknowledge`} class="inline" data-once="">
      {p.csrf}
      <input type="hidden" name="back" value={p.back} />
      <button type="submit" class="small" id={`ack-${p.incident.id}`}>
        {/* One of many in the list: a screen reader's list of buttons says which incident each takes. */}
        Acknowledge<span class="visually-hidden"> {p.incident.title}</span>
      </button>
    </form>
  );
}

/**
 * What resolving set off, from the ledger: the resolve goes to each destination a page of the
 * incident was written for (toldRecipients), including those whose page failed; it is queued, not
 * yet sent, when this is read. A destination failed when a page to it died and none was sent; one
 * whose pages died only for want of SMTP_URL was never tried, and is said apart, in the ledger's
 * words (unsentWithoutEmail).
 */
export function resolvedSaying(ledger: DeliveryRow[]): string {
  const pages = ledger.filter((d) => isPageEvent(d.event));
  const to = (d: DeliveryRow) => d.channel_id ?? d.user_id;
  const destinations = new Set(pages.map(to));
  if (destinations.size === 0) return 'Resolved. Nobody was paged for it, so nobody is sent a resolve.';
  // A destination whose first page died but whose escalation page was sent did hear of it.
  const heard = new Set(pages.filter((d) => d.status === 'sent').map(to));
  const unheard = pages.filter((d) => d.status === 'dead' && !heard.has(to(d)));
  const failed = new Set(unheard.filter((d) => !unsentWithoutEmail(d.last_error)).map(to));
  const unsent = new Set(unheard.map(to).filter((id) => !failed.has(id)));
  const queued = `Resolved. A resolve is queued for each of the ${destinations.size} ${destinations.size === 1 ? 'destination' : 'destinations'} it paged; “Who was told” below shows each as it goes.`;
  return [
    queued,
    ...(failed.size ? [`The page to ${failed.size} of them failed, so they may never have heard of it.`] : []),
    ...(unsent.size ? [`Not sent to ${unsent.size} of them: ${NOT_SET_UP}.`] : []),
  ].join(' ');
}

/**
 * The latest timeline entries an incident's page shows. An incident takes up to 1,000 notes
 * (NOTES_MAX) besides its pages and deliveries, and the page is re-rendered on every change the
 * live feed announces: 500 lines is past what anyone scrolls, and keeps a full timeline's page
 * under about 1 MB.
 */
const TIMELINE_SHOWN = 500;

/** The level an open incident's next step pages, when, and whom then (policyAt), in its email's words (reachNames). */
interface NextLevel {
  level: number;
  at: Date;
  /** Whom it pages; undefined when it names nobody (its schedules have nobody on call). */
  names: string | undefined;
  /** Whether it reaches anyone (policyAt's reaches_anyone): the engine fires the step after one that does not at once. */
  reaches: boolean;
  /** Whether a step follows it, for one that reaches nobody to hand on to. */
  more: boolean;
}

/**
 * The policy the incident escalates by, by the engine's own rule (policiesEscalating: its own, or
 * once that was deleted its node's, else the default; undefined without any) and, while it is
 * open, its next step (policyStep): undefined past the policy's end.
 */
async function escalationAhead(deps: AppDeps, incident: IncidentRow, now: Date): Promise<{ policy?: PolicyRow; next?: NextLevel }> {
  const policy = incident.policy_id === null ? undefined : (await policiesEscalating(deps.sql, [incident])).get(incident.id);
  const step = policy && incident.status === 'open' ? policyStep(incident, policy, incident.escalation_step + 1) : undefined;
  if (!policy || !step) return policy ? { policy } : {};
  // Whom it pages when it fires; a step overdue (held, or its timer not yet run) fires from now on.
  const level = (await policyAt(deps.sql, policy, step.dueAt > now ? step.dueAt : now, deps.transports?.email.configured))[step.level]!;
  const schedules = await scheduleNames(deps.sql, [...new Set(level.users.flatMap((u) => u.schedule_id ?? []))]);
  const names = reachNames({ people: shownPeople(level.users, schedules, 'a deleted person'), channels: level.channel_ids.length });
  return { policy, next: { level: step.level, at: step.dueAt, names, reaches: level.reaches_anyone, more: policyStep(incident, policy, step.step + 1) !== undefined } };
}

/**
 * "1 of 2 — next: level 2 (Ben Li, Nia (on call in Nights) and 1 channel) at 10:12 UTC, in 8 min",
 * counted as its email counts levels (levelNumber); "— last level" when none follows. A step the
 * notifier has not yet fired is "due since 09:55 UTC (5 min ago)", not a next page in the past; one
 * that would reach nobody says so, as the policy page does. Only an open incident has a next level:
 * acknowledging stops escalation. An incident whose policy was deleted goes on by the one the
 * engine takes in its place, named. It said "1", not of how many, nor when the next page goes or
 * to whom.
 */
function EscalationLevel(p: { incident: IncidentRow; policy?: PolicyRow | undefined; next?: NextLevel | undefined; now: Date }) {
  const number = levelNumber(p.incident.escalation_level, p.policy?.levels.length);
  if (p.incident.status !== 'open') return <>{number}</>;
  if (!p.policy) return <>{number} — its policy was deleted, and neither its node nor a default policy has one to go on by: escalation stops at its next step</>;
  const replaced =
    p.policy.id === p.incident.policy_id ? null : (
      <span class="sub">
        its policy was deleted: it goes on by <a href={`/policies/${p.policy.id}`}>{p.policy.name}</a>, as its node's next incident would
      </span>
    );
  const { next } = p;
  if (!next) return <>{number} — last level{replaced}</>;
  const fromNow = p.incident.escalation_held || next.at <= p.now;
  return (
    <>
      {number} — next: {levelName(next.level, undefined)}
      {next.names === undefined ? null : ` (${next.names})`}
      {p.incident.escalation_held ? (
        ', held while its node is in maintenance'
      ) : next.at <= p.now ? (
        <>
          {' '}
          due since <AtOn at={next.at} now={p.now} /> ({ago(next.at, p.now)})
        </>
      ) : (
        <>
          {' '}
          at <AtOn at={next.at} now={p.now} />, {ago(next.at, p.now)}
        </>
      )}
      {next.reaches ? null : (
        <>
          {' '}
          <ReachesNobody when={fromNow ? 'now' : 'then'} ends={!next.more} />
        </>
      )}
      {replaced}
    </>
  );
}

/** An incident with its timeline and ledger; `done` or `refused` says what just happened (or why not). */
async function incidentPage(
  c: ConsoleContext,
  deps: AppDeps,
  incident: IncidentRow,
  o: {
    done?: Saying;
    refused?: Refusal;
    action?: Done;
    note?: string;
    by?: string;
    /** A note the Add a note form sent that was refused: its text, kept in the field, and why. */
    noteRefused?: { text: string; problem: string };
    status?: ContentfulStatusCode;
  } = {},
) {
  const now = deps.clock.now();
  const [frame, timelines, ledger, node, maintenance, nobody, escalation] = await Promise.all([
    chrome(c, deps),
    timelinesOf(deps.sql, [incident.id]),
    listDeliveries(deps.sql, incident.id),
    nodeById(deps.sql, incident.node_id),
    maintenanceOf(deps.sql, [incident], now),
    pagedNobody(deps.sql, incident.status === 'open' ? [incident.id] : []),
    escalationAhead(deps, incident, now),
  ]);
  // The node's name now: node_name is the one it had at opening, and a renamed node's old name
  // leads nowhere, or to another node that took it up. Undefined once the node is deleted.
  const nodeName = node?.name;
  // Still in the state it opened for: resolving it by hand does not stop that, so say what will follow.
  const still = stillFailing(incident, node?.state);
  const timeline = timelines.get(incident.id) ?? [];
  // What the node says now while it still fails, as a page sent now would (reasonNow).
  const why = reasonNow(incident, node, lastReasonOf(timeline));
  const who = await namesFor(deps.sql, incident, timeline, ledger);
  const names = who.keys;
  // Resolved by this same key with this same note: this form's own earlier sending (given back
  // after 10 s without an answer, then sent again) did it, and the note was saved with it.
  const savedNote = timeline.find((e) => e.kind === 'resolved')?.detail.note;
  // The first acknowledgement is the one a review times, as the summary's time to acknowledge does:
  // after one expired, acknowledged_at is cleared (a resolve then leaves none) or, acknowledged
  // again, is the latest, which the page said alone ("after 20 min" where the summary counted 3).
  const firstAck = timeline.find((e) => e.kind === 'acknowledged');
  const ackedAgain = firstAck && incident.acknowledged_at && incident.acknowledged_at.getTime() !== firstAck.at.getTime() ? { first: firstAck, at: incident.acknowledged_at } : undefined;
  const ackExpired = timeline.some((e) => e.kind === 'acknowledgement_expired') ? 'the acknowledgement expired' : undefined;
  const ownEarlier = o.refused?.code === 'conflict' && !!o.note?.trim() && o.by !== undefined && incident.resolved_by === o.by && savedNote === o.note;
  const notice =
    o.done === 'already' ? (
      incident.status === 'acknowledged' ? (
        <Notice kind="ok">
          <p>
            <b>
              Already acknowledged
              <WhenBy at={incident.acknowledged_at} by={incident.acknowledged_by} names={names} now={now} />
            </b>
            : nothing was changed.
          </p>
        </Notice>
      ) : null
    ) : o.done === 'noted' ? (
      <Notice kind="ok">
        <p>Note added to the timeline. Nobody was paged for it.</p>
      </Notice>
    ) : o.done ? (
      <Notice kind="ok">
        <p>{o.done === 'acknowledged' ? 'Acknowledged: escalation stops.' : resolvedSaying(ledger)}</p>
      </Notice>
    ) : o.noteRefused ? (
      <Notice kind="bad">
        <p>
          <b>Note not added</b>: it {o.noteRefused.problem}. Your text is kept below.
        </p>
      </Notice>
    ) : o.refused ? (
      <RefusalNotice
        refusal={o.refused}
        action={o.action}
        note={o.note ?? ''}
        ownEarlier={ownEarlier}
        incident={incident}
        names={names}
        now={now}
      />
    ) : null;
  // A note typed for an incident resolved meanwhile: no Resolve takes it any more (it could only be
  // refused again), so it waits in Add a note, which puts it in the timeline all the same.
  const keptNote = incident.status === 'resolved' && o.note?.trim() && !ownEarlier ? o.note : undefined;
  const self = `/incidents/${incident.id}`;
  return html(
    c,
    <Page title={incident.title} chrome={frame} section="incidents" live={INCIDENT_ON}>
      <Back href="/incidents">Incidents</Back>
      {notice}
      {/* What is down, since when, why and how far it escalated come first, with Acknowledge: on a
          phone they are the first screen. Resolving, with its note and caveat, follows. */}
      <Live id="incident-live" url={self} on={INCIDENT_ON}>
        <div class="page-head">
          <h1>{incident.title}</h1>
          <div class="actions">
            <StatusTag status={incident.status} />
            <SeverityTag severity={incident.severity} />
          </div>
        </div>
        <PagedNobodyNotice incident={incident} pagedNobody={nobody} />
        <div class="panel">
          <dl class="facts facts-pairs">
            <dt>Node</dt>
            <dd>
              {nodeName ? (
                <>
                  <a href={`/nodes/${incident.node_id}`}>{nodeName}</a>
                  {nodeName === incident.node_name ? null : <span class="muted"> (was {incident.node_name})</span>}{' '}
                  <StateBadge state={node!.state} />
                </>
              ) : (
                <>
                  {incident.node_name} <span class="muted">(deleted)</span>
                </>
              )}
            </dd>
            {/* "Down since" while it lasts; once resolved, when it opened. */}
            <dt>{incident.status === 'resolved' ? 'Opened' : `${capitalized(CATEGORIES[incident.category].word)} since`}</dt>
            <dd>
              <Ago at={incident.opened_at} now={now} seconds />
            </dd>
            {node ? (
              <>
                <dt>{node.schedule ? 'Last ping' : 'Last heartbeat'}</dt>
                <dd>
                  <Ago at={node.last_heartbeat_at} now={now} seconds />
                  {node.last_status ? ` · ${node.last_status}` : ''}
                </dd>
              </>
            ) : null}
            <dt>Why</dt>
            <dd id="why">
              {why ?? '—'}
              {why !== incident.reason && incident.reason !== null ? <span class="muted"> (opened for: {incident.reason})</span> : null}
            </dd>
            {maintenance.size > 0 ? (
              <>
                <dt>Maintenance</dt>
                <dd>
                  <UnderMaintenance incident={incident} maintenance={maintenance} />
                </dd>
              </>
            ) : null}
            <dt>Escalation level</dt>
            <dd>{incident.policy_id ? <EscalationLevel incident={incident} {...escalation} now={now} /> : 'none: no escalation policy'}</dd>
            <dt>Paged</dt>
            <dd id="paged">
              <PagedNow incident={incident} ledger={ledger} timeline={timeline} names={who} pagedNobody={nobody.has(incident.id)} now={now} />
            </dd>
            <dt>Acknowledged</dt>
            <dd {...sayAttrs({ key: 'acknowledged', state: incident.acknowledged_by ?? '', say: incident.acknowledged_by ? `Acknowledged by ${actorText(incident.acknowledged_by, names)}` : '' })}>
              {ackedAgain ? (
                <>
                  First <At at={ackedAgain.first.at} /> by <Actor by={String(ackedAgain.first.detail.by)} names={names} />
                  <AfterOpening incident={incident} at={ackedAgain.first.at} then={ackExpired} />; acknowledged again <At at={ackedAgain.at} /> by{' '}
                  <Actor by={incident.acknowledged_by} names={names} />
                  <AfterOpening incident={incident} at={ackedAgain.at} />
                </>
              ) : incident.acknowledged_at ? (
                <>
                  <At at={incident.acknowledged_at} /> by <Actor by={incident.acknowledged_by} names={names} />
                  <AfterOpening incident={incident} at={incident.acknowledged_at} />
                </>
              ) : incident.resolved_at && firstAck ? (
                <>
                  <At at={firstAck.at} /> by <Actor by={String(firstAck.detail.by)} names={names} />
                  <AfterOpening incident={incident} at={firstAck.at} then={ackExpired} />
                </>
              ) : (
                <span class="muted">not yet</span>
              )}
            </dd>
            {incident.resolved_at ? (
              <>
                <dt>Resolved</dt>
                {/* The sentence resolved-meanwhile.ts puts where the Resolve form was, when this re-read shows it resolved. */}
                <dd {...{ [RESOLVED_SAID]: `Resolved${incident.resolved_by ? ` by ${actorText(incident.resolved_by, names)}` : ''} at ${atOn(incident.resolved_at, now)}` }}>
                  <At at={incident.resolved_at} /> by <Actor by={incident.resolved_by} names={names} />
                  <AfterOpening incident={incident} at={incident.resolved_at} />
                </dd>
              </>
            ) : null}
          </dl>
          <IncidentActions incident={incident} session={frame.session} />
        </div>
        {still ? (
          <Notice>
            <p>{stillFailingWarning(nodeName ?? incident.node_name, still)}</p>
          </Notice>
        ) : null}
      </Live>
      {may(frame.session, 'write') && incident.status !== 'resolved' ? (
        // Outside the live regions, so a refresh never wipes a note being typed.
        <form method="post" action={`/incidents/${incident.id}/resolve`} id="resolve-form" class="panel" data-once="">
          <Csrf session={frame.session} />
          <div class="field">
            <label for="note">Resolution note (optional)</label>
            <textarea id="note" name="note" maxlength={NOTE_MAX_CHARS}>
              {areaText(o.note ?? '')}
            </textarea>
          </div>
          <div class="actions">
            <button type="submit" id="resolve">
              Resolve
            </button>
            <span class="muted">Acts as your key, {frame.session.keyName}.</span>
          </div>
          <script src={RESOLVED_MEANWHILE_SCRIPT_PATH} defer></script>
        </form>
      ) : null}
      {may(frame.session, 'write') && incident.status !== 'resolved' && nodeName ? (
        <div class="actions">
          <MaintenanceLink node={nodeName} />
        </div>
      ) : null}
      {may(frame.session, 'write') ? (
        // Outside the live regions, as Resolve's: a refresh never wipes a note being typed.
        <form method="post" action={`/incidents/${incident.id}/notes`} id="note-form" class="panel" data-once="">
          <Csrf session={frame.session} />
          <Once />
          <Field id="add-note" label="Add a note" hint="For the record, in the timeline below (“restarting db-3”, a vendor's ticket). Nobody is paged." problem={o.noteRefused?.problem} focus={o.noteRefused !== undefined}>
            <textarea id="add-note" name="note" required maxlength={NOTE_MAX_CHARS}>
              {areaText(o.noteRefused?.text ?? keptNote ?? '')}
            </textarea>
          </Field>
          <div class="actions">
            <button type="submit" id="add-note-send">
              Add note
            </button>
          </div>
        </form>
      ) : null}
      <Live id="incident-history" url={self} on={['incident.changed']}>
        <h2 id="timeline">Timeline</h2>
        {timeline.length > TIMELINE_SHOWN ? (
          <p class="muted" id="timeline-earlier">
            {(timeline.length - TIMELINE_SHOWN).toLocaleString('en-US')} earlier entries are not shown; the API's <code>GET /v1/incidents/{incident.id}</code> lists them all.
          </p>
        ) : null}
        <Timeline entries={timeline.slice(-TIMELINE_SHOWN)} names={who} />
        <h2>Who was told</h2>
        <Ledger rows={ledger} names={who} />
      </Live>
    </Page>,
    o.status,
  );
}

/**
 * Acknowledge, beside the facts, for keys that may act; for a read key, a line saying why there
 * are none. Inside the live region: the button follows the incident as it changes. It is sent
 * once (send-once.ts): a second tap while the first is on its way does nothing.
 */
function IncidentActions(p: { incident: IncidentRow; session: ConsoleSession }) {
  if (p.incident.status === 'resolved') return null;
  if (!may(p.session, 'write')) return <p class="muted">Signed in with a read key: you can look, not act.</p>;
  if (p.incident.status !== 'open') return null;
  return (
    <form method="post" action={`/incidents/${p.incident.id}/acknowledge`} class="actions ack" data-once="">
      <Csrf session={p.session} />
      <button type="submit" class="primary" id="acknowledge">
        Acknowledge
      </button>
      <span class="muted">Acts as your key, {p.session.keyName}.</span>
    </form>
  );
}
