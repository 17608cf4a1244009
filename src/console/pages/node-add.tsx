import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConsoleSession } from '../../access/sessions.ts';
import { validationFailed, type ErrorDetail } from '../../errors.ts';
import type { AppDeps } from '../../http/deps.ts';
import { CreateNode } from '../../http/routes/nodes.ts';
import { parse } from '../../http/validation.ts';
import { NODE_DEFAULTS, SCHEDULE_DEFAULTS } from '../../nodes/model.ts';
import { createNode } from '../../nodes/service.ts';
import type { PolicyRow } from '../../oncall/model.ts';
import { listPolicies } from '../../oncall/store.ts';
import { acting, formRefusal, requireScope } from '../acting.tsx';
import { Back, Outcome } from '../components.tsx';
import { chrome } from '../context.ts';
import { integer, labels, text, type Form, type Placed } from '../forms.ts';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { Csrf, Page } from '../layout.tsx';
import { createOnce, Once } from '../once.tsx';
import { html } from '../render.tsx';
import { addOrder, HEARTBEAT_FIELDS, JOB_RECOVERY, LabelsField, NameField, nodeIdPath, NumberField, placedNode, POLICY_CHOICES, PolicyField, refusedAt, scheduleOf, ScheduleFields, TokenPage } from './node-actions.tsx';

// Adding a node from the console: POST /v1/nodes's schema and its command (createNode), so a team's
// first node needs no API call, and the form refuses what the API refuses, in its words. Its own
// address, not /nodes/new: "new" is a node's name like any other, whose page lives at /nodes/new.

export const ADD_NODE_PATH = '/new-node';

type Kind = 'heartbeat' | 'job';
const kindOf = (form: Form | undefined): Kind => (form && text(form, 'kind') === 'job' ? 'job' : 'heartbeat');

/** Words for a field both kinds share: each kind's, the stylesheet showing the checked kind's. */
const KindWords = (p: { heartbeat: string; job: string }) => (
  <>
    <span class="kind-heartbeat">{p.heartbeat}</span>
    <span class="kind-job">{p.job}</span>
  </>
);

/**
 * The form as POST /v1/nodes's body: a heartbeat node sends its interval, missed beats and grace;
 * a job its schedule (an empty expression refused by the API's check, not taken for a heartbeat
 * node). The other kind's fields, hidden by the stylesheet but still sent, are left out. An empty
 * field is left out too, taking the API's default.
 */
function requestOf(form: Form) {
  const parsedLabels = labels(text(form, 'labels'), 'labels');
  if (parsedLabels.problems.length) throw validationFailed(parsedLabels.problems);
  const job = kindOf(form) === 'job';
  return parse(CreateNode, {
    name: text(form, 'name')?.trim() ?? '',
    labels: parsedLabels.labels,
    schedule: job ? scheduleOf(form, true) : null,
    ...(job
      ? {}
      : {
          heartbeat_interval_seconds: integer(form, 'heartbeat_interval_seconds'),
          failures_for_down: integer(form, 'failures_for_down'),
          grace_seconds: integer(form, 'grace_seconds'),
        }),
    successes_for_recovery: integer(form, 'successes_for_recovery'),
    escalation_policy_id: text(form, 'escalation_policy_id') ?? null,
  });
}

