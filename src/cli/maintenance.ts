// `lifeline maintenance start|end|list`: the window a deploy opens before it restarts hosts and
// ends when they are back, so nobody is paged for the restart (POST/DELETE /v1/maintenances).

import type { Maintenance } from '../api/shapes.ts';
import { ApiRequestError, RefusedError } from './client.ts';
import { API_OPTIONS, LIST_OPTIONS, UsageError, type Command, type Context } from './command.ts';
import { instant, labels, spanMs, when } from './format.ts';

/**
 * The window's end: `--for 30m` or `--until <time>`, as ends_at from `now`; null (open-ended) when
 * neither is given. With `from` null a span goes as duration_seconds, counted by the engine from
 * its own now, so the same command line sends the same body whenever it runs.
 */
function endOf(ctx: Context, from: number | null): { ends_at: string | null } | { duration_seconds: number } {
  const [span, until] = [ctx.string('for'), ctx.string('until')];
  if (span !== undefined && until !== undefined) throw new UsageError('give --for or --until, not both', ctx.command);
  if (span !== undefined) {
    const ms = spanMs(span);
    if (!ms) throw new UsageError(`--for must be a span such as 30m, 2h or 1d, got "${span}"`, ctx.command);
    return from === null ? { duration_seconds: ms / 1000 } : { ends_at: new Date(from + ms).toISOString() };
  }
  if (until === undefined) return { ends_at: null };
  const at = instant(until);
  if (at === undefined) throw new UsageError(`--until must be an RFC 3339 time from 1970 to 9999, got "${until}"`, ctx.command);
  return { ends_at: at };
}

/** What a window covers, as a list row says it: `2 nodes, role=web`. */
function covers(m: Maintenance): string {
  const nodes = m.node_ids.length ? [`${m.node_ids.length} node${m.node_ids.length === 1 ? '' : 's'}`] : [];
  const l = labels(m.labels);
  return [...nodes, ...(l ? [l] : [])].join(', ');
}

const until = (m: Maintenance) => (m.ends_at === null ? 'until ended' : `until ${when(m.ends_at)}`);

/**
 * A window opened under an Idempotency-Key. The start (and a --for's end) is left to the engine's
 * clock, so a re-run of the same command line sends the same bytes and the engine answers with the
 * first run's window instead of opening another (a different body under one key is refused, 422).
 * That answer is as the first run got it: the window may have been ended since, so a replayed one
 * is read again, and one that is over is refused, exit 1: printing its id would let the deploy go
 * on unprotected.
 */
async function startOnce(ctx: Context, key: string, body: object): Promise<Maintenance> {
  const client = ctx.client();
  const answer = await client.postOnce<Maintenance>('/v1/maintenances', body, key).catch((err: unknown) => {
    if (!(err instanceof ApiRequestError && err.code === 'idempotency_key_reused')) throw err;
    throw new ApiRequestError(err.status, err.code, `--idempotency-key "${key}" was already used for a different request (its nodes, labels, times or reason differ): nothing was opened; give each attempt its own key.`);
  });
  if (answer.headers.get('idempotent-replayed') !== 'true') return answer.body;
  const current = await client.get<Maintenance>(`/v1/maintenances/${encodeURIComponent(answer.body.id)}`);
  // Started by the engine at its first answer, so a window not open now has ended (or was cancelled).
  if (current.active || current.ends_at === null) return current;
  throw new RefusedError(
    'maintenance_over',
    `--idempotency-key "${key}" already opened window ${current.id}, which is over (ended ${when(current.ends_at)}): nothing was opened; use a new key to open another.`,
  );
}

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
      description: 'a key of this attempt (CI run id, attempt and target): run again with it within 24 h, the command prints the window the first run opened instead of opening another, or fails if that window is over',
    },
  },
  async run(ctx) {
    const nodes = ctx.rest(0);
    const byLabel = Object.fromEntries(ctx.strings('label').map((l) => ctx.label(l)));
    if (nodes.length === 0 && Object.keys(byLabel).length === 0) throw new UsageError('give the nodes (ids or names), or --label', ctx.command);
    const key = ctx.string('idempotency-key');
    const reason = ctx.string('reason');
    let window: Maintenance;
    if (key === undefined) {
      // Starting now by this machine's clock: the API keeps a start in the past as given, and a CI
      // step means the window to cover from the moment it runs.
      const now = Date.now();
      const body = { node_ids: nodes, labels: byLabel, starts_at: new Date(now).toISOString(), ...endOf(ctx, now), reason };
      window = await ctx.client().post<Maintenance>('/v1/maintenances', body);
    } else {
      window = await startOnce(ctx, key, { node_ids: nodes, labels: byLabel, ...endOf(ctx, null), reason });
    }
    // The id alone on stdout, for `id=$(…)` and a later `maintenance end "$id"`; the sentence on stderr.
    ctx.print(window, () => window.id);
    if (!ctx.json) ctx.io.stderr(`Maintenance window for ${covers(window)} ${until(window)}; end it with: lifeline maintenance end ${window.id}${ctx.urlArgument(ctx.client())}\n`);
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
