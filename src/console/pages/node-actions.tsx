import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppDeps } from '../../http/deps.ts';
import { PatchNode } from '../../http/routes/nodes.ts';
import { parse } from '../../http/validation.ts';
import { patchedSchedule, SCHEDULE_DEFAULTS, type NodeRow } from '../../nodes/model.ts';
import { deleteNode, rotatePingKey, rotateToken, updateNode } from '../../nodes/service.ts';
import { getNode } from '../../nodes/store.ts';
import { crontabLines } from '../../jobs/model.ts';
import { isUtc } from '../../local-time.ts';
import { listPolicies } from '../../oncall/store.ts';
import type { PolicyRow } from '../../oncall/model.ts';
import type { ConsoleSession } from '../../access/sessions.ts';
import { validationFailed, type ErrorDetail } from '../../errors.ts';
import { acting, attempt, Field, formRefusal, requireScope } from '../acting.tsx';
import { areaText, Back, EngineUnset, Notice, Outcome, Snippet } from '../components.tsx';
import { chrome, engineAddress, nodePath } from '../context.ts';
import { integer, labelLines, labels, placeProblems, text, type Form, type Placed } from '../forms.ts';
import { refusedDelete, refusedSave, sentVersions, Version, versionField, versionOf } from '../version.tsx';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { Csrf, Page, type Chrome } from '../layout.tsx';
import { askAgain, asking, Confirm, confirmed } from '../confirm.tsx';
import { createOnce } from '../once.tsx';
import { html, refusal } from '../render.tsx';
import { ZoneInput } from '../zones.tsx';

// Changing a node from the console: edit, rotate its token, delete. Each calls the command the
// API's PATCH, POST …/token and DELETE call (src/nodes/service.ts), with the API's own schema.

/**
 * A node's page by its id (/nodes/:ref takes either): for an address kept to answer a form sent
 * again (createOnce), which a rename since would turn into a 404 by name.
 */
export const nodeIdPath = (n: Pick<NodeRow, 'id'>) => `/nodes/${n.id}`;

/** Policies to choose from: there are a handful, never a fleet's worth. */
export const POLICY_CHOICES = 200;

/**
 * The schedule fields as the API's `schedule`: none (a heartbeat node) while the expression is
 * empty, unless a schedule is `asked` for (the add form's "scheduled job"): then an empty
 * expression is sent as typed, for the API's check to refuse in its words. Empty grace and run
 * limit take the API's defaults (SCHEDULE_DEFAULTS: 300 s and none).
 */
export function scheduleOf(form: Form, asked = false) {
  const cron = text(form, 'schedule_cron')?.trim();
  if (cron === undefined && !asked) return null;
  return {
    cron: cron ?? '',
    time_zone: text(form, 'schedule_time_zone')?.trim(),
    grace_seconds: integer(form, 'schedule_grace_seconds'),
    max_run_seconds: integer(form, 'schedule_max_run_seconds') ?? null,
  };
}

/**
 * A time zone, grace or run limit typed without an expression, for a node with no schedule: saved,
 * the form would keep a heartbeat node and drop them without a word. The values the form shows such
 * a node with (UTC, 300, empty) are the defaults, asking for nothing.
 */
function scheduleWithoutCron(form: Form): ErrorDetail[] {
  const zone = text(form, 'schedule_time_zone')?.trim();
  const grace = integer(form, 'schedule_grace_seconds');
  const asked =
    (zone !== undefined && zone !== SCHEDULE_DEFAULTS.time_zone) ||
    (grace !== undefined && grace !== SCHEDULE_DEFAULTS.grace_seconds) ||
    text(form, 'schedule_max_run_seconds') !== undefined;
  return asked ? [{ field: 'schedule.cron', message: 'Set a cron expression first: time zone, grace and longest run apply to a schedule' }] : [];
}

/**
 * The empty choice stores no policy (null): the node follows whichever is the default when an incident
 * escalates (src/oncall/store.ts, policiesForNodes), unlike the default picked by name, which stays
 * even after another becomes the default. Labelled by what it does, with what that is now.
 */
