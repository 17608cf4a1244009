import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConsoleSession } from '../../access/sessions.ts';
import { isUuid } from '../../db/ids.ts';
import type { ErrorDetail } from '../../errors.ts';
import type { AppDeps } from '../../http/deps.ts';
import { CreateOverride, CreateSchedule, PatchSchedule, SCHEDULE_LIMITS } from '../../http/routes/schedules.ts';
import { isNameCursor, keepingZone, parse } from '../../http/validation.ts';
import type { ScheduleRow, UserRow } from '../../oncall/model.ts';
import { onCallAt, WEEKDAYS, type Layer, type Shift } from '../../oncall/schedule.ts';
import { addOverride, createSchedule, deleteSchedule, removeOverride, schedulesAt, shiftsOf, updateSchedule } from '../../oncall/schedules.ts';
import { getOverride, getSchedule, listOverrides, listSchedules } from '../../oncall/store-schedules.ts';
import { listUsers, userNames } from '../../oncall/store-users.ts';
import { acting, attempt, Field, formRefusal, may, requireScope } from '../acting.tsx';
import { ALREADY, Back, sayingOf, Outcome, Pager, Table } from '../components.tsx';
import { chrome, cursor, href, readCursor } from '../context.ts';
import { every, hhmm, localInput, zoned } from '../format.ts';
import { all, placeProblems, problemAt, readZonedTime, text, type Form, type Placed } from '../forms.ts';
import { refusedDelete, refusedSave, sentVersions, Version, versionField, versionOf } from '../version.tsx';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { Csrf, Page, type Chrome } from '../layout.tsx';
import { askAgain, asking, AskFirst, Confirm, confirmed } from '../confirm.tsx';
import { createOnce, Once } from '../once.tsx';
import { html, refusal } from '../render.tsx';
import { localMidnight, PALETTE_SIZE, ShiftTimeline, timelineRange, type Person } from '../shift-timeline.tsx';
import { ZoneInput, ZoneNow, zoneOrFallback } from '../zones.tsx';
import { refusedDeletion } from '../refused-deletion.tsx';

// On-call schedules: who is on call, the next 14 days of it, and the overrides. Every write is a
// command of src/oncall/schedules.ts, its input checked by the API's own schemas; who is on call
// when is the schedule room's pure answer (shifts, onCallAt), only drawn here.
//
// Times on these pages are the schedule's zone's, as its layers' starts, hand-offs and
// restrictions are (a layer starting "Monday 09:00" is typed as 09:00 whatever the zone); a
// person whose own zone differs sees their clock beside it.

const PAGE_SIZE = 50;
/** What a malformed override id is looked up as: no override has it, so it is "not found". */
const NO_ID = '00000000-0000-0000-0000-000000000000';
const TIMELINE_DAYS = 14;
const { layers: MAX_LAYERS, usersPerLayer: MAX_SLOTS, restrictionsPerLayer: MAX_RESTRICTIONS } = SCHEDULE_LIMITS;
/** Everyone a layer or an override can name is picked from a list; a team, not a company. */
const PEOPLE_LISTED = 500;
const OVERRIDES_LISTED = 50;
const ROTATIONS = ['P1W', 'P2W', 'P1D', 'PT12H', 'PT8H', 'P1M'];
/** The override form's fields: the API's name, the input's id, its label. */
const OVERRIDE_FIELDS = [
  ['user_id', 'override_user', 'Who'],
  ['starts_at', 'override_from', 'From'],
  ['ends_at', 'override_until', 'Until'],
] as const;
const OVERRIDE_LABELS: Record<string, string> = Object.fromEntries(OVERRIDE_FIELDS.map(([field, , label]) => [field, label]));
const OVERRIDE_IDS = OVERRIDE_FIELDS.map(([, id]) => id);
const overrideSpot = (path: string) => {
  const f = OVERRIDE_FIELDS.find(([field]) => path === field || path.startsWith(`${field}.`));
  return f && { id: f[1], label: f[2] };
};
const DAY_NAMES: Record<(typeof WEEKDAYS)[number], string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

type People = Map<string, UserRow>;

/** "every week, from 2026-12-07 09:00; Mon–Fri 09:00–17:00" */
function LayerText(p: { layer: Layer; zone: string; people: People; names: Map<string, string> }) {
  const l = p.layer;
  return (
    <span>
      <b>{l.name}</b>: {l.user_ids.map((id) => p.people.get(id)?.name ?? p.names.get(id) ?? 'a deleted user').join(' → ')}
      <span class="sub">
        hands over {every(l.rotation)} from {zoned(l.starts_at, p.zone)}
        {(l.restrictions ?? []).map((r) => `; ${r.days.map((d) => DAY_NAMES[d]).join(' ')} ${r.from}–${r.to}`).join('')}
      </span>
    </span>
  );
}

