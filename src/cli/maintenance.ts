// `lifeline maintenance start|end|list`: the window a deploy opens before it restarts hosts and
// ends when they are back, so nobody is paged for the restart (POST/DELETE /v1/maintenances).

import type { Maintenance } from '../api/shapes.ts';
import { ApiRequestError } from './client.ts';
import { API_OPTIONS, LIST_OPTIONS, UsageError, type Command, type Context } from './command.ts';
import { instant, labels, spanMs, when } from './format.ts';

/** `--for 30m` or `--until <time>`, as the window's ends_at; null (open-ended) when neither is given. */
function endsAt(ctx: Context, now: number): string | null {
  const [span, until] = [ctx.string('for'), ctx.string('until')];
  if (span !== undefined && until !== undefined) throw new UsageError('give --for or --until, not both', ctx.command);
  if (span !== undefined) {
    const ms = spanMs(span);
    if (!ms) throw new UsageError(`--for must be a span such as 30m, 2h or 1d, got "${span}"`, ctx.command);
    return new Date(now + ms).toISOString();
  }
  if (until === undefined) return null;
  const at = instant(until);
  if (at === undefined) throw new UsageError(`--until must be an RFC 3339 time from 1970 to 9999, got "${until}"`, ctx.command);
  return at;
}

/** What a window covers, as a list row says it: `2 nodes, role=web`. */
function covers(m: Maintenance): string {
  const nodes = m.node_ids.length ? [`${m.node_ids.length} node${m.node_ids.length === 1 ? '' : 's'}`] : [];
  const l = labels(m.labels);
  return [...nodes, ...(l ? [l] : [])].join(', ');
}

const until = (m: Maintenance) => (m.ends_at === null ? 'until ended' : `until ${when(m.ends_at)}`);

const start: Command = {
  name: 'maintenance start',
  args: ['[node...]'],
  summary: 'start a maintenance window now for nodes (id or name) and/or the nodes carrying labels; prints its id',
  example: 'id=$(lifeline maintenance start web-1 web-2 --for 30m --reason "deploy 4.2")',
  options: {
    ...API_OPTIONS,
    label: { type: 'string', multiple: true, hint: 'k=v', description: 'also every node carrying this label (key=value or key:value); repeat for more, all of which must match' },
    for: { type: 'string', hint: '30m', description: 'end it after this long (30m, 2h, 1d)' },
    until: { type: 'string', hint: 'time', description: 'end it at this RFC 3339 time' },
    reason: { type: 'string', hint: 'text', description: 'why, shown with the window' },
    'idempotency-key': {
      type: 'string',
      hint: 'key',
      description: 'a key of this run (a CI job id): run again with it within 24 h, the command prints the window the first run opened instead of opening another',
    },
  },
  async run(ctx) {
    const nodes = ctx.rest(0);
    const byLabel = Object.fromEntries(ctx.strings('label').map((l) => ctx.label(l)));
    if (nodes.length === 0 && Object.keys(byLabel).length === 0) throw new UsageError('give the nodes (ids or names), or --label', ctx.command);
    const key = ctx.string('idempotency-key');
    // Starting now by this machine's clock: the API keeps a start in the past as given, and a CI
    // step means the window to cover from the moment it runs. With a key the start is the
    // engine's instead, so a re-run of the same command line sends the same request, which the
    // engine answers with the first run's window (a different body under one key is refused).
    const now = Date.now();
    const body = {
      node_ids: nodes,
      labels: byLabel,
      ...(key === undefined ? { starts_at: new Date(now).toISOString() } : {}),
      ends_at: endsAt(ctx, now),
      reason: ctx.string('reason'),
    };
    const window = await ctx
      .client()
      .post<Maintenance>('/v1/maintenances', body, undefined, key)
      .catch((err: unknown) => {
        if (!(err instanceof ApiRequestError && err.code === 'idempotency_key_reused')) throw err;
        // --for counts from each run's clock: its re-run asks for another end under the same key.
        throw new ApiRequestError(err.status, err.code, `--idempotency-key "${key}" already started a window with other times (--for counts from each run; --until names one end): nothing was opened; lifeline maintenance list --active shows it.`);
      });
    // The id alone on stdout, for `id=$(…)` and a later `maintenance end "$id"`; the sentence on stderr.
    ctx.print(window, () => window.id);
    if (!ctx.json) ctx.io.stderr(`Maintenance window for ${covers(window)} ${until(window)}; end it with: lifeline maintenance end ${window.id}\n`);
  },
};

const end: Command = {
  name: 'maintenance end',
  args: ['<id>'],
  summary: 'end a maintenance window now (one not yet begun is cancelled); its nodes are judged afresh',
  example: 'lifeline maintenance end "$id"',
  options: { ...API_OPTIONS },
  async run(ctx) {
    const window = await ctx.client().delete<Maintenance>(`/v1/maintenances/${encodeURIComponent(ctx.arg(0))}`);
    ctx.print(window, () => `Maintenance window ${window.id} (${covers(window)}) is over: ended ${when(window.ends_at)}.`);
  },
};

const list: Command = {
  name: 'maintenance list',
  summary: 'list maintenance windows, newest first',
  example: 'lifeline maintenance list --active',
  options: { ...API_OPTIONS, ...LIST_OPTIONS, active: { type: 'boolean', description: 'only the windows covering now' } },
  async run(ctx) {
    ctx.list(
      await ctx.fetchList<Maintenance>('/v1/maintenances', { active: ctx.flag('active') ? 'true' : undefined }),
      [
        { header: 'ID', value: (m) => m.id },
        { header: 'ACTIVE', value: (m) => (m.active ? 'yes' : 'no') },
        { header: 'STARTS', value: (m) => when(m.starts_at) },
        { header: 'ENDS', value: (m) => when(m.ends_at) },
        { header: 'COVERS', value: covers },
        { header: 'REASON', value: (m) => m.reason ?? '' },
      ],
      'maintenance windows',
    );
  },
};

export const maintenanceCommands = [start, end, list];
