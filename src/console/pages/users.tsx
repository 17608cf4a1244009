import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConsoleSession } from '../../access/sessions.ts';
import { listChannels } from '../../channels/store.ts';
import { isUuid } from '../../db/ids.ts';
import type { ErrorDetail } from '../../errors.ts';
import type { AppDeps } from '../../http/deps.ts';
import { CreateUser, PatchUser } from '../../http/routes/users.ts';
import { isNameCursor, keepingZone, parse } from '../../http/validation.ts';
import { USER_HOLDER_WORDS, type UserRow } from '../../oncall/model.ts';
import { shiftsOf } from '../../oncall/schedules.ts';
import { getSchedules, schedulesNamingUser, schedulesWithOverridesFor } from '../../oncall/store-schedules.ts';
import { getUser, listUsers } from '../../oncall/store-users.ts';
import { createUser, deleteUser, updateUser } from '../../oncall/users.ts';
import { acting, attempt, Field, formRefusal, may, requireScope } from '../acting.tsx';
import { Back, Outcome, Pager, Table, createdOrSaved } from '../components.tsx';
import { chrome, cursor, href, readCursor } from '../context.ts';
import { zoned } from '../format.ts';
import { all, placeProblems, problemAt, text, type Form, type Placed } from '../forms.ts';
import { refusedDelete, refusedSave, sentVersions, Version, versionField, versionOf } from '../version.tsx';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { addressWithoutEmail, PeopleWithoutEmail, peopleWithoutEmail } from '../email-reach.tsx';
import { Csrf, Page, type Chrome } from '../layout.tsx';
import { askAgain, asking, AskFirst, Confirm, confirmed } from '../confirm.tsx';
import { createOnce, Once } from '../once.tsx';
import { html, refusal } from '../render.tsx';
import { timelineRange } from '../shift-timeline.tsx';
import { ZoneInput, ZoneNow } from '../zones.tsx';
import { refusedDeletion } from '../refused-deletion.tsx';

// People: whom a policy or a schedule pages, by email and by their own channels. Create, edit and
// delete call src/oncall/users.ts as the API does. A person's page shows their coming shifts on
// their own clock: that is the question they ask of it ("when am I on?").

const PAGE_SIZE = 50;
/** A person's own channels are picked from all of them: a handful, never a fleet's worth. */
const CHANNELS_LISTED = 500;
/** How far ahead a person's page lists their shifts: the schedule page's timeline. */
const SHIFT_DAYS = 14;

type Channels = Array<{ id: string; name: string }>;

function UserForm(p: { session: ConsoleSession; action: string; channels: Channels; user?: UserRow; form?: Form; details?: ErrorDetail[] | undefined; placed: Placed; emailWarnings: string[] }) {
  const focus = (id: string) => (p.placed.first?.id === id ? true : undefined);
  const f = p.form;
  const v = (name: 'name' | 'email' | 'time_zone', fallback: string) => (f ? (text(f, name) ?? '') : (p.user?.[name] ?? fallback));
  const picked = (id: string) => (f ? all(f, 'channels') : (p.user?.channel_ids ?? [])).includes(id);
  // Read out with the field, as its problem is (Field): a warning beside the input alone is passed
  // over by a screen reader moving from field to field.
  const channelsProblem = p.placed.at.get('channels');
  return (
    <form method="post" action={p.action} class="panel">
      <Csrf session={p.session} />
      {p.user ? <Version tag={versionOf(p.user)} /> : <Once />}
      <div class="grid-3">
        <Field id="name" label="Name" problem={p.placed.at.get('name')}>
          <input id="name" name="name" type="text" class="wide" required maxlength={128} autofocus={focus('name')} value={v('name', '')} />
        </Field>
        <Field id="email" label="Email" hint="Pages go here through the engine's mail server; unique." problem={p.placed.at.get('email')}>
          <input id="email" name="email" type="email" class="wide" required maxlength={254} autocomplete="off" spellcheck={false} value={v('email', '')} autofocus={focus('email')} aria-describedby={p.emailWarnings.length ? 'email-warning' : undefined} />
          {p.emailWarnings.length ? (
            <p class="error" id="email-warning">
              {p.emailWarnings.map((w) => `${w}.`).join(' ')}
            </p>
          ) : null}
        </Field>
        <Field id="time_zone" label="Time zone" hint="Where they live: their shifts are shown on this clock." problem={p.placed.at.get('time_zone')}>
          <ZoneInput id="time_zone" value={v('time_zone', 'UTC')} autofocus={focus('time_zone')} />
        </Field>
      </div>
      {p.channels.length ? (
        <div class="field">
          <div class="checks-list" role="group" id="channels" aria-label="Their own channels" aria-describedby={channelsProblem ? 'channels-error' : undefined}>
            <span class="muted">Their own channels (paged besides email):</span>
            {p.channels.map((ch, i) => (
              <label>
                <input type="checkbox" name="channels" value={ch.id} checked={picked(ch.id)} autofocus={i === 0 ? focus('channels') : undefined} /> {ch.name}
              </label>
            ))}
          </div>
          {channelsProblem ? (
            <p class="error" id="channels-error">
              {channelsProblem}
            </p>
          ) : null}
        </div>
      ) : null}
      <button type="submit" class="primary">
        {p.user ? 'Save' : 'Create'}
      </button>
    </form>
  );
}