/** Form rows for one layer: what it has plus one, within the API's limits. */
const slotsOf = (l?: Layer) => Math.min(MAX_SLOTS, Math.max(3, (l?.user_ids.length ?? 0) + 2));
const restrictionRowsOf = (l?: Layer) => Math.min(MAX_RESTRICTIONS, (l?.restrictions?.length ?? 0) + 1);

/** Which form row each layer (and each restriction of it) a submission holds came from. */
type RowMap = Array<{ row: number; restrictions: number[] }>;

/**
 * The schedule a form describes, as a request body would carry it: a layer row with no person and
 * no name is left out, a restriction with no day and no time too; a restriction with days only
 * covers them whole (from = to: 24 hours). Layer starts are read on the schedule zone's clock.
 */
function scheduleOf(form: Form): { body: { name: string; time_zone: string; layers: unknown[] }; rows: RowMap } {
  const zone = text(form, 'time_zone')?.trim() ?? '';
  const rows: RowMap = [];
  const layers = Array.from({ length: MAX_LAYERS }, (_, i) => i).flatMap((i) => {
    const user_ids = all(form, `l${i}_users`).filter((id) => id !== '');
    const name = text(form, `l${i}_name`)?.trim();
    if (user_ids.length === 0 && name === undefined) return [];
    const kept: number[] = [];
    const restrictions = Array.from({ length: MAX_RESTRICTIONS }, (_, j) => j).flatMap((j) => {
      const days = all(form, `l${i}_r${j}_days`);
      const from = text(form, `l${i}_r${j}_from`)?.trim();
      const to = text(form, `l${i}_r${j}_to`)?.trim();
      if (days.length === 0 && from === undefined && to === undefined) return [];
      kept.push(j);
      return [{ days, from: from ?? '00:00', to: to ?? from ?? '00:00' }];
    });
    rows.push({ row: i, restrictions: kept });
    return [
      {
        name: name ?? `Layer ${i + 1}`,
        user_ids,
        starts_at: readZonedTime(form, `l${i}_start`, zone) ?? '',
        rotation: text(form, `l${i}_rotation`)?.trim() ?? '',
        ...(restrictions.length ? { restrictions } : {}),
      },
    ];
  });
  return { body: { name: text(form, 'name') ?? '', time_zone: zone, layers }, rows };
}

/** Problems named by the layer and restriction the request held, renamed to the form rows they came from. */
function toRows(details: ErrorDetail[], rows: RowMap): ErrorDetail[] {
  return details.map((d) => {
    const m = /^layers\.(\d+)(?:\.restrictions\.(\d+))?(.*)$/.exec(d.field);
    const layer = m ? rows[Number(m[1])] : undefined;
    if (!m || !layer) return d;
    const restriction = m[2] === undefined ? '' : `.restrictions.${layer.restrictions[Number(m[2])] ?? m[2]}`;
    return { ...d, field: `layers.${layer.row}${restriction}${m[3]}` };
  });
}

/**
 * "Layer 1: pick at least one person", beside that layer's people, for both ways the API says it:
 * `layers.N.user_ids` for a named layer with nobody, and `layers` holding no layer at all, since a
 * row with no person and no name is left out (Layer 1 filled but for its people sends none).
 */
function nobodyPicked(details: ErrorDetail[], body: { layers: unknown[] }, form: Form): ErrorDetail[] {
  const say = (row: number) => ({ field: `layers.${row}.user_ids`, message: `Layer ${row + 1}: pick at least one person` });
  return details.map((d) => {
    if (d.field === 'layers' && body.layers.length === 0) return say(0);
    const row = /^layers\.(\d+)\.user_ids$/.exec(d.field)?.[1];
    return row !== undefined && all(form, `l${row}_users`).every((id) => id === '') ? say(Number(row)) : d;
  });
}

/** Where the form shows a problem of a schedule's fields, the layers' by their row (toRows). */
const LAYER_FIELDS: Record<string, [suffix: string, label: string]> = { name: ['name', 'Layer name'], rotation: ['rotation', 'Hands over every'], starts_at: ['start', 'From'], user_ids: ['users', 'People, in turn'] };
const scheduleSpot = (field: string) => {
  if (field === 'name' || field === 'time_zone') return { id: field, label: field === 'name' ? 'Name' : 'Time zone' };
  const m = /^layers\.(\d+)\.(\w+)$/.exec(field);
  const spot = m ? LAYER_FIELDS[m[2]!] : undefined;
  return m && spot ? { id: `l${m[1]}_${spot[0]}`, label: `Layer ${Number(m[1]) + 1}, ${spot[1].toLowerCase()}` } : undefined;
};
const SCHEDULE_ORDER = ['name', 'time_zone', ...Array.from({ length: MAX_LAYERS }, (_, i) => Object.values(LAYER_FIELDS).map(([suffix]) => `l${i}_${suffix}`)).flat()];