const followTheDefault = (policies: PolicyRow[]) => {
  const now = policies.find((x) => x.is_default);
  return `Follow the default (${now ? `now: ${now.name}` : 'none now: nobody is paged'})`;
};

// The fields the edit form and the add form (node-add.tsx) share: each is given the value to show
// (as sent, when the form comes back refused), the problem found in it, and `focus` when it is the
// first input refused (placedNode), which has the focus as in every console form.

export const NameField = (p: { value: string; problem: string | undefined; focus: true | undefined; hint: string }) => (
  <Field id="name" label="Name" hint={p.hint} problem={p.problem}>
    <input id="name" name="name" type="text" required maxlength={128} value={p.value} spellcheck={false} autofocus={p.focus} />
  </Field>
);

export const LabelsField = (p: { value: string; problem: string | undefined; focus: true | undefined }) => (
  <Field id="labels" label="Labels" hint="One key=value per line." problem={p.problem}>
    <textarea id="labels" name="labels" spellcheck={false} autofocus={p.focus}>
      {areaText(p.value)}
    </textarea>
  </Field>
);

export const NumberField = (p: { name: string; label: Child; hint: Child; min: number; value: string; problem: string | undefined; focus: true | undefined; required?: boolean }) => (
  <Field id={p.name} label={p.label} hint={p.hint} problem={p.problem}>
    <input id={p.name} name={p.name} type="number" min={p.min} required={p.required ?? true} value={p.value} autofocus={p.focus} />
  </Field>
);

export const HEARTBEAT_FIELDS = {
  heartbeat_interval_seconds: { label: 'Heartbeat interval (seconds)', hint: 'How often the agent reports; not used while a schedule is set.', min: 1 },
  failures_for_down: { label: 'Missed heartbeats before down', hint: 'Down once this many intervals (plus grace) pass in silence.', min: 1 },
  grace_seconds: { label: 'Grace (seconds)', hint: 'Extra time before a silent node is down.', min: 0 },
  successes_for_recovery: { label: 'Ok heartbeats to recover', hint: 'Consecutive ok reports before healthy again.', min: 1 },
} as const;

/** A scheduled job reports its runs by success pings, not heartbeats: its recovery is counted in runs. */
export const JOB_RECOVERY = { label: 'Good runs to recover', hint: 'Consecutive runs pinging success before healthy again.' } as const;

/** The schedule's inputs, as the API's `schedule.<field>` with "_" for ".", and their labels. */
const SCHEDULE_LABELS = {
  schedule_cron: 'Cron expression',
  schedule_time_zone: 'Time zone',
  schedule_grace_seconds: 'Grace after the scheduled time (seconds)',
  schedule_max_run_seconds: 'Longest run (seconds)',
} as const;
const SCHEDULE_IDS = Object.keys(SCHEDULE_LABELS);
const HEARTBEAT_IDS = ['heartbeat_interval_seconds', 'failures_for_down', 'grace_seconds'];

/** The node forms' inputs by id (an API field's name), labelled as the forms label them. */
const NODE_LABELS: Record<string, string> = {
  name: 'Name',
  labels: 'Labels',
  ...Object.fromEntries(Object.entries(HEARTBEAT_FIELDS).map(([id, f]) => [id, f.label])),
  ...SCHEDULE_LABELS,
  escalation_policy_id: 'Escalation policy',
};

/** The add form's inputs top down, as it shows them for a heartbeat node or a job (node-add.tsx). */
export const addOrder = (job: boolean): string[] => ['name', ...(job ? SCHEDULE_IDS : HEARTBEAT_IDS), 'successes_for_recovery', 'labels', 'escalation_policy_id'];
const EDIT_ORDER = ['name', 'labels', ...HEARTBEAT_IDS, 'successes_for_recovery', ...SCHEDULE_IDS, 'escalation_policy_id'];

/**
 * A refused node at the inputs of a node form, `order` top down: `schedule.cron` at the Cron
 * expression, a problem inside an input (`labels.env`) at it with its path in front. The first
 * one refused is the summary's link and has the focus, as in every console form (placeProblems);
 * a job's recovery is counted in runs (JOB_RECOVERY).
 */
