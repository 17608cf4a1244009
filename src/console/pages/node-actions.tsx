import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppDeps } from '../../http/deps.ts';
import { PatchNode } from '../../http/routes/nodes.ts';
import { parse } from '../../http/validation.ts';
import { patchedSchedule, SCHEDULE_DEFAULTS, type NodeRow } from '../../nodes/model.ts';
import { deleteNode, rotatePingKey, rotateToken, updateNode } from '../../nodes/service.ts';
import { getNode } from '../../nodes/store.ts';
import { listPolicies } from '../../oncall/store.ts';
import type { PolicyRow } from '../../oncall/model.ts';
import type { ConsoleSession } from '../../access/sessions.ts';
import { validationFailed, type ErrorDetail } from '../../errors.ts';
import { acting, attempt, Field, requireScope } from '../acting.tsx';
import { areaText, Back, Notice, Outcome } from '../components.tsx';
import { chrome } from '../context.ts';
import { fieldProblems, integer, labelLines, labels, problemAt, text, type Form } from '../forms.ts';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { ConfirmDelete, Csrf, Page } from '../layout.tsx';
import { createOnce } from '../once.tsx';
import { html, refusal } from '../render.tsx';
import { ZoneInput } from '../zones.tsx';

// Changing a node from the console: edit, rotate its token, delete. Each calls the command the
// API's PATCH, POST …/token and DELETE call (src/nodes/service.ts), with the API's own schema.

const nodePath = (n: Pick<NodeRow, 'name'>) => `/nodes/${encodeURIComponent(n.name)}`;

/** Policies to choose from: there are a handful, never a fleet's worth. */
const POLICY_CHOICES = 200;

/**
 * The schedule fields as the API's `schedule`: none (a heartbeat node) while the expression is
 * empty. Empty grace and run limit take the API's defaults (0 and none).
 */
function scheduleOf(form: Form) {
  const cron = text(form, 'schedule_cron')?.trim();
  if (cron === undefined) return null;
  return {
    cron,
    time_zone: text(form, 'schedule_time_zone')?.trim(),
    grace_seconds: integer(form, 'schedule_grace_seconds'),
    max_run_seconds: integer(form, 'schedule_max_run_seconds') ?? null,
  };
}