function AddForm(p: { policies: PolicyRow[]; session: ConsoleSession; form?: Form | undefined; placed: Placed }) {
  const f = p.form;
  // A fresh form starts from the API's defaults; a refused one shows what was sent.
  const value = (name: string, initial: string | number | null) => (f ? (text(f, name) ?? '') : String(initial ?? ''));
  const at = refusedAt(p.placed);
  const kind = kindOf(f);
  const number = (name: keyof typeof HEARTBEAT_FIELDS) => (
    <NumberField name={name} {...HEARTBEAT_FIELDS[name]} value={value(name, NODE_DEFAULTS[name])} {...at(name)} required={false} />
  );
  const scheduled = (name: string) => value(name, name === 'schedule_cron' ? '' : SCHEDULE_DEFAULTS[name.slice('schedule_'.length) as keyof typeof SCHEDULE_DEFAULTS]);
  return (
    // novalidate: the other kind's fields, hidden, keep their min; one out of range (an interval of 0
    // typed before switching to a job) made the browser refuse to send, saying nothing it could show.
    // The server checks every field and shows each problem beside its field.
    <form method="post" action={ADD_NODE_PATH} class="panel add-node" novalidate>
      <Csrf session={p.session} />
      <Once />
      <NameField value={value('name', '')} {...at('name')} hint="1–128 characters of A–Z a–z 0–9 . _ : -, unique; e.g. web-1 or nightly-backup." />
      <fieldset>
        <legend>Kind</legend>
        <label>
          <input type="radio" name="kind" value="heartbeat" checked={kind === 'heartbeat'} /> <b>Heartbeat node</b>: its agent reports every interval; down after that
          many missed
        </label>
        <label>
          <input type="radio" name="kind" value="job" checked={kind === 'job'} /> <b>Scheduled job</b>: due by a cron schedule; it pings its URL after each run
        </label>
      </fieldset>
      <fieldset class="kind-heartbeat">
        <legend>Heartbeat node</legend>
        {number('heartbeat_interval_seconds')}
        {number('failures_for_down')}
        {number('grace_seconds')}
      </fieldset>
      <fieldset class="kind-job">
        <legend>Scheduled job</legend>
        <ScheduleFields cronHint="Five fields (minute hour day month weekday), six with seconds first, or @daily." value={scheduled} placed={p.placed} />
      </fieldset>
      {/* One field for both kinds, worded for the kind checked (the stylesheet hides the other's words). */}
      <NumberField
        name="successes_for_recovery"
        min={HEARTBEAT_FIELDS.successes_for_recovery.min}
        label={<KindWords heartbeat={HEARTBEAT_FIELDS.successes_for_recovery.label} job={JOB_RECOVERY.label} />}
        hint={<KindWords heartbeat={HEARTBEAT_FIELDS.successes_for_recovery.hint} job={JOB_RECOVERY.hint} />}
        value={value('successes_for_recovery', NODE_DEFAULTS.successes_for_recovery)}
        {...at('successes_for_recovery')}
        required
      />
      <LabelsField value={value('labels', '')} {...at('labels')} />
      <PolicyField policies={p.policies} value={value('escalation_policy_id', '')} {...at('escalation_policy_id')} />
      <div class="actions">
        <button type="submit" class="primary">
          Add node
        </button>
        <a href="/">Cancel</a>
      </div>
    </form>
  );
}

export function nodeAddRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  const write = requireScope(deps, 'write');

  const addPage = async (c: ConsoleContext, o: { form?: Form; details?: ErrorDetail[]; message?: string; status?: ContentfulStatusCode } = {}) => {
    const [frame, policies] = await Promise.all([chrome(c, deps), listPolicies(deps.sql, undefined, POLICY_CHOICES)]);
    const job = kindOf(o.form) === 'job';
    const placed = placedNode(o.details, addOrder(job), job);
    return html(
      c,
      <Page title="Add a node" chrome={frame} section="fleet">
        <Back href="/">Fleet</Back>
        <h1>Add a node</h1>
        <p class="muted">Its token is shown once it is added, with the heartbeat (or a job's ping) to paste into its agent or crontab.</p>
        <Outcome problem={o.message} placed={placed} />
        <AddForm policies={policies} session={frame.session} form={o.form} placed={placed} />
      </Page>,
      o.status,
    );
  };

  app.get(ADD_NODE_PATH, ...guards.page, write, async (c) => addPage(c));

  app.post(ADD_NODE_PATH, ...guards.action, write, async (c) => {
    const form = (await c.req.parseBody()) as Form;
    // Read before the create: after its commit only drawing follows, so a failed read cannot lose
    // the token, shown this once.
    const frame = await chrome(c, deps);
    return createOnce(
      c,
      deps,
      form,
      async () => {
        const made = await createNode(deps.sql, requestOf(form), deps.clock.now(), acting(c), deps);
        deps.publicChanges?.changed(['pages']);
        return made;
      },
      (r) => addPage(c, { form, ...formRefusal(r, 'Not added') }),
      (made) => nodeIdPath(made.node),
      ({ node, token }) =>
        html(
          c,
          <TokenPage title={`Added ${node.name}`} node={node} token={token} deps={deps} chrome={frame}>
            Its token is shown only now: give it to the node's agent.
          </TokenPage>,
          201,
        ),
    );
  });

  return app;
}