export function placedNode(details: ErrorDetail[] | undefined, order: string[], job: boolean): Placed {
  const spot = (path: string) => {
    const id = path.replace(/^schedule\./, 'schedule_');
    if (id === 'successes_for_recovery' && job) return { id, label: JOB_RECOVERY.label };
    if (NODE_LABELS[id]) return { id, label: NODE_LABELS[id] };
    const whole = path.split('.')[0]!;
    return NODE_LABELS[whole] ? { id: whole, part: path } : undefined;
  };
  return placeProblems(details, spot, order);
}

/** What a node form needs of a refusal placed on it: each input's problem, and whether it has the focus. */
export const refusedAt = (placed: Placed) => (id: string) => ({ problem: placed.at.get(id), focus: placed.first?.id === id ? (true as const) : undefined });

/** A schedule's four fields, each with its value, its problem (`schedule.<field>`) and the focus if it is the first refused. */
export function ScheduleFields(p: { cronHint: string; value: (name: string) => string; placed: Placed }) {
  const at = refusedAt(p.placed);
  return (
    <>
      <Field id="schedule_cron" label={SCHEDULE_LABELS.schedule_cron} hint={p.cronHint} problem={at('schedule_cron').problem}>
        <input id="schedule_cron" name="schedule_cron" type="text" maxlength={256} value={p.value('schedule_cron')} spellcheck={false} autofocus={at('schedule_cron').focus} />
      </Field>
      <Field id="schedule_time_zone" label={SCHEDULE_LABELS.schedule_time_zone} hint="The clock the expression is read on." problem={at('schedule_time_zone').problem}>
        <ZoneInput id="schedule_time_zone" value={p.value('schedule_time_zone')} autofocus={at('schedule_time_zone').focus} />
      </Field>
      <Field id="schedule_grace_seconds" label={SCHEDULE_LABELS.schedule_grace_seconds} hint="How late a run's success ping may come before the job is down." problem={at('schedule_grace_seconds').problem}>
        <input id="schedule_grace_seconds" name="schedule_grace_seconds" type="number" min={0} value={p.value('schedule_grace_seconds')} autofocus={at('schedule_grace_seconds').focus} />
      </Field>
      <Field id="schedule_max_run_seconds" label={SCHEDULE_LABELS.schedule_max_run_seconds} hint="A run that pinged its start is down after this long without an end. Empty: no limit." problem={at('schedule_max_run_seconds').problem}>
        <input id="schedule_max_run_seconds" name="schedule_max_run_seconds" type="number" min={1} value={p.value('schedule_max_run_seconds')} autofocus={at('schedule_max_run_seconds').focus} />
      </Field>
    </>
  );
}

export const PolicyField = (p: { policies: PolicyRow[]; value: string; problem: string | undefined; focus: true | undefined }) => (
  <Field
    id="escalation_policy_id"
    label="Escalation policy"
    hint="Following the default, the node takes whichever policy is the default when it escalates, a new default included; a policy picked by name stays its own."
    problem={p.problem}
  >
    <select id="escalation_policy_id" name="escalation_policy_id" autofocus={p.focus}>
      <option value="" selected={p.value === ''}>
        {followTheDefault(p.policies)}
      </option>
      {p.policies.map((x) => (
        <option value={x.id} selected={p.value === x.id}>
          {x.name}
        </option>
      ))}
    </select>
  </Field>
);

