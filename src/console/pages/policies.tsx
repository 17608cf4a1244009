import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConsoleSession } from '../../access/sessions.ts';
import { listChannels } from '../../channels/store.ts';
import { isUuid } from '../../db/ids.ts';
import type { AppDeps } from '../../http/deps.ts';
import type { ErrorDetail } from '../../errors.ts';
import { CreatePolicy, PatchPolicy } from '../../http/routes/escalation-policies.ts';
import { parse } from '../../http/validation.ts';
import { MAX_LEVELS, type PolicyLevel, type PolicyRow } from '../../oncall/model.ts';
import { createPolicy, deletePolicy, updatePolicy } from '../../oncall/service.ts';
import { getDefaultPolicy, getPolicy, listPolicies } from '../../oncall/store.ts';
import { listSchedules } from '../../oncall/store-schedules.ts';
import { policiesPagingNobody, policyAt, type LevelNow, type PagedNow } from '../../oncall/schedules.ts';
import { listUsers } from '../../oncall/store-users.ts';
import { deletedNames } from '../../audit/service.ts';
import { acting, attempt, Field, formRefusal, may, requireScope } from '../acting.tsx';
import { Back, Outcome, Table, createdOrSaved } from '../components.tsx';
import { chrome } from '../context.ts';
import { duration, weekdayAt } from '../format.ts';
import { all, integer, placeProblems, text, type Form, type Placed } from '../forms.ts';
import { refusedDelete, refusedSave, sentVersions, Version, versionField, versionOf } from '../version.tsx';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { LevelsWithoutEmail, levelsWithoutEmail, ReachesNobody } from '../email-reach.tsx';
import { Csrf, Page, type Chrome } from '../layout.tsx';
import { askAgain, asking, AskFirst, Confirm, confirmed } from '../confirm.tsx';
import { createOnce, Once } from '../once.tsx';
import { html, refusal } from '../render.tsx';

// Escalation policies: who is paged for an incident and when. The form writes the whole policy,
// validated by the API's own schema and saved by src/oncall/service.ts, as the API's POST and
// PATCH do.

/**
 * The form always holds MAX_LEVELS level rows, so no level a policy has is ever left off and lost on
 * save. In view are the levels it has and one blank for the next (two for a new policy: level 1 and
 * level 2); the rest wait folded in a <details>, which opens without a script and whose fields are
 * sent like any other.
 */
const MIN_IN_VIEW = 2;
/** Policies and channels are a handful each; one page of each is all a console needs to show. */
const LIST_LIMIT = 500;

/** Who a level can page: channels, people and schedules, each by id and name (a schedule with its zone). */
interface Pageable {
  channels: Array<{ id: string; name: string }>;
  users: Array<{ id: string; name: string }>;
  schedules: Array<{ id: string; name: string; time_zone: string }>;
}

const KINDS = [
  { form: 'channels', list: 'channels', legend: 'Channels' },
  { form: 'users', list: 'users', legend: 'People' },
  { form: 'schedules', list: 'schedules', legend: 'Whoever is on call in' },
] as const;

const idsOf = (l: PolicyLevel | undefined, kind: (typeof KINDS)[number]) =>
  kind.list === 'channels' ? (l?.channel_ids ?? []) : kind.list === 'users' ? (l?.user_ids ?? []) : (l?.schedule_ids ?? []);

/** "at once → ops-mail, alice; after 5 min → on call in Primary" */
function LevelsText(p: { policy: PolicyRow; who: Pageable }) {
  const names = new Map([...p.who.channels, ...p.who.users, ...p.who.schedules].map((x) => [x.id, x.name]));
  return (
    <span>
      {p.policy.levels.map((l, i) => (
        <span class="sub">
          {i === 0 ? 'at once' : `after ${duration(l.after_seconds * 1000)}`} →{' '}
          {[...l.channel_ids, ...(l.user_ids ?? [])].map((id) => names.get(id) ?? 'a deleted recipient').concat((l.schedule_ids ?? []).map((id) => `on call in ${names.get(id) ?? 'a deleted schedule'}`)).join(', ')}
        </span>
      ))}
      {p.policy.repeat ? <span class="sub">then {p.policy.repeat} more {p.policy.repeat === 1 ? 'round' : 'rounds'}</span> : null}
      {p.policy.ack_timeout_seconds ? <span class="sub">an acknowledgement expires after {duration(p.policy.ack_timeout_seconds * 1000)}</span> : null}
    </span>
  );
}