/**
 * A refused schedule's first field, which has the focus and the summary's link. The problems no
 * field holds (a window's, the layers' as a whole) are said where they are, by their window.
 */
function scheduleFocus(details: ErrorDetail[] | undefined): Placed | undefined {
  if (!details) return undefined;
  const { at, first } = placeProblems(details, scheduleSpot, SCHEDULE_ORDER);
  return first ? { at, first, rest: [] } : undefined;
}

function LayerFields(p: { i: number; layer?: Layer | undefined; zone: string; users: UserRow[]; form?: Form | undefined; details?: ErrorDetail[] | undefined; focus?: string | undefined; now: Date }) {
  const { i, layer, form: f } = p;
  const at = `layers.${i}`;
  const problem = (field: string) => problemAt(p.details, `${at}.${field}`);
  const chosen = f ? all(f, `l${i}_users`) : (layer?.user_ids ?? []);
  // The people's problem ("pick at least one person") or hint, read with each of the turns' selects.
  const nobody = problem('user_ids');
  const peopleSaid = `l${i}_users-${nobody ? 'error' : 'hint'}`;
  const restrictions = layer?.restrictions ?? [];
  const startDefault = layer ? localInput(layer.starts_at, p.zone) : new Date(localMidnight(p.zone, p.now)).toISOString().slice(0, 16);
  return (
    <fieldset>
      <legend>Layer {i + 1}</legend>
      {i > 0 && !layer ? <p class="hint">Optional: leave it empty for no such layer. A later layer wins over an earlier one where it has someone.</p> : null}
      <div class="grid-3">
        <Field id={`l${i}_name`} focus={p.focus === `l${i}_name`} label="Layer name" problem={problem('name')}>
          <input id={`l${i}_name`} name={`l${i}_name`} type="text" class="wide" maxlength={128} placeholder={`Layer ${i + 1}`} value={f ? (text(f, `l${i}_name`) ?? '') : (layer?.name ?? '')} />
        </Field>
        <Field id={`l${i}_rotation`} focus={p.focus === `l${i}_rotation`} label="Hands over every" hint="An ISO 8601 duration: P1W a week, P1D a day, PT12H twelve hours, P1M a month." problem={problem('rotation')}>
          <input id={`l${i}_rotation`} name={`l${i}_rotation`} type="text" class="mono" list="rotations" maxlength={32} spellcheck={false} value={f ? (text(f, `l${i}_rotation`) ?? '') : (layer?.rotation ?? 'P1W')} />
        </Field>
        <Field id={`l${i}_start`} focus={p.focus === `l${i}_start`} label="From (the schedule's time zone)" hint="The first hand-off; later ones keep its local time." problem={problem('starts_at')}>
          <input id={`l${i}_start`} name={`l${i}_start`} type="datetime-local" value={f ? (text(f, `l${i}_start`) ?? '') : startDefault} />
        </Field>
      </div>
      <div class="field">
        <span class="label-like">People, in turn</span>
        <ol class="slots">
          {Array.from({ length: slotsOf(layer) }, (_, j) => (
            <li>
              <select id={j === 0 ? `l${i}_users` : undefined} autofocus={j === 0 && p.focus === `l${i}_users` ? true : undefined} name={`l${i}_users`} aria-label={`Layer ${i + 1}, turn ${j + 1}`} aria-invalid={nobody ? 'true' : undefined} aria-describedby={peopleSaid}>
                <option value="">—</option>
                {p.users.map((u) => (
                  <option value={u.id} selected={chosen[j] === u.id}>
                    {u.name}
                  </option>
                ))}
              </select>
            </li>
          ))}
        </ol>
        {nobody ? (
          <p class="error" id={peopleSaid}>
            {nobody}
          </p>
        ) : (
          <p class="hint" id={peopleSaid}>
            Each takes a turn, in this order, then the first again. Save to get more rows.
          </p>
        )}
      </div>
      <details open={restrictions.length > 0 || (f !== undefined && problem('restrictions') !== undefined) ? true : undefined}>
        <summary>Only at certain times {restrictions.length ? `(${restrictions.length})` : ''}</summary>
        <p class="hint">Outside these windows the layer has nobody and the layer below shows through. A window ending before it starts runs past midnight; days alone mean the whole day.</p>
        {Array.from({ length: restrictionRowsOf(layer) }, (_, j) => {
          const r = restrictions[j];
          const days = f ? all(f, `l${i}_r${j}_days`) : (r?.days ?? []);
          const rp = problemAt(p.details, `${at}.restrictions.${j}`);
          return (
            <div class="restriction">
              <div class="checks-list" role="group" aria-label={`Layer ${i + 1}, window ${j + 1}: days`}>
                {WEEKDAYS.map((d) => (
                  <label>
                    <input type="checkbox" name={`l${i}_r${j}_days`} value={d} checked={days.includes(d)} /> {DAY_NAMES[d]}
                  </label>
                ))}
              </div>
              <label>
                from <input type="time" name={`l${i}_r${j}_from`} value={f ? (text(f, `l${i}_r${j}_from`) ?? '') : (r?.from ?? '')} />
              </label>{' '}
              <label>
                to <input type="time" name={`l${i}_r${j}_to`} value={f ? (text(f, `l${i}_r${j}_to`) ?? '') : (r?.to ?? '')} />
              </label>
              {rp ? <p class="error">{rp}</p> : null}
            </div>
          );
        })}
      </details>
    </fieldset>
  );
}