/**
 * A time zone, grace or run limit typed without an expression, for a node with no schedule: saved,
 * the form would keep a heartbeat node and drop them without a word. The values the form shows such
 * a node with (UTC, 0, empty) are the defaults, asking for nothing.
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

function EditForm(p: { node: NodeRow; policies: PolicyRow[]; session: ConsoleSession; form?: Form; details?: ErrorDetail[] }) {
  const f = p.form;
  const value = (name: string, current: string | number) => (f ? (text(f, name) ?? '') : String(current));
  const problems = fieldProblems(p.details);
  const problem = (name: string) => problems.get(name);
  const schedule = p.node.schedule;
  const scheduled = (name: string, field: keyof NonNullable<NodeRow['schedule']>, fallback: string) =>
    f ? (text(f, name) ?? '') : schedule ? String(schedule[field] ?? '') : fallback;
  const scheduleProblem = (field: string) => problemAt(p.details, `schedule.${field}`);
  const policy = f ? (text(f, 'escalation_policy_id') ?? '') : (p.node.escalation_policy_id ?? '');
  const number = (name: keyof NodeRow & string, label: string, hint: string, min: number) => (
    <Field id={name} label={label} hint={hint} problem={problem(name)}>
      <input id={name} name={name} type="number" min={min} required value={value(name, p.node[name] as number)} />
    </Field>
  );
  return (
    <form method="post" action={`${nodePath(p.node)}/edit`} class="panel">
      <Csrf session={p.session} />
      <Field id="name" label="Name" hint="1–128 characters of A–Z a–z 0–9 . _ : -; agents naming the node by name must follow a rename." problem={problem('name')}>
        <input id="name" name="name" type="text" required maxlength={128} value={value('name', p.node.name)} spellcheck={false} />
      </Field>
      <Field id="labels" label="Labels" hint="One key=value per line." problem={problem('labels')}>
        <textarea id="labels" name="labels" spellcheck={false}>
          {areaText(f ? (text(f, 'labels') ?? '') : labelLines(p.node.labels))}
        </textarea>
      </Field>
      {number('heartbeat_interval_seconds', 'Heartbeat interval (seconds)', 'How often the agent reports; not used while a schedule is set.', 1)}
      {number('failures_for_down', 'Missed heartbeats before down', 'Down once this many intervals (plus grace) pass in silence.', 1)}
      {number('grace_seconds', 'Grace (seconds)', 'Extra time before a silent node is down.', 0)}
      {number('successes_for_recovery', 'Ok heartbeats to recover', 'Consecutive ok reports before healthy again.', 1)}
      <fieldset>
        <legend>Schedule</legend>
        <Field
          id="schedule_cron"
          label="Cron expression"
          hint="A scheduled job, due by this schedule instead of heartbeats: five fields (minute hour day month weekday), six with seconds first, or @daily. Empty: a heartbeat node."
          problem={scheduleProblem('cron')}
        >
          <input id="schedule_cron" name="schedule_cron" type="text" maxlength={256} value={scheduled('schedule_cron', 'cron', '')} spellcheck={false} />
        </Field>
        <Field id="schedule_time_zone" label="Time zone" hint="The clock the expression is read on." problem={scheduleProblem('time_zone')}>
          <ZoneInput id="schedule_time_zone" value={scheduled('schedule_time_zone', 'time_zone', 'UTC')} problem={scheduleProblem('time_zone')} />
        </Field>
        <Field id="schedule_grace_seconds" label="Grace after the scheduled time (seconds)" hint="How late a run's success ping may come before the job is down." problem={scheduleProblem('grace_seconds')}>
          <input id="schedule_grace_seconds" name="schedule_grace_seconds" type="number" min={0} value={scheduled('schedule_grace_seconds', 'grace_seconds', '0')} />
        </Field>
        <Field id="schedule_max_run_seconds" label="Longest run (seconds)" hint="A run that pinged its start is down after this long without an end. Empty: no limit." problem={scheduleProblem('max_run_seconds')}>
          <input id="schedule_max_run_seconds" name="schedule_max_run_seconds" type="number" min={1} value={scheduled('schedule_max_run_seconds', 'max_run_seconds', '')} />
        </Field>
      </fieldset>
      <Field
        id="escalation_policy_id"
        label="Escalation policy"
        hint="Following the default, the node takes whichever policy is the default when it escalates, a new default included; a policy picked by name stays its own."
        problem={problem('escalation_policy_id')}
      >
        <select id="escalation_policy_id" name="escalation_policy_id">
          <option value="" selected={policy === ''}>
            {followTheDefault(p.policies)}
          </option>
          {p.policies.map((x) => (
            <option value={x.id} selected={policy === x.id}>
              {x.name}
            </option>
          ))}
        </select>
      </Field>
      <div class="actions">
        <button type="submit" class="primary">
          Save
        </button>
        <a href={nodePath(p.node)}>Cancel</a>
      </div>
    </form>
  );
}

export function nodeActionRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  const write = requireScope('write');

  const find = async (c: ConsoleContext) => getNode(deps.sql, c.req.param('ref') ?? '');
  const missing = (c: ConsoleContext) => refusal(c, 404, 'No such node', 'There is no node with that name or id. It may have been deleted.');

  const editPage = async (c: ConsoleContext, node: NodeRow, o: { form?: Form; details?: ErrorDetail[]; message?: string; status?: ContentfulStatusCode } = {}) => {
    const [frame, policies] = await Promise.all([chrome(c, deps), listPolicies(deps.sql, undefined, POLICY_CHOICES)]);
    return html(
      c,
      <Page title={`Edit ${node.name}`} chrome={frame} section="fleet">
        <Back href={nodePath(node)}>{node.name}</Back>
        <h1>Edit {node.name}</h1>
        <Outcome problem={o.message} />
        <EditForm node={node} policies={policies} session={frame.session} {...(o.form ? { form: o.form } : {})} {...(o.details ? { details: o.details } : {})} />
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
        return updateNode(deps.sql, node.id, { ...given, schedule: patchedSchedule(null, given.schedule ?? null) }, deps.clock.now(), acting(c));
      },
      (r) => editPage(c, node, { form, ...(r.details ? { details: r.details } : {}), message: r.details ? 'Some fields need another look.' : r.message, status: r.code === 'conflict' ? 409 : 400 }),
    );
    if (outcome instanceof Response) return outcome;
    // This process forgets a renamed node's cached name and pages now; the others when the NOTIFY arrives.
    deps.identity.forget();
    deps.publicChanges?.changed(['pages']);
    return c.redirect(`${nodePath(outcome)}?done=saved`, 303);
  });

  app.post('/nodes/:ref/token', ...guards.action, write, async (c) => {
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
      (made) => nodePath(made.node),
      ({ node: rotated, token }) =>
        html(
          c,
          <Page title={`New token for ${rotated.name}`} chrome={frame} section="fleet">
            <Back href={nodePath(rotated)}>{rotated.name}</Back>
            <h1>New token for {rotated.name}</h1>
            <Notice kind="ok">
              <p>The old token no longer works. This one is shown only now: give it to the node's agent.</p>
              <p class="secret" id="token">
                {token}
              </p>
            </Notice>
          </Page>,
        ),
    );
  });

  app.post('/nodes/:ref/ping-key', ...guards.action, write, async (c) => {
    const node = await find(c);
    if (!node) return missing(c);
    const rotated = await rotatePingKey(deps.sql, node.id, deps.clock.now());
    deps.ingestor?.forgetPingKey(node.ping_key);
    return c.redirect(`${nodePath(rotated)}?done=ping-key`, 303);
  });

  app.get('/nodes/:ref/delete', ...guards.page, write, async (c) => {
    const node = await find(c);
    if (!node) return missing(c);
    const frame = await chrome(c, deps);
    return html(
      c,
      <ConfirmDelete name={node.name} back={nodePath(node)} action={`${nodePath(node)}/delete`} chrome={frame} section="fleet">
        Its health, transitions, uptime and token go with it, and its open incidents are resolved (everyone who was paged is told). Its name can be
        used again at once, for a node that starts afresh.
      </ConfirmDelete>,
    );
  });

  app.post('/nodes/:ref/delete', ...guards.action, write, async (c) => {
    const node = await find(c);
    if (!node) return missing(c);
    await deleteNode(deps.sql, node.id, deps.clock.now(), acting(c));
    deps.identity.forget();
    deps.publicChanges?.changed();
    deps.ingestor?.forgetPingKey(node.ping_key);
    return c.redirect(`/?deleted=${encodeURIComponent(node.name)}`, 303);
  });

  return app;
}