/** `a`, `a, b`: pieces of text and links, comma-separated. */
const commas = (items: Child[]): Child[] => items.flatMap((item, i) => (i === 0 ? [item] : [', ', item]));

/**
 * Whom each level would page if it fired now (policyAt): "now: Ana Okafor (Primary, until Mon 09:00
 * Europe/Berlin), ops-mail", a hand-off on its schedule's clock; a level that reaches nobody says
 * so, for the next one then fires at once (an office-hours rota at night, or only email without
 * SMTP_URL).
 */
function LevelsNow(p: { levels: LevelNow[]; who: Pageable; now: Date }) {
  const channels = new Map(p.who.channels.map((x) => [x.id, x.name]));
  const schedules = new Map(p.who.schedules.map((x) => [x.id, x]));
  const scheduleName = (id: string) => schedules.get(id)?.name ?? 'a deleted schedule';
  const person = (u: PagedNow) => {
    const link = <a href={`/users/${u.user_id}`}>{u.name ?? 'a deleted user'}</a>;
    if (u.schedule_id === undefined) return link;
    const zone = schedules.get(u.schedule_id)?.time_zone ?? 'UTC';
    const until = u.until === null ? 'no hand-off within 93 days' : `until ${weekdayAt(u.until, p.now, zone)} ${zone}`;
    return (
      <>
        {link} ({scheduleName(u.schedule_id)}, {until})
      </>
    );
  };
  return (
    <ol class="plain" id="levels-now">
      {p.levels.map((l, i) => (
        <li>
          <b>Level {i + 1}</b> <span class="muted">({i === 0 ? 'at once' : `after ${duration(l.after_seconds * 1000)}`})</span> — now:{' '}
          {commas([
            ...l.users.map(person),
            ...l.channel_ids.map((id) => <a href={`/channels/${id}`}>{channels.get(id) ?? 'a deleted channel'}</a>),
            ...l.empty_schedule_ids.map((id) => <span class="muted">nobody on call in {scheduleName(id)}</span>),
          ])}
          {l.reaches_anyone ? null : (
            <>
              {' '}
              <ReachesNobody when="now" />
            </>
          )}
        </li>
      ))}
    </ol>
  );
}

function PolicyForm(p: { session: ConsoleSession; action: string; who: Pageable; drawnAt: Date; policy?: PolicyRow; form?: Form; placed?: Placed }) {
  const f = p.form;
  const problem = (id: string) => p.placed?.at.get(id);
  const focus = (id: string) => (p.placed?.first?.id === id ? true : undefined);
  const level = (i: number) => p.policy?.levels[i];
  const after = (i: number) => (f ? (text(f, `after_${i}`) ?? '') : level(i) ? String(level(i)!.after_seconds) : i === 0 ? '0' : '');
  const picked = (i: number, kind: (typeof KINDS)[number], id: string) => (f ? all(f, `${kind.form}_${i}`).includes(id) : idsOf(level(i), kind).includes(id));
  // A form sent back refused shows every row it filled, wherever it was typed.
  const filled = f ? levelRowsOf(f).findLastIndex(isLevel) + 1 : (p.policy?.levels.length ?? 0);
  const inView = Math.min(MAX_LEVELS, Math.max(MIN_IN_VIEW, filled + 1));
  const row = (i: number) => (
    <fieldset>
      <legend>Level {i + 1}</legend>
      <Field id={`after_${i}`} label="Seconds after the incident opened" hint={i === 0 ? 'The first level pages at once (0).' : 'Later than the level before; leave empty for no such level.'} problem={problem(`after_${i}`)}>
        <input id={`after_${i}`} name={`after_${i}`} type="number" min={0} value={after(i)} autofocus={focus(`after_${i}`)} />
      </Field>
      {KINDS.filter((k) => p.who[k.list].length > 0).map((k) => (
        <div class="checks-list" role="group" aria-label={`${k.legend} of level ${i + 1}`}>
          <span class="muted">{k.legend}:</span>
          {p.who[k.list].map((x) => (
            <label>
              <input type="checkbox" name={`${k.form}_${i}`} value={x.id} checked={picked(i, k, x.id)} /> {x.name}
            </label>
          ))}
        </div>
      ))}
    </fieldset>
  );
  return (
    <form method="post" action={p.action} class="panel">
      <Csrf session={p.session} />
      <input type="hidden" name={DRAWN_AT} value={p.drawnAt.toISOString()} />
      {p.policy ? <Version tag={versionOf(p.policy)} /> : <Once />}
      <Field id="name" label="Name" problem={problem('name')}>
        <input id="name" name="name" type="text" required maxlength={128} autofocus={focus('name')} value={f ? (text(f, 'name') ?? '') : (p.policy?.name ?? '')} />
      </Field>
      {Array.from({ length: inView }, (_, i) => row(i))}
      {inView < MAX_LEVELS ? (
        <details>
          <summary>
            More levels ({inView + 1}–{MAX_LEVELS})
          </summary>
          {Array.from({ length: MAX_LEVELS - inView }, (_, i) => row(inView + i))}
        </details>
      ) : null}
      <Field id="repeat" label="Repeat the levels" hint="While nobody acknowledges: how many more rounds (0–10)." problem={problem('repeat')}>
        <input id="repeat" name="repeat" type="number" min={0} max={10} autofocus={focus('repeat')} value={f ? (text(f, 'repeat') ?? '0') : String(p.policy?.repeat ?? 0)} />
      </Field>
      <AckTimeoutField policy={p.policy} form={f} problem={problem('ack_timeout_seconds')} autofocus={focus('ack_timeout_seconds')} />
      <div class="field">
        <label>
          <input type="checkbox" name="is_default" value="true" checked={f ? text(f, 'is_default') === 'true' : (p.policy?.is_default ?? false)} /> The default: nodes
          without a policy of their own use it
        </label>
      </div>
      <button type="submit" class="primary">
        Save
      </button>
    </form>
  );
}