function ScheduleForm(p: { session: ConsoleSession; action: string; users: UserRow[]; schedule?: ScheduleRow; form?: Form | undefined; details?: ErrorDetail[] | undefined; focus?: string | undefined; now: Date }) {
  const f = p.form;
  const zoneTyped = f ? (text(f, 'time_zone')?.trim() ?? '') : (p.schedule?.time_zone ?? 'UTC');
  // Fields re-shown after a refusal are what was typed; a zone that is no zone shows times as UTC.
  const zone = zoneOrFallback(zoneTyped, 'UTC');
  const rows = Math.min(MAX_LAYERS, Math.max(2, (p.schedule?.layers.length ?? 0) + 1));
  return (
    <form method="post" action={p.action} class="panel">
      <Csrf session={p.session} />
      {p.schedule ? <Version tag={versionOf(p.schedule)} /> : <Once />}
      <div class="grid-2">
        <Field id="name" label="Name" problem={problemAt(p.details, 'name')} focus={p.focus === 'name'}>
          <input id="name" name="name" type="text" class="wide" required maxlength={128} value={f ? (text(f, 'name') ?? '') : (p.schedule?.name ?? '')} />
        </Field>
        <Field id="time_zone" label="Time zone" hint="Hand-offs and windows keep their local time here across DST changes." problem={problemAt(p.details, 'time_zone')} focus={p.focus === 'time_zone'}>
          <ZoneInput id="time_zone" value={zoneTyped} />
        </Field>
      </div>
      {problemAt(p.details, 'layers') && !/^\d/.test(problemAt(p.details, 'layers')!) ? <p class="error">{problemAt(p.details, 'layers')}</p> : null}
      {Array.from({ length: rows }, (_, i) => (
        <LayerFields i={i} layer={p.schedule?.layers[i]} zone={zone} users={p.users} form={f} details={p.details} focus={p.focus} now={p.now} />
      ))}
      <datalist id="rotations">
        {ROTATIONS.map((r) => (
          <option value={r} />
        ))}
      </datalist>
      <button type="submit" class="primary">
        {p.schedule ? 'Save' : 'Create'}
      </button>
    </form>
  );
}

/** Colours by each person's first place in the schedule (layers, then overrides), so they stay put day to day. */
function peopleOf(schedule: ScheduleRow, shifts: Shift[], users: People, names: Map<string, string>): Map<string, Person> {
  const order = [...new Set([...schedule.layers.flatMap((l) => l.user_ids), ...shifts.map((s) => s.user_id)])];
  return new Map(order.map((id, i) => [id, { name: users.get(id)?.name ?? names.get(id) ?? 'a deleted user', colour: i % PALETTE_SIZE }]));
}

/** Names of people the page shows but the listed ones lack (more than PEOPLE_LISTED people). */
async function missingNames(deps: AppDeps, ids: string[], users: People): Promise<Map<string, string>> {
  return userNames(deps.sql, [...new Set(ids)].filter((id) => !users.has(id)));
}