function EditForm(p: { node: NodeRow; policies: PolicyRow[]; session: ConsoleSession; form?: Form; placed: Placed }) {
  const f = p.form;
  const value = (name: string, current: string | number) => (f ? (text(f, name) ?? '') : String(current));
  const at = refusedAt(p.placed);
  const schedule = p.node.schedule;
  const scheduled = (name: string) => {
    const field = name.slice('schedule_'.length) as keyof NonNullable<NodeRow['schedule']>;
    return f ? (text(f, name) ?? '') : schedule ? String(schedule[field] ?? '') : String(SCHEDULE_DEFAULTS[field as keyof typeof SCHEDULE_DEFAULTS] ?? '');
  };
  const number = (name: keyof typeof HEARTBEAT_FIELDS) => <NumberField name={name} {...HEARTBEAT_FIELDS[name]} value={value(name, p.node[name])} {...at(name)} />;
  return (
    <form method="post" action={`${nodePath(p.node)}/edit`} class="panel">
      <Csrf session={p.session} />
      <Version tag={versionOf(p.node)} />
      <NameField value={value('name', p.node.name)} {...at('name')} hint="1–128 characters of A–Z a–z 0–9 . _ : -; agents naming the node by name must follow a rename." />
      <LabelsField value={f ? (text(f, 'labels') ?? '') : labelLines(p.node.labels)} {...at('labels')} />
      {number('heartbeat_interval_seconds')}
      {number('failures_for_down')}
      {number('grace_seconds')}
      {p.node.schedule ? (
        <NumberField name="successes_for_recovery" {...HEARTBEAT_FIELDS.successes_for_recovery} {...JOB_RECOVERY} value={value('successes_for_recovery', p.node.successes_for_recovery)} {...at('successes_for_recovery')} />
      ) : (
        number('successes_for_recovery')
      )}
      <fieldset>
        <legend>Schedule</legend>
        <ScheduleFields
          cronHint="A scheduled job, due by this schedule instead of heartbeats: five fields (minute hour day month weekday), six with seconds first, or @daily. Empty: a heartbeat node."
          value={scheduled}
          placed={p.placed}
        />
      </fieldset>
      <PolicyField policies={p.policies} value={f ? (text(f, 'escalation_policy_id') ?? '') : (p.node.escalation_policy_id ?? '')} {...at('escalation_policy_id')} />
      <div class="actions">
        <button type="submit" class="primary">
          Save
        </button>
        <a href={nodePath(p.node)}>Cancel</a>
      </div>
    </form>
  );
}

/**
 * A node's token, shown this once (just created, or rotated), with what its agent sends: the
 * heartbeat as README's "A first node, by hand" sends it, and for a scheduled job the ping its
 * crontab sends, as "Scheduled jobs and ping URLs" does.
 */
export function TokenPage(p: { title: string; node: NodeRow; token: string; deps: AppDeps; chrome: Chrome; children?: Child }) {
  const ping = engineAddress(p.deps, `/ping/${p.node.ping_key}`);
  return (
    <Page title={p.title} chrome={p.chrome} section="fleet">
      <Back href={nodePath(p.node)}>{p.node.name}</Back>
      <h1>{p.title}</h1>
      <Notice kind="ok">
        <p>{p.children}</p>
        <p class="secret" id="token">
          {p.token}
        </p>
      </Notice>
      {p.node.schedule ? (
        <>
          <h2>Ping it from the job</h2>
          <p>After each successful run (its ping URL needs no token):</p>
          <Snippet id="ping-snippet">{`curl -fsS -m 10 --retry 5 ${ping}`}</Snippet>
          <p>Or wrapped, with its start, exit code and output, in its crontab{isUtc(p.node.schedule.time_zone) ? '' : ` (read on ${p.node.schedule.time_zone}'s clock: cronie and systemd-cron honour CRON_TZ; Debian's and Ubuntu's cron does not, so there write the time on the host's clock)`}:</p>
          <Snippet id="crontab-snippet">{crontabLines(p.node.schedule, `lifeline run --ping-url ${ping} -- your-job.sh`).join('\n')}</Snippet>
        </>
      ) : null}
      <h2>{p.node.schedule ? 'Or send heartbeats with the token' : 'Send a heartbeat'}</h2>
      <Snippet id="heartbeat-snippet">
        {`curl -s -XPOST ${engineAddress(p.deps, '/v1/heartbeats')} -H "authorization: Bearer ${p.token}" \\\n  -H 'content-type: application/json' -d '{"status":"ok"}'`}
      </Snippet>
      {p.deps.publicUrl === undefined ? <EngineUnset /> : null}
      <p>
        <a href={nodePath(p.node)}>Go to {p.node.name}</a>
      </p>
    </Page>
  );
}