/** The acknowledgement timeout, in seconds like the levels; empty: acknowledgements never expire. */
function AckTimeoutField(p: { policy: PolicyRow | undefined; form: Form | undefined; problem: string | undefined; autofocus: true | undefined }) {
  const value = p.form ? (text(p.form, 'ack_timeout_seconds') ?? '') : String(p.policy?.ack_timeout_seconds ?? '');
  return (
    <Field
      id="ack_timeout_seconds"
      label="Acknowledgement timeout (seconds)"
      hint="Empty: an acknowledgement never expires. 60–86400: an incident still acknowledged that long after, and not resolved, reopens and pages level 1 again."
      problem={p.problem}
    >
      <input id="ack_timeout_seconds" name="ack_timeout_seconds" type="number" min={60} max={86_400} autofocus={p.autofocus} value={value} />
    </Field>
  );
}

/** The timeout field as a body's value: left empty, null (never). */
const ackTimeoutOf = (form: Form) => {
  const v = integer(form, 'ack_timeout_seconds');
  return v === undefined || v === '' ? null : v;
};

/** The form's level rows as a request body's levels, blank ones included. */
const levelRowsOf = (form: Form) =>
  Array.from({ length: MAX_LEVELS }, (_, i) => ({
    after_seconds: integer(form, `after_${i}`),
    channel_ids: all(form, `channels_${i}`),
    user_ids: all(form, `users_${i}`),
    schedule_ids: all(form, `schedules_${i}`),
  }));

/** A row that asks for a level: someone to page, or a time (level 1's preset 0 asks for nothing). */
const isLevel = (l: ReturnType<typeof levelRowsOf>[number], i: number) =>
  l.channel_ids.length + l.user_ids.length + l.schedule_ids.length > 0 || (l.after_seconds !== undefined && !(i === 0 && l.after_seconds === 0));

/** The form rows the policy's levels came from: level k of the body is row rows[k] of the form. */
const rowsOfLevels = (form: Form) => levelRowsOf(form).flatMap((l, i) => (isLevel(l, i) ? [i] : []));

const FORM_ORDER = ['name', ...Array.from({ length: MAX_LEVELS }, (_, i) => `after_${i}`), 'repeat', 'ack_timeout_seconds'];

/** What a level picked that is gone since the form was shown is, by name, else by the words of its checks. */
const GONE: Record<string, readonly [named: string, unnamed: string]> = {
  channel: ['channel', 'a channel picked'],
  user: ['person', 'a person picked'],
  schedule: ['schedule', 'a schedule picked'],
};

/** The form's hidden field saying when it was drawn: whatever was deleted after that was among its choices. */
const DRAWN_AT = 'drawn_at';