export function scheduleRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  const write = requireScope(deps, 'write');
  const missing = (c: ConsoleContext) => refusal(c, deps, 404, 'No such schedule', 'There is no schedule with that id; it may have been deleted.');
  const find = async (c: ConsoleContext) => (isUuid(c.req.param('id') ?? '') ? getSchedule(deps.sql, { id: c.req.param('id')! }) : undefined);
  const peopleListed = async () => listUsers(deps.sql, undefined, PEOPLE_LISTED);

  app.get('/schedules', ...guards.page, async (c) => {
    const now = deps.clock.now();
    const after = readCursor(c.req.query('after'), isNameCursor);
    const [frame, fetched] = await Promise.all([chrome(c, deps), listSchedules(deps.sql, after, PAGE_SIZE + 1)]);
    const rows = fetched.slice(0, PAGE_SIZE);
    const last = rows.at(-1);
    const next = fetched.length > PAGE_SIZE && last ? href('/schedules', { after: cursor([last.name, last.id]) }) : undefined;
    const asked = await schedulesAt(deps.sql, rows.map((s) => s.id), now);
    const onCall = new Map(rows.map((s) => [s.id, asked.has(s.id) ? onCallAt(asked.get(s.id)!, now) : []]));
    const names = await userNames(deps.sql, [...new Set([...onCall.values()].flat())]);
    return html(
      c,
      <Page title="Schedules" chrome={frame} section="schedules">
        <div class="page-head">
          <h1>On-call schedules</h1>
          {may(frame.session, 'write') ? (
            <a class="button primary" href="/schedules/new">
              New schedule
            </a>
          ) : null}
        </div>
        <p class="muted">Who is on call when. An escalation level that names a schedule pages whoever it has on call at that moment.</p>
        {c.req.query('deleted') !== undefined ? <Outcome done="Deleted." /> : null}
        {rows.length === 0 ? (
          <p class="empty panel">No schedule yet.</p>
        ) : (
          <Table head={['Schedule', 'On call now', 'Time zone', 'Layers']}>
            {rows.map((s) => (
              <tr>
                <td data-label="Schedule">
                  <a href={`/schedules/${s.id}`}>{s.name}</a>
                </td>
                <td data-label="On call now">{onCall.get(s.id)!.length ? onCall.get(s.id)!.map((id) => names.get(id) ?? 'a deleted user').join(', ') : <span class="muted">nobody</span>}</td>
                <td data-label="Time zone">
                  <ZoneNow zone={s.time_zone} now={now} />
                </td>
                <td data-label="Layers">{s.layers.map((l) => l.name).join(', ')}</td>
              </tr>
            ))}
          </Table>
        )}
        <Pager next={next} first={after ? '/schedules' : undefined} />
      </Page>,
    );
  });

  const formPage = async (c: ConsoleContext, schedule: ScheduleRow | undefined, o: { form?: Form; details?: ErrorDetail[]; message?: string; status?: ContentfulStatusCode; focus?: true } = {}) => {
    const [frame, users] = await Promise.all([chrome(c, deps), peopleListed()]);
    const title = schedule ? `Edit ${schedule.name}` : 'New schedule';
    const placed = scheduleFocus(o.details);
    return html(
      c,
      <Page title={title} chrome={frame} section="schedules">
        {schedule ? <Back href={`/schedules/${schedule.id}`}>{schedule.name}</Back> : <Back href="/schedules">Schedules</Back>}
        <h1>{title}</h1>
        <Outcome problem={o.message} placed={placed} focus={o.focus} />
        {users.length === 0 ? (
          <p>
            A schedule's layers take turns among people: <a href="/users">add people</a> first.
          </p>
        ) : (
          <ScheduleForm
            session={frame.session}
            action={schedule ? `/schedules/${schedule.id}/edit` : '/schedules/new'}
            users={users}
            {...(schedule ? { schedule } : {})}
            form={o.form}
            details={o.details}
            focus={placed?.first?.id}
            now={deps.clock.now()}
          />
        )}
      </Page>,
      o.status,
    );
  };

  app.get('/schedules/new', ...guards.page, write, async (c) => formPage(c, undefined));

  app.post('/schedules/new', ...guards.action, write, async (c) => {
    const form = (await c.req.parseBody({ all: true })) as Form;
    const { body, rows } = scheduleOf(form);
    return createOnce(
      c,
      deps,
      form,
      () => createSchedule(deps.sql, parse(CreateSchedule, body), deps.clock.now(), acting(c)),
      (r) => {
        const shown = formRefusal(r, 'Not created');
        return formPage(c, undefined, { form, ...shown, details: nobodyPicked(toRows(shown.details, rows), body, form) });
      },
      (made) => `/schedules/${made.id}`,
    );
  });

  const schedulePage = async (c: ConsoleContext, schedule: ScheduleRow, o: { form?: Form; details?: ErrorDetail[]; message?: string; done?: string; status?: ContentfulStatusCode } = {}) => {
    const now = deps.clock.now();
    const zone = schedule.time_zone;
    const range = timelineRange(zone, now, TIMELINE_DAYS);
    const [frame, listed, shifts, overrides] = await Promise.all([
      chrome(c, deps),
      peopleListed(),
      shiftsOf(deps.sql, schedule, range.from, range.to),
      listOverrides(deps.sql, schedule.id, now, undefined, OVERRIDES_LISTED),
    ]);
    const users: People = new Map(listed.map((u) => [u.id, u]));
    const names = await missingNames(deps, [...schedule.layers.flatMap((l) => l.user_ids), ...shifts.map((s) => s.user_id), ...overrides.map((x) => x.user_id)], users);
    const people = peopleOf(schedule, shifts, users, names);
    const nameOf = (id: string) => people.get(id)?.name ?? users.get(id)?.name ?? names.get(id) ?? 'a deleted user';
    const current = shifts.find((s) => s.starts_at <= now && now < s.ends_at);
    const canWrite = may(frame.session, 'write');
    const f = o.form;
    // The override form's first refused field: the summary at the top links to it, and it has the focus.
    const refused = placeProblems(o.details, overrideSpot, OVERRIDE_IDS, OVERRIDE_LABELS);
    const focus = (id: string) => (refused.first?.id === id ? true : undefined);
    return html(
      c,
      <Page title={schedule.name} chrome={frame} section="schedules">
        <Back href="/schedules">Schedules</Back>
        <div class="page-head">
          <h1>{schedule.name}</h1>
          {canWrite ? (
            <a class="button" href={`/schedules/${schedule.id}/edit`}>
              Edit layers
            </a>
          ) : null}
        </div>
        <Outcome done={o.done} problem={o.message} placed={refused} />
        <div class="panel">
          <dl class="facts">
            <dt>On call now</dt>
            <dd id="on-call-now">
              {current ? (
                <>
                  <a href={`/users/${current.user_id}`}>
                    <b>{nameOf(current.user_id)}</b>
                  </a>{' '}
                  until {zoned(current.ends_at, zone)}
                  {current.layer === 'override' ? ' (override)' : ` (${current.layer})`}
                  <TheirClock user={users.get(current.user_id)} zone={zone} at={now} />
                </>
              ) : (
                <span class="muted">nobody: a level naming this schedule moves on to the next</span>
              )}
            </dd>
            <dt>Time zone</dt>
            <dd>
              {zone} <span class="muted">· {hhmm(now, zone)} now; every time on this page is on this clock</span>
            </dd>
            <dt>Layers</dt>
            <dd>
              <ul class="plain">
                {[...schedule.layers].reverse().map((l) => (
                  <li>
                    <LayerText layer={l} zone={zone} people={users} names={names} />
                  </li>
                ))}
              </ul>
              <span class="sub">Highest first: a higher layer wins where it has someone; an override wins over all.</span>
            </dd>
          </dl>
        </div>

        <h2>The next {TIMELINE_DAYS} days</h2>
        <div class="panel">
          <ShiftTimeline zone={zone} shifts={shifts} people={people} now={now} days={TIMELINE_DAYS} />
          <details>
            <summary>Every shift, with each person's own clock</summary>
            <ShiftTable shifts={shifts} zone={zone} users={users} nameOf={nameOf} />
          </details>
        </div>

        <h2>Overrides</h2>
        {overrides.length === 0 ? (
          <p class="muted">None to come.</p>
        ) : (
          <Table head={['Who', `From (${zone})`, `Until (${zone})`, ...(canWrite ? [{ label: 'Actions', hidden: true } as const] : [])]}>
            {overrides.map((x) => (
              <tr>
                <td data-label="Who">
                  <a href={`/users/${x.user_id}`}>{nameOf(x.user_id)}</a>
                </td>
                <td data-label="From">{zoned(x.starts_at, zone)}</td>
                <td data-label="Until">{zoned(x.ends_at, zone)}</td>
                {canWrite ? (
                  <td data-label="">
                    <AskFirst href={`/schedules/${schedule.id}/overrides/${x.id}/delete`} name={`the override for ${nameOf(x.user_id)}`} verb="Remove" small />
                  </td>
                ) : null}
              </tr>
            ))}
          </Table>
        )}
        {canWrite ? (
          <form method="post" action={`/schedules/${schedule.id}/overrides`} class="panel">
            <Csrf session={frame.session} />
            <Once />
            <h3>Add an override</h3>
            <p class="hint">Someone on call instead of whoever the layers have, over every layer. Where overrides overlap, the one added last wins.</p>
            <div class="grid-3">
              <Field id="override_user" label="Who" problem={refused.at.get('override_user')}>
                <select id="override_user" name="user_id" required autofocus={focus('override_user')}>
                  <option value="">—</option>
                  {listed.map((u) => (
                    <option value={u.id} selected={f ? text(f, 'user_id') === u.id : undefined}>
                      {u.name}
                    </option>
                  ))}
                </select>
              </Field>
              <Field id="override_from" label={`From (${zone})`} problem={refused.at.get('override_from')}>
                <input id="override_from" name="starts_at" type="datetime-local" required autofocus={focus('override_from')} value={f ? (text(f, 'starts_at') ?? '') : localInput(now, zone)} />
              </Field>
              <Field id="override_until" label={`Until (${zone})`} problem={refused.at.get('override_until')}>
                <input id="override_until" name="ends_at" type="datetime-local" required autofocus={focus('override_until')} value={f ? (text(f, 'ends_at') ?? '') : ''} />
              </Field>
            </div>
            <button type="submit" class="primary">
              Add the override
            </button>
          </form>
        ) : null}
        {canWrite ? (
          <>
            <h2>Delete</h2>
            <div class="actions">
              <AskFirst href={`/schedules/${schedule.id}/delete`} name={schedule.name} />
              <span class="muted">Its layers and overrides go with it. Refused while an escalation policy names it.</span>
            </div>
          </>
        ) : null}
      </Page>,
      o.status,
    );
  };

  app.get('/schedules/:id', ...guards.page, async (c) => {
    const schedule = await find(c);
    if (!schedule) return missing(c);
    const done = c.req.query('done');
    const said: Record<string, string> = { created: 'Created.', saved: 'Saved.', already: ALREADY, override: 'Override added.', removed: 'Override removed.' };
    return schedulePage(c, schedule, sayingOf(said, done));
  });

  app.get('/schedules/:id/edit', ...guards.page, write, async (c) => {
    const schedule = await find(c);
    return schedule ? formPage(c, schedule) : missing(c);
  });

  app.post('/schedules/:id/edit', ...guards.action, write, async (c) => {
    const schedule = await find(c);
    if (!schedule) return missing(c);
    const form = (await c.req.parseBody({ all: true })) as Form;
    const { body, rows } = scheduleOf(form);
    const outcome = await attempt(
      () => updateSchedule(deps.sql, schedule, parse(PatchSchedule, keepingZone(body, schedule.time_zone)), deps.clock.now(), acting(c), sentVersions(form)),
      (r) =>
        refusedSave(
          r,
          (r) => {
            const shown = formRefusal(r, 'Not saved');
            return formPage(c, schedule, { form, ...shown, details: nobodyPicked(toRows(shown.details, rows), body, form) });
          },
          () => getSchedule(deps.sql, { id: schedule.id }),
          (current, message) => formPage(c, current, { message, status: 412, focus: true }),
          (x) => x.name,
          { sql: deps.sql, type: 'schedule', form },
        ),
    );
    if (outcome instanceof Response) return outcome;
    return c.redirect(`/schedules/${schedule.id}?done=saved`, 303);
  });

  const askDelete = (schedule: ScheduleRow, frame: Chrome, problem?: string) => (
    <Confirm name={schedule.name} back={`/schedules/${schedule.id}`} action={`/schedules/${schedule.id}/delete`} fields={versionField(versionOf(schedule))} problem={problem} chrome={frame} section="schedules">
      Its layers and overrides go with it; the people on it stay. It is refused while an escalation policy names it.
    </Confirm>
  );
  app.get('/schedules/:id/delete', ...guards.page, write, asking(deps, find, missing, askDelete));

  app.post('/schedules/:id/delete', ...guards.action, write, confirmed(), async (c) => {
    const schedule = await find(c);
    if (!schedule) return missing(c);
    const form = (await c.req.parseBody()) as Form;
    const outcome = await attempt(
      () => deleteSchedule(deps.sql, schedule.id, deps.clock.now(), acting(c), undefined, sentVersions(form)),
      (r) =>
        refusedDelete(
          r,
          (r) => refusedDeletion(c, deps, { name: schedule.name, href: `/schedules/${schedule.id}`, held: 'is still used by', fix: 'remove it there first' }, r),
          () => getSchedule(deps.sql, { id: schedule.id }),
          askAgain(c, deps, askDelete),
          (x) => x.name,
          { sql: deps.sql, type: 'schedule', form },
        ),
    );
    if (outcome instanceof Response) return outcome;
    return c.redirect('/schedules?deleted', 303);
  });

  app.post('/schedules/:id/overrides', ...guards.action, write, async (c) => {
    const schedule = await find(c);
    if (!schedule) return missing(c);
    const form = (await c.req.parseBody()) as Form;
    const input = {
      user_id: text(form, 'user_id') ?? '',
      starts_at: readZonedTime(form, 'starts_at', schedule.time_zone) ?? '',
      ends_at: readZonedTime(form, 'ends_at', schedule.time_zone) ?? '',
    };
    return createOnce(
      c,
      deps,
      form,
      () => addOverride(deps.sql, schedule.id, parse(CreateOverride, input), deps.clock.now(), acting(c)),
      (r) => schedulePage(c, schedule, { form, ...formRefusal(r, 'No override added') }),
      () => `/schedules/${schedule.id}`,
      () => c.redirect(`/schedules/${schedule.id}?done=override`, 303),
    );
  });

  // Removing an override hands its hours back to whoever the layers have, paging them from then on:
  // asked first, like every other removal.
  app.get(
    '/schedules/:id/overrides/:override/delete',
    ...guards.page,
    write,
    asking(
      deps,
      async (c) => {
        const schedule = await find(c);
        const id = c.req.param('override') ?? '';
        const override = schedule && isUuid(id) ? await getOverride(deps.sql, schedule.id, id) : undefined;
        if (!schedule || !override) return undefined;
        const who = (await userNames(deps.sql, [override.user_id])).get(override.user_id) ?? 'a deleted user';
        return { schedule, override, who };
      },
      (c) => refusal(c, deps, 404, 'No such override', 'There is no such override on that schedule; it may have been removed already.'),
      ({ schedule, override, who }, frame) => (
        <Confirm
          verb="Remove"
          name={`the override for ${who}`}
          back={`/schedules/${schedule.id}`}
          backLabel={schedule.name}
          action={`/schedules/${schedule.id}/overrides/${override.id}/delete`}
          chrome={frame}
          section="schedules"
        >
          {who} is on call for {schedule.name} from {zoned(override.starts_at, schedule.time_zone)} until {zoned(override.ends_at, schedule.time_zone)} ({schedule.time_zone}).
          Removed, those hours go back to whoever the layers have, and they are the ones paged.
        </Confirm>
      ),
    ),
  );

  app.post('/schedules/:id/overrides/:override/delete', ...guards.action, write, confirmed(), async (c) => {
    const schedule = await find(c);
    if (!schedule) return missing(c);
    const id = c.req.param('override');
    const outcome = await attempt(
      () => removeOverride(deps.sql, schedule.id, isUuid(id) ? id : NO_ID, deps.clock.now(), acting(c)),
      (r) => schedulePage(c, schedule, { message: r.message, status: 404 }),
    );
    if (outcome instanceof Response) return outcome;
    return c.redirect(`/schedules/${schedule.id}?done=removed`, 303);
  });

  return app;
}

