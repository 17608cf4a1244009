import type { Incident, IncidentSummary, TimelineEntryView } from '../api/shapes.ts';
import { API_OPTIONS, LIST_OPTIONS, UsageError, type Command, type Context } from './command.ts';
import { after, ago, duration } from './format.ts';
import { ACKNOWLEDGE_MAX } from '../incidents/model.ts';

const LABEL = {
  type: 'string',
  multiple: true,
  hint: 'k=v',
  description: "only incidents whose node carries this label (key=value or key:value); repeat for more, all of which must match",
} as const;

const NODE = { type: 'string', hint: 'node', description: 'only the incidents of this node (id or name)' } as const;

const RANGE = {
  since: { type: 'string', hint: 'time|7d', description: "only incidents opened at or after this RFC 3339 time, or this long ago by this machine's clock (30m, 12h, 7d)" },
  until: { type: 'string', hint: 'time|1d', description: 'only incidents opened before this RFC 3339 time, or this long ago' },
} as const;


/**
 * When an incident was first acknowledged, as the review's time to acknowledge counts it: its
 * timeline's first `acknowledged`, since an acknowledgement that expired clears acknowledged_at
 * and a second one overwrites it.
 */
export function firstAcknowledged(i: Pick<Incident, 'acknowledged_at' | 'timeline'>): string | null {
  return i.timeline.find((e) => e.kind === 'acknowledged')?.at ?? i.acknowledged_at;
}

const list: Command = {
  name: 'incidents list',
  summary: 'list incidents, newest first',
  example: 'lifeline incidents list --status open --label region=eu-west --since 7d',
  options: {
    ...API_OPTIONS,
    ...LIST_OPTIONS,
    status: { type: 'string', hint: 'open|acknowledged|resolved', description: 'only incidents in this state' },
    node: NODE,
    label: LABEL,
    ...RANGE,
  },
  async run(ctx) {
    const now = Date.now();
    const page = await ctx.fetchList<Incident>('/v1/incidents', {
      status: ctx.string('status'),
      node_id: ctx.string('node'),
      label: ctx.labelFilters(),
      ...ctx.openedRange(now),
    });
    ctx.list(
      page,
      [
        { header: 'ID', value: (i) => i.id },
        { header: 'STATUS', value: (i) => i.status },
        { header: 'SEVERITY', value: (i) => i.severity },
        { header: 'NODE', value: (i) => i.node_name },
        { header: 'OPENED', value: (i) => ago(i.opened_at, now) },
        { header: 'ACKED-AFTER', value: (i) => after(i.opened_at, firstAcknowledged(i)), align: 'right' },
        { header: 'DURATION', value: (i) => after(i.opened_at, i.resolved_at), align: 'right' },
        { header: 'TITLE', value: (i) => i.title },
      ],
      'incidents',
    );
  },
};

/** Mean, median and 90th percentile, as durations; `-` when none was timed. */
function figures(f: IncidentSummary['time_to_acknowledge']): string {
  if (f.mean_seconds === null) return '-';
  const d = (s: number | null) => duration((s ?? 0) * 1000);
  return `mean ${d(f.mean_seconds)}, median ${d(f.median_seconds)}, p90 ${d(f.p90_seconds)}`;
}

const summary: Command = {
  name: 'incidents summary',
  summary: 'how many incidents opened, and how long they took to acknowledge and resolve',
  example: 'lifeline incidents summary --since 30d --label region=eu-west',
  options: { ...API_OPTIONS, node: NODE, label: LABEL, ...RANGE },
  async run(ctx) {
    const s = await ctx.client().get<IncidentSummary>('/v1/incidents/summary', {
      node_id: ctx.string('node'),
      label: ctx.labelFilters(),
      ...ctx.openedRange(Date.now()),
    });
    ctx.print(s, () =>
      [
        `Incidents:           ${s.count} (${Object.entries(s.by_category).map(([c, n]) => `${c} ${n}`).join(', ')})`,
        `Acknowledged:        ${s.acknowledged}`,
        `Resolved:            ${s.resolved}`,
        `Time to acknowledge: ${figures(s.time_to_acknowledge)}`,
        `Time to resolve:     ${figures(s.time_to_resolve)}`,
      ].join('\n'),
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
  args: ['[id...]'],
  summary: 'acknowledge incidents (stops their escalation): by id, and/or every open one whose node carries the labels',
  example: 'lifeline incidents ack --label region=eu-west --by alice',
  options: {
    ...API_OPTIONS,
    by: BY,
    label: { ...LABEL, description: 'also every open incident whose node carries this label (key=value or key:value); repeat for more, all of which must match' },
  },
  async run(ctx) {
    const ids = ctx.rest(0);
    const labels = ctx.labelFilters();
    if (ids.length === 0 && labels.length === 0) throw new UsageError('give the ids of the incidents, or --label', ctx.command);
    // One id alone: the single acknowledgement, whose answer is the incident.
    if (ids.length === 1 && labels.length === 0) return act(ctx, 'acknowledge', { by: ctx.string('by') });
    // The incidents a label names are those open as they are listed: one opened after is not taken unseen.
    const listed = labels.length ? (await ctx.client().all<Incident>('/v1/incidents', { status: 'open', label: labels })).items.map((i) => i.id) : [];
    const asked = [...new Set([...ids, ...listed])];
    const acknowledged: string[] = [];
    const said = () =>
      ctx.print({ acknowledged, count: acknowledged.length }, () =>
        asked.length === 0
          ? 'No open incident matches.'
          : [`Acknowledged ${acknowledged.length} of ${asked.length} incidents${acknowledged.length < asked.length ? ' (the others were acknowledged or resolved already, or not reached)' : ''}.`, ...acknowledged].join('\n'),
      );
    // At most ACKNOWLEDGE_MAX a call: more are sent in turns. A later turn refused still leaves the
    // earlier ones done: they are said before its error, not lost with it.
    for (let at = 0; at < asked.length; at += ACKNOWLEDGE_MAX) {
      try {
        const answer = await ctx.client().post<{ acknowledged: string[] }>('/v1/incidents/acknowledge', { incident_ids: asked.slice(at, at + ACKNOWLEDGE_MAX), by: ctx.string('by') });
        acknowledged.push(...answer.acknowledged);
      } catch (err) {
        if (acknowledged.length) said();
        throw err;
      }
    }
    said();
  },
};

const resolve: Command = {
  name: 'incidents resolve',
  args: ['<id>'],
  summary: 'resolve an incident by hand',
  example: 'lifeline incidents resolve 3f2c… --by alice --note "disk replaced"',
  options: { ...API_OPTIONS, by: BY, note: { type: 'string', hint: 'text', description: "recorded on the incident's timeline" } },
  run: (ctx) => act(ctx, 'resolve', { by: ctx.string('by'), note: ctx.string('note') }),
};

const note: Command = {
  name: 'incidents note',
  args: ['<id>', '<text>'],
  summary: "add a note to an incident's timeline (open, acknowledged or resolved); pages nobody",
  example: 'lifeline incidents note 3f2c… "restarting db-3" --by alice',
  options: { ...API_OPTIONS, by: BY },
  async run(ctx) {
    const id = ctx.arg(0);
    const entry = await ctx.client().post<TimelineEntryView>(`/v1/incidents/${encodeURIComponent(id)}/notes`, { note: ctx.arg(1), by: ctx.string('by') });
    ctx.print(entry, () => `Note added to incident ${id}, by ${String(entry.detail.by)}.`);
  },
};

export const incidentCommands = [list, summary, ack, resolve, note];