/**
 * A refused policy at the form's fields, by the form's level numbers: the body's `levels.1` is the
 * second row filled, which is Level 2 unless a row was left blank above it. The API's words naming
 * its fields ("the first level must have after_seconds 0", "the previous level's") are the form's.
 * A channel, person or schedule deleted since the form was shown is named as it was (its
 * deletion's audit row): the form sent only its id, and its check is gone from the form shown again.
 * Only a deletion of the field's own kind after the form's DRAWN_AT is named, so the answer says
 * no more than the form showed: no person's name for an id sent as a channel, and nothing the
 * audit log alone keeps (the poster may hold only the write scope, which may not read it). A
 * DRAWN_AT missing or not a time names nothing. One edited to earlier reaches back no further than
 * the poster's key was made (deletedNames): whatever was deleted since then existed while that key
 * could list it by name, as the form does, so it learns nothing its key could not have read.
 */
async function placedPolicy(deps: AppDeps, keyId: string, form: Form, details: ErrorDetail[] | undefined): Promise<Placed> {
  const rows = rowsOfLevels(form);
  const levels = policyOf(form).levels;
  const picked = (d: ErrorDetail) => {
    const [, k, type, j] = /^levels\.(\d+)\.(channel|user|schedule)_ids\.(\d+)$/.exec(d.field) ?? [];
    const id = k === undefined ? undefined : levels[Number(k)]?.[`${type as 'channel' | 'user' | 'schedule'}_ids`][Number(j)];
    return id === undefined ? undefined : { type: type!, id };
  };
  const drawnAt = new Date(text(form, DRAWN_AT) ?? '');
  const gone = Number.isNaN(drawnAt.getTime()) ? [] : await deletedNames(deps.sql, (details ?? []).flatMap((d) => picked(d) ?? []), drawnAt, keyId);
  const named = (k: string) => `Level ${(rows[Number(k)] ?? Number(k)) + 1}`;
  const worded = details?.map((d) => {
    const [, k, field] = /^levels\.(\d+)\.(after_seconds|[a-z]+_ids\.\d+)$/.exec(d.field) ?? [];
    if (k === undefined) return d;
    const message =
      field === 'after_seconds'
        ? d.message
            .replace(/^the first level must have after_seconds 0$/, 'must be 0: the first level pages at once')
            .replace(/^must be greater than the previous level's \((\d+)\)$/, (_, s: string) => `must be greater than ${named(String(Number(k) - 1)).toLowerCase()}'s (${s} s)`)
        : d.message.replace(/^is not a (channel|user|schedule)$/, (_, what: string) => {
            const p = picked(d);
            const name = gone.find((g) => g.type === p?.type && g.id === p.id)?.name;
            return name === undefined ? `${GONE[what]![1]} no longer exists; pick again` : `${GONE[what]![0]} "${name}" was deleted since this form was shown; pick again`;
          });
    return { ...d, message };
  });
  const spot = (path: string) => {
    if (path === 'name') return { id: 'name', label: 'Name' };
    if (path === 'repeat') return { id: 'repeat', label: 'Repeat the levels' };
    if (path === 'ack_timeout_seconds') return { id: path, label: 'Acknowledgement timeout' };
    if (path === 'levels') return { id: 'after_0', label: 'Levels' };
    const [, k, rest] = /^levels\.(\d+)(?:\.(.*))?$/.exec(path) ?? [];
    if (k === undefined) return undefined;
    return { id: `after_${rows[Number(k)] ?? 0}`, part: rest === 'after_seconds' ? `${named(k)} — wait` : named(k) };
  };
  return placeProblems(worded, spot, FORM_ORDER);
}

/** The policy a form describes, as a request body would (empty level rows left out). */
function policyOf(form: Form) {
  const levels = levelRowsOf(form).filter(isLevel);
  return { name: text(form, 'name')?.trim() ?? '', levels, repeat: integer(form, 'repeat') ?? 0, ack_timeout_seconds: ackTimeoutOf(form), is_default: text(form, 'is_default') === 'true' };
}

/** Everything a level may page, by name: a handful of each, never a fleet's worth. */
async function pageable(deps: AppDeps): Promise<Pageable> {
  const [channels, users, schedules] = await Promise.all([listChannels(deps.sql, undefined, LIST_LIMIT), listUsers(deps.sql, undefined, LIST_LIMIT), listSchedules(deps.sql, undefined, LIST_LIMIT)]);
  const pick = (rows: Array<{ id: string; name: string }>) => rows.map(({ id, name }) => ({ id, name }));
  return { channels: pick(channels), users: pick(users), schedules: schedules.map(({ id, name, time_zone }) => ({ id, name, time_zone })) };
}

export function policyRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  const write = requireScope(deps, 'write');
  const missing = (c: ConsoleContext) => refusal(c, deps, 404, 'No such policy', 'There is no escalation policy with that id; it may have been deleted.');

  const listPage = async (c: ConsoleContext, o: { form?: Form; placed?: Placed; message?: string; done?: string; status?: ContentfulStatusCode } = {}) => {
    const [frame, policies, who] = await Promise.all([chrome(c, deps), listPolicies(deps.sql, undefined, LIST_LIMIT), pageable(deps)]);
    const nobodyNow = await policiesPagingNobody(deps.sql, policies, deps.clock.now(), deps.transports?.email.configured);
    return html(
      c,
      <Page title="Escalation" chrome={frame} section="policies">
        <h1>Escalation policies</h1>
        <p class="muted">Who is paged for an incident, and when, until someone acknowledges it.</p>
        <Outcome done={o.done} problem={o.message} placed={o.placed} />
        {policies.length === 0 ? (
          <p class="empty panel">No policy yet: incidents open, but nobody is paged.</p>
        ) : (
          <Table head={['Policy', 'Pages']}>
            {policies.map((p) => (
              <tr>
                <td data-label="Policy">
                  <a href={`/policies/${p.id}`}>{p.name}</a>
                  {p.is_default ? <span class="sub">the default</span> : null}
                </td>
                <td data-label="Pages">
                  {nobodyNow.has(p.id) ? (
                    <span class="tag tag-nobody" title="No level reaches anyone now: nobody is on call in its schedules, and no channel or person it names can take a message (by email none can while SMTP_URL is unset)">
                      pages nobody now
                    </span>
                  ) : null}
                  <LevelsText policy={p} who={who} />
                </td>
              </tr>
            ))}
          </Table>
        )}
        {may(frame.session, 'write') ? (
          <>
            <h2>New policy</h2>
            {who.channels.length + who.users.length + who.schedules.length === 0 ? (
              <p>
                A policy pages channels, people or schedules: <a href="/channels">create a channel</a> first.
              </p>
            ) : (
              <PolicyForm session={frame.session} action="/policies" who={who} drawnAt={deps.clock.now()} {...(o.form ? { form: o.form } : {})} {...(o.placed ? { placed: o.placed } : {})} />
            )}
          </>
        ) : null}
      </Page>,
      o.status,
    );
  };

  const policyPage = async (c: ConsoleContext, policy: PolicyRow, o: { form?: Form; placed?: Placed; message?: string; done?: string; status?: ContentfulStatusCode; focus?: true } = {}) => {
    const now = deps.clock.now();
    // Only one who may delete it is told what deleting it leaves its nodes with.
    const writer = may(c.get('session'), 'write');
    const [frame, who, withoutEmail, levelsNow, fallback] = await Promise.all([
      chrome(c, deps),
      pageable(deps),
      levelsWithoutEmail(deps, policy),
      policyAt(deps.sql, policy, now, deps.transports?.email.configured),
      writer ? fallbackOf(policy) : undefined,
    ]);
    return html(
      c,
      <Page title={policy.name} chrome={frame} section="policies">
        <Back href="/policies">Escalation policies</Back>
        <h1>{policy.name}</h1>
        <Outcome done={o.done} problem={o.message} placed={o.placed} focus={o.focus} />
        <LevelsWithoutEmail warnings={withoutEmail} />
        <div class="panel">
          <LevelsText policy={policy} who={who} />
        </div>
        <h2>Who it pages now</h2>
        <div class="panel">
          <LevelsNow levels={levelsNow} who={who} now={now} />
        </div>
        {writer ? (
          <>
            <h2>Edit</h2>
            <PolicyForm session={frame.session} action={`/policies/${policy.id}`} who={who} drawnAt={deps.clock.now()} policy={policy} {...(o.form ? { form: o.form } : {})} {...(o.placed ? { placed: o.placed } : {})} />
            <h2>Delete</h2>
            <div class="actions">
              <AskFirst href={`/policies/${policy.id}/delete`} name={policy.name} />
              <span class="muted">
                <NodesLeft policy={policy} fallback={fallback} />
              </span>
            </div>
          </>
        ) : null}
      </Page>,
      o.status,
    );
  };

  app.get('/policies', ...guards.page, async (c) => listPage(c, c.req.query('deleted') !== undefined ? { done: 'Deleted.' } : {}));

  app.post('/policies', ...guards.action, write, async (c) => {
    const form = (await c.req.parseBody({ all: true })) as Form;
    return createOnce(
      c,
      deps,
      form,
      () => createPolicy(deps.sql, parse(CreatePolicy, policyOf(form)), deps.clock.now(), acting(c)),
      async (r) => listPage(c, { form, placed: await placedPolicy(deps, c.get('session').keyId, form, r.details), ...formRefusal(r, 'Not created') }),
      (made) => `/policies/${made.id}`,
    );
  });

  const find = async (c: ConsoleContext) => (isUuid(c.req.param('id') ?? '') ? getPolicy(deps.sql, c.req.param('id')!) : undefined);

  app.get('/policies/:id', ...guards.page, async (c) => {
    const policy = await find(c);
    if (!policy) return missing(c);
    return policyPage(c, policy, createdOrSaved(c.req.query('done')));
  });

  app.post('/policies/:id', ...guards.action, write, async (c) => {
    const policy = await find(c);
    if (!policy) return missing(c);
    const form = (await c.req.parseBody({ all: true })) as Form;
    const outcome = await attempt(
      () => updatePolicy(deps.sql, policy, parse(PatchPolicy, policyOf(form)), deps.clock.now(), acting(c), sentVersions(form)),
      (r) =>
        refusedSave(
          r,
          async (r) => policyPage(c, policy, { form, placed: await placedPolicy(deps, c.get('session').keyId, form, r.details), ...formRefusal(r, 'Not saved') }),
          () => getPolicy(deps.sql, policy.id),
          (current, message) => policyPage(c, current, { message, status: 412, focus: true }),
          (x) => x.name,
          { sql: deps.sql, type: 'escalation_policy', form },
        ),
    );
    if (outcome instanceof Response) return outcome;
    return c.redirect(`/policies/${policy.id}?done=saved`, 303);
  });

  /** The default policy its nodes would fall back to, were `policy` deleted: none for the default itself, which is not read. */
  const fallbackOf = async (policy: PolicyRow) => (policy.is_default ? undefined : getDefaultPolicy(deps.sql));

  const askDelete = async (policy: PolicyRow, frame: Chrome, problem?: string) => {
    const fallback = await fallbackOf(policy);
    return (
      <Confirm name={policy.name} back={`/policies/${policy.id}`} action={`/policies/${policy.id}/delete`} fields={versionField(versionOf(policy))} problem={problem} chrome={frame} section="policies">
        <NodesLeft policy={policy} fallback={fallback} />
        Its open incidents go on with their node's policy as it then is, said in their timelines, or stop escalating where there is none.
      </Confirm>
    );
  };
  app.get('/policies/:id/delete', ...guards.page, write, asking(deps, find, missing, askDelete));

  app.post('/policies/:id/delete', ...guards.action, write, confirmed(), async (c) => {
    const policy = await find(c);
    if (!policy) return missing(c);
    const form = (await c.req.parseBody()) as Form;
    const gone = await attempt(
      () => deletePolicy(deps.sql, policy.id, deps.clock.now(), acting(c), sentVersions(form)),
      (r) => refusedDelete(r, () => missing(c), () => getPolicy(deps.sql, policy.id), askAgain(c, deps, askDelete), (x) => x.name, { sql: deps.sql, type: 'escalation_policy', form }),
    );
    if (gone instanceof Response) return gone;
    return c.redirect('/policies?deleted', 303);
  });

  return app;
}

/**
 * What deleting a policy leaves its nodes with, as its page and its delete question both say it:
 * the default's page said "Its nodes fall back to the default policy, if there is another", of the
 * default itself.
 */
function NodesLeft(p: { policy: PolicyRow; fallback: PolicyRow | undefined }) {
  if (p.policy.is_default) {
    return (
      <>
        <b>It is the default.</b> Nodes without a policy of their own are left with none: their incidents open but page nobody until another
        policy is made the default (none becomes it by itself).{' '}
      </>
    );
  }
  return p.fallback ? (
    <>Nodes that name it fall back to the default policy, {p.fallback.name}. </>
  ) : (
    <>Nodes that name it are left with no policy (there is no default): their incidents open but page nobody. </>
  );
}