/** " · 17:00 for them (Asia/Tokyo)": a person's own clock, where it differs from the schedule's. */
function TheirClock(p: { user: UserRow | undefined; zone: string; at: Date }) {
  if (!p.user || p.user.time_zone === p.zone) return null;
  return (
    <span class="muted">
      {' '}
      · {hhmm(p.at, p.user.time_zone)} for them ({p.user.time_zone})
    </span>
  );
}

function ShiftTable(p: { shifts: Shift[]; zone: string; users: People; nameOf: (id: string) => string }) {
  if (p.shifts.length === 0) return <p class="muted">Nobody is on call in these days.</p>;
  return (
    <Table head={[`From (${p.zone})`, `Until (${p.zone})`, 'Who', 'Their clock', 'As']}>
      {p.shifts.map((s) => {
        const theirs = p.users.get(s.user_id)?.time_zone;
        const from = theirs ? zoned(s.starts_at, theirs) : '';
        const until = theirs ? zoned(s.ends_at, theirs) : '';
        return (
          <tr>
            <td data-label="From">{zoned(s.starts_at, p.zone)}</td>
            <td data-label="Until">{zoned(s.ends_at, p.zone)}</td>
            <td data-label="Who">{p.nameOf(s.user_id)}</td>
            <td data-label="Their clock">
              {theirs && theirs !== p.zone ? (
                <span>
                  {from} – {until.slice(0, 10) === from.slice(0, 10) ? until.slice(11) : until} <span class="sub">{theirs}</span>
                </span>
              ) : (
                <span class="muted">the same</span>
              )}
            </td>
            <td data-label="As">{s.layer}</td>
          </tr>
        );
      })}
    </Table>
  );
}