export function nodeActionRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  const write = requireScope(deps, 'write');

  const find = async (c: ConsoleContext) => getNode(deps.sql, c.req.param('ref') ?? '');
  const missing = (c: ConsoleContext) => refusal(c, deps, 404, 'No such node', 'There is no node with that name or id. It may have been deleted.');

  const editPage = async (c: ConsoleContext, node: NodeRow, o: { form?: Form; details?: ErrorDetail[]; message?: string; status?: ContentfulStatusCode; focus?: true } = {}) => {
    const [frame, policies] = await Promise.all([chrome(c, deps), listPolicies(deps.sql, undefined, POLICY_CHOICES)]);
    const placed = placedNode(o.details, EDIT_ORDER, node.schedule !== null);
    return html(
      c,
      <Page title={`Edit ${node.name}`} chrome={frame} section="fleet">
        <Back href={nodePath(node)}>{node.name}</Back>
        <h1>Edit {node.name}</h1>
        <Outcome problem={o.message} placed={placed} focus={o.focus} />
        <EditForm node={node} policies={policies} session={frame.session} placed={placed} {...(o.form ? { form: o.form } : {})} />
      </Page>,
      o.status,
    );
  };

  app.get('/nodes/:ref/edit', ...guards.page, write, async (c) => {
    const node = await find(c);
    return node ? editPage(c, node) : missing(c);
  });

  app.post('/nodes/:ref/edit', ...guards.action, write, async (c) => {
    const node = await find(c);
    if (!node) return missing(c);
    const form = (await c.req.parseBody()) as Form;
    const parsedLabels = labels(text(form, 'labels'), 'labels');
    const schedule = scheduleOf(form);
    const input = {
      name: text(form, 'name')?.trim() ?? '',
      labels: parsedLabels.labels,
      schedule,
      // A scheduled job keeps the interval it had: it is used again if the schedule is cleared.
      ...(schedule ? {} : { heartbeat_interval_seconds: integer(form, 'heartbeat_interval_seconds') }),
      grace_seconds: integer(form, 'grace_seconds'),
      failures_for_down: integer(form, 'failures_for_down'),
      successes_for_recovery: integer(form, 'successes_for_recovery'),
      escalation_policy_id: text(form, 'escalation_policy_id') ?? null,
    };
    const outcome = await attempt(
      async () => {
        const problems = [...parsedLabels.problems, ...(schedule || node.schedule ? [] : scheduleWithoutCron(form))];
        if (problems.length) throw validationFailed(problems);
        const given = parse(PatchNode, input);
        // The form sends the whole schedule: an emptied field takes the default, not the stored value.
        // It arrives as no value, and updateNode lays the values given over the stored schedule, so
        // without the defaults filled in here an emptied grace of 300 s would stay 300 s.
        return updateNode(deps.sql, node.id, { ...given, schedule: patchedSchedule(null, given.schedule ?? null) }, deps.clock.now(), acting(c), deps, sentVersions(form));
      },
      (r) =>
        refusedSave(
          r,
          (r) => editPage(c, node, { form, ...formRefusal(r, 'Not saved') }),
          () => getNode(deps.sql, node.id),
          (current, message) => editPage(c, current, { message, status: 412, focus: true }),
          (n) => n.name,
          { sql: deps.sql, type: 'node', form },
        ),
    );
    if (outcome instanceof Response) return outcome;
    // This process forgets a renamed node's cached name and pages now; the others when the NOTIFY arrives.
    deps.identity.forget();
    deps.publicChanges?.changed(['pages']);
    return c.redirect(`${nodePath(outcome)}?done=saved`, 303);
  });

  // Both rotations cut off what holds the old one (an agent, a crontab) at once: asked first, and
  // by id, so a rename between the question and the answer cannot lose the node.
  app.get(
    '/nodes/:ref/token',
    ...guards.page,
    write,
    asking(deps, find, missing, (node, frame) => (
      <Confirm verb="Replace" name={`the token of ${node.name}`} back={nodePath(node)} backLabel={node.name} action={`${nodeIdPath(node)}/token`} once chrome={frame} section="fleet">
        The old token stops working at once: every agent sending with it is refused until it has the new one, shown only on the next page.
      </Confirm>
    )),
  );

  app.post('/nodes/:ref/token', ...guards.action, write, confirmed(), async (c) => {
    const node = await find(c);
    if (!node) return missing(c);
    // Once per form, like a create: a reload that re-sent the POST would rotate again and kill the
    // token just pasted into the agent. The frame is read first: once the rotation commits the old
    // token is dead, so only drawing may follow, lest a failed read lose the one that works.
    const frame = await chrome(c, deps);
    return createOnce(
      c,
      deps,
      (await c.req.parseBody()) as Form,
      async () => {
        const rotated = await rotateToken(deps.sql, node.id, deps.clock.now(), acting(c));
        deps.identity.forget();
        return rotated;
      },
      () => missing(c),
      (made) => nodeIdPath(made.node),
      ({ node: rotated, token }) =>
        html(
          c,
          <TokenPage title={`New token for ${rotated.name}`} node={rotated} token={token} deps={deps} chrome={frame}>
            The old token no longer works. This one is shown only now: give it to the node's agent.
          </TokenPage>,
        ),
    );
  });

  app.get(
    '/nodes/:ref/ping-key',
    ...guards.page,
    write,
    asking(deps, find, missing, (node, frame) => (
      <Confirm verb="Replace" name={`the ping URL of ${node.name}`} back={nodePath(node)} backLabel={node.name} action={`${nodeIdPath(node)}/ping-key`} once chrome={frame} section="fleet">
        The old URL stops working at once: a crontab still pinging it is answered 404, so the job goes down once a scheduled time's grace has
        passed, until the crontab has the new one.
      </Confirm>
    )),
  );

  // Once per form, as the token: a reload that re-sent the POST would rotate again, killing the URL
  // just put in the crontab.
  app.post('/nodes/:ref/ping-key', ...guards.action, write, confirmed(), async (c) => {
    const node = await find(c);
    if (!node) return missing(c);
    return createOnce(
      c,
      deps,
      (await c.req.parseBody()) as Form,
      async () => {
        const rotated = await rotatePingKey(deps.sql, node.id, deps.clock.now(), acting(c));
        deps.ingestor?.forgetPingKey(node.ping_key);
        return rotated;
      },
      () => missing(c),
      (made) => nodeIdPath(made),
      (made) => c.redirect(`${nodePath(made)}?done=ping-key`, 303),
    );
  });

  const askDelete = (node: NodeRow, frame: Chrome, problem?: string) => (
    <Confirm name={node.name} back={nodePath(node)} action={`${nodePath(node)}/delete`} fields={versionField(versionOf(node))} problem={problem} chrome={frame} section="fleet">
      Its health, transitions, uptime and token go with it, and its open incidents are resolved (everyone who was paged is told). Its name can be used
      again at once, for a node that starts afresh.
    </Confirm>
  );
  app.get('/nodes/:ref/delete', ...guards.page, write, asking(deps, find, missing, askDelete));

  app.post('/nodes/:ref/delete', ...guards.action, write, confirmed(), async (c) => {
    const node = await find(c);
    if (!node) return missing(c);
    const form = (await c.req.parseBody()) as Form;
    const gone = await attempt(
      () => deleteNode(deps.sql, node.id, deps.clock.now(), acting(c), deps, sentVersions(form)),
      (r) => refusedDelete(r, () => missing(c), () => getNode(deps.sql, node.id), askAgain(c, deps, askDelete), (n) => n.name, { sql: deps.sql, type: 'node', form }),
    );
    if (gone instanceof Response) return gone;
    deps.identity.forget();
    deps.publicChanges?.changed();
    deps.ingestor?.forgetNode(node.id, node.ping_key);
    return c.redirect('/?deleted', 303);
  });

  return app;
}