const USER_LABELS: Record<string, string> = { name: 'Name', email: 'Email', time_zone: 'Time zone' };

/**
 * A refused person at the form's fields, the first one refused linked from the summary and focused.
 * A channel picked that is gone (`channel_ids.0: is not a channel`) was deleted after the form was
 * shown: its box is gone from the page, so the problem is the channel group's. The group is on the
 * page only while there is a channel to pick; without it the problem is the summary's text.
 */
const placedUser = (details: ErrorDetail[] | undefined, channels: Channels) =>
  placeProblems(
    details?.map((d) => (/^channel_ids\.\d+$/.test(d.field) && d.message === 'is not a channel' ? { ...d, message: 'a channel picked no longer exists; pick again' } : d)),
    (path) => (USER_LABELS[path] ? { id: path, label: USER_LABELS[path] } : /^channel_ids(\.\d+)?$/.test(path) ? { id: 'channels', label: 'Their own channels' } : undefined),
    [...Object.keys(USER_LABELS), ...(channels.length ? ['channels'] : [])],
  );

/** The user a form describes, as a request body would carry it. */
const userOf = (form: Form) => ({
  name: text(form, 'name') ?? '',
  email: text(form, 'email')?.trim() ?? '',
  time_zone: text(form, 'time_zone')?.trim() ?? '',
  channel_ids: all(form, 'channels'),
});

