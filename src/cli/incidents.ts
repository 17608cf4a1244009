import type { Incident } from '../api/shapes.ts';
import { API_OPTIONS, LIST_OPTIONS, type Command, type Context } from './command.ts';
import { ago } from './format.ts';

const LABEL = {
  type: 'string',
  multiple: true,
  hint: 'k=v',
  description: "only incidents whose node carries this label (key=value or key:value); repeat for more, all of which must match",
} as const;

const list: Command = {
  name: 'incidents list',
  summary: 'list incidents, newest first',
  example: 'lifeline incidents list --status open --label region=eu-west',
  options: {
    ...API_OPTIONS,
    ...LIST_OPTIONS,
    status: { type: 'string', hint: 'open|acknowledged|resolved', description: 'only incidents in this state' },
    node: { type: 'string', hint: 'node', description: 'only the incidents of this node (id or name)' },
    label: LABEL,
  },
  async run(ctx) {
    const page = await ctx.fetchList<Incident>('/v1/incidents', { status: ctx.string('status'), node_id: ctx.string('node'), label: ctx.strings('label').map((l) => ctx.labelFilter(l)) });
    const now = Date.now();
    ctx.list(
      page,
      [
        { header: 'ID', value: (i) => i.id },
        { header: 'STATUS', value: (i) => i.status },
        { header: 'SEVERITY', value: (i) => i.severity },
        { header: 'NODE', value: (i) => i.node_name },
        { header: 'OPENED', value: (i) => ago(i.opened_at, now) },
        { header: 'TITLE', value: (i) => i.title },
      ],
      'incidents',
    );
  },
};

const BY = { type: 'string', hint: 'who', description: 'recorded on the incident (default: the API key)' } as const;

/** Acknowledge and resolve differ only in their path, body and wording. */
async function act(ctx: Context, action: 'acknowledge' | 'resolve', body: Record<string, string | undefined>) {
  const id = ctx.arg(0);
  const incident = await ctx.client().post<Incident>(`/v1/incidents/${encodeURIComponent(id)}/${action}`, body);
  const by = action === 'acknowledge' ? incident.acknowledged_by : incident.resolved_by;
  ctx.print(incident, () => `Incident ${incident.id} (${incident.node_name}: ${incident.title}) is ${incident.status}, by ${by}.`);
}

const ack: Command = {
  name: 'incidents ack',
  args: ['<id>'],
  summary: 'acknowledge an incident (stops its escalation)',
  example: 'lifeline incidents ack 3f2c… --by alice',
  options: { ...API_OPTIONS, by: BY },
  run: (ctx) => act(ctx, 'acknowledge', { by: ctx.string('by') }),
};

const resolve: Command = {
  name: 'incidents resolve',
  args: ['<id>'],
  summary: 'resolve an incident by hand',
  example: 'lifeline incidents resolve 3f2c… --by alice --note "disk replaced"',
  options: { ...API_OPTIONS, by: BY, note: { type: 'string', hint: 'text', description: "recorded on the incident's timeline" } },
  run: (ctx) => act(ctx, 'resolve', { by: ctx.string('by'), note: ctx.string('note') }),
};

export const incidentCommands = [list, ack, resolve];