export function userRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  const write = requireScope(deps, 'write');
  const missing = (c: ConsoleContext) => refusal(c, deps, 404, 'No such person', 'There is no user with that id; they may have been deleted.');
  const find = async (c: ConsoleContext) => (isUuid(c.req.param('id') ?? '') ? getUser(deps.sql, c.req.param('id')!) : undefined);
  const channelsOf = async (): Promise<Channels> => (await listChannels(deps.sql, undefined, CHANNELS_LISTED)).map(({ id, name }) => ({ id, name }));

  const listPage = async (c: ConsoleContext, o: { form?: Form; details?: ErrorDetail[]; message?: string; done?: string; status?: ContentfulStatusCode } = {}) => {
    const now = deps.clock.now();
    const after = readCursor(c.req.query('after'), isNameCursor);
    const [frame, fetched, channels, withoutEmail] = await Promise.all([chrome(c, deps), listUsers(deps.sql, after, PAGE_SIZE + 1), channelsOf(), peopleWithoutEmail(deps, now)]);
    const rows = fetched.slice(0, PAGE_SIZE);
    const last = rows.at(-1);
    const next = fetched.length > PAGE_SIZE && last ? href('/users', { after: cursor([last.name, last.id]) }) : undefined;
    const names = new Map(channels.map((ch) => [ch.id, ch.name]));
    const placed = placedUser(o.details, channels);
    return html(
      c,
      <Page title="People" chrome={frame} section="people">
        <h1>People</h1>
        <p class="muted">Whom an escalation level or a schedule pages: by email, and by each of their own channels.</p>
        <Outcome done={o.done} problem={o.message} placed={placed} />
        <PeopleWithoutEmail warning={withoutEmail} />
        {rows.length === 0 ? (
          <p class="empty panel">Nobody yet: policies can page channels only.</p>
        ) : (
          <Table head={['Name', 'Email', 'Time zone', 'Own channels']}>
            {rows.map((u) => (
              <tr>
                <td data-label="Name">
                  <a href={`/users/${u.id}`}>{u.name}</a>
                </td>
                <td data-label="Email" class="reason">
                  {u.email}
                </td>
                <td data-label="Time zone">
                  <ZoneNow zone={u.time_zone} now={now} />
                </td>
                <td data-label="Own channels">{u.channel_ids.length ? u.channel_ids.map((id) => <span class="tag">{names.get(id) ?? 'a channel'}</span>) : <span class="muted">email only</span>}
                  {withoutEmail?.ids.has(u.id) ? <span class="sub error">paged, but reached by nothing while SMTP_URL is not set</span> : null}
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager next={next} first={after ? '/users' : undefined} />
        {may(frame.session, 'write') ? (
          <>
            <h2>New person</h2>
            <UserForm session={frame.session} action="/users" channels={channels} {...(o.form ? { form: o.form } : {})} details={o.details} placed={placed} emailWarnings={addressWithoutEmail(deps)} />
          </>
        ) : null}
      </Page>,
      o.status,
    );
  };

  /** Their shifts in every schedule that has them on a layer or an override, over the next days. */
  const comingShifts = async (user: UserRow, now: Date) => {
    const [layered, overridden] = await Promise.all([schedulesNamingUser(deps.sql, user.id), schedulesWithOverridesFor(deps.sql, user.id, now)]);
    const schedules = await getSchedules(deps.sql, [...new Set([...layered, ...overridden].map((s) => s.id))]);
    const { to } = timelineRange(user.time_zone, now, SHIFT_DAYS);
    const per = await Promise.all([...schedules.values()].map(async (s) => (await shiftsOf(deps.sql, s, now, to)).map((shift) => ({ ...shift, schedule: s }))));
    const shifts = per
      .flat()
      .filter((s) => s.user_id === user.id)
      .sort((a, b) => a.starts_at.getTime() - b.starts_at.getTime());
    return { shifts, to };
  };

  const userPage = async (c: ConsoleContext, user: UserRow, o: { form?: Form; details?: ErrorDetail[]; message?: string; done?: string; status?: ContentfulStatusCode; focus?: true } = {}) => {
    const now = deps.clock.now();
    const [frame, channels, { shifts, to }] = await Promise.all([chrome(c, deps), channelsOf(), comingShifts(user, now)]);
    const names = new Map(channels.map((ch) => [ch.id, ch.name]));
    const placed = placedUser(o.details, channels);
    const zone = user.time_zone;
    return html(
      c,
      <Page title={user.name} chrome={frame} section="people">
        <Back href="/users">People</Back>
        <h1>{user.name}</h1>
        <Outcome done={o.done} problem={o.message} placed={placed} focus={o.focus} />
        <div class="panel">
          <dl class="facts">
            <dt>Email</dt>
            <dd>{user.email}</dd>
            <dt>Time zone</dt>
            <dd>
              <ZoneNow zone={zone} now={now} />
            </dd>
            <dt>Own channels</dt>
            <dd>{user.channel_ids.length ? user.channel_ids.map((id) => <a class="tag" href={`/channels/${id}`}>{names.get(id) ?? 'a channel'}</a>) : <span class="muted">none: email only</span>}</dd>
          </dl>
        </div>
        <h2>On call in the next {SHIFT_DAYS} days</h2>
        {shifts.length === 0 ? (
          <p class="empty panel">No shift: no schedule has {user.name} on call in that time.</p>
        ) : (
          <Table head={[`From (${zone})`, `Until (${zone})`, 'Schedule', 'As']}>
            {shifts.map((s) => (
              <tr>
                <td data-label="From">{s.starts_at <= now ? <b>now</b> : <time datetime={s.starts_at.toISOString()}>{zoned(s.starts_at, zone)}</time>}</td>
                <td data-label="Until">
                  <time datetime={s.ends_at.toISOString()}>{zoned(s.ends_at, zone)}</time>
                  {s.ends_at >= to ? <span class="muted"> and on</span> : null}
                </td>
                <td data-label="Schedule">
                  <a href={`/schedules/${s.schedule.id}`}>{s.schedule.name}</a>
                </td>
                <td data-label="As">{s.layer}</td>
              </tr>
            ))}
          </Table>
        )}
        {may(frame.session, 'write') ? (
          <>
            <h2>Edit</h2>
            <UserForm session={frame.session} action={`/users/${user.id}`} channels={channels} user={user} {...(o.form ? { form: o.form } : {})} details={o.details} placed={placed} emailWarnings={addressWithoutEmail(deps)} />
            <h2>Delete</h2>
            <div class="actions">
              <AskFirst href={`/users/${user.id}/delete`} name={user.name} />
              <span class="muted">Refused while an escalation level, a schedule layer or an override still to come names them.</span>
            </div>
          </>
        ) : null}
      </Page>,
      o.status,
    );
  };

  app.get('/users', ...guards.page, async (c) => listPage(c, c.req.query('deleted') !== undefined ? { done: 'Deleted.' } : {}));

  app.post('/users', ...guards.action, write, async (c) => {
    const form = (await c.req.parseBody({ all: true })) as Form;
    return createOnce(
      c,
      deps,
      form,
      () => createUser(deps.sql, parse(CreateUser, userOf(form)), deps.clock.now(), acting(c)),
      async (r) => listPage(c, { form, ...formRefusal(r, 'Not created') }),
      (made) => `/users/${made.id}`,
    );
  });

  app.get('/users/:id', ...guards.page, async (c) => {
    const user = await find(c);
    if (!user) return missing(c);
    return userPage(c, user, createdOrSaved(c.req.query('done')));
  });

  app.post('/users/:id', ...guards.action, write, async (c) => {
    const user = await find(c);
    if (!user) return missing(c);
    const form = (await c.req.parseBody({ all: true })) as Form;
    const outcome = await attempt(
      () => updateUser(deps.sql, user, parse(PatchUser, keepingZone(userOf(form), user.time_zone)), deps.clock.now(), acting(c), sentVersions(form)),
      (r) =>
        refusedSave(
          r,
          async (r) => userPage(c, user, { form, ...formRefusal(r, 'Not saved') }),
          () => getUser(deps.sql, user.id),
          (current, message) => userPage(c, current, { message, status: 412, focus: true }),
          (x) => x.name,
          { sql: deps.sql, type: 'user', form },
        ),
    );
    if (outcome instanceof Response) return outcome;
    return c.redirect(`/users/${user.id}?done=saved`, 303);
  });

  const askDelete = (user: UserRow, frame: Chrome, problem?: string) => (
    <Confirm name={user.name} back={`/users/${user.id}`} action={`/users/${user.id}/delete`} fields={versionField(versionOf(user))} problem={problem} chrome={frame} section="people">
      They are paged no more, at {user.email} or through their own channels (the channels themselves stay). It is refused while an escalation level,
      a schedule layer or an override still to come names them, or while an open incident they were paged for is unresolved.
    </Confirm>
  );
  app.get('/users/:id/delete', ...guards.page, write, asking(deps, find, missing, askDelete));

  app.post('/users/:id/delete', ...guards.action, write, confirmed(), async (c) => {
    const user = await find(c);
    if (!user) return missing(c);
    const form = (await c.req.parseBody()) as Form;
    const outcome = await attempt(
      () => deleteUser(deps.sql, user.id, deps.clock.now(), acting(c), undefined, sentVersions(form)),
      (r) =>
        refusedDelete(
          r,
          (r) => refusedDeletion(c, deps, { name: user.name, href: `/users/${user.id}`, held: { words: USER_HOLDER_WORDS }, fix: 'take them out there first' }, r),
          () => getUser(deps.sql, user.id),
          askAgain(c, deps, askDelete),
          (x) => x.name,
          { sql: deps.sql, type: 'user', form },
        ),
    );
    if (outcome instanceof Response) return outcome;
    return c.redirect('/users?deleted', 303);
  });

  return app;
}
