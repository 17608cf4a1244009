import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import type { Node, NodeWithToken, Run } from '../api/shapes.ts';
import { ApiRequestError, ConnectionError, describeError, nodePath, retryable, type Page } from './client.ts';
import { API_OPTIONS, LIST_OPTIONS, UsageError, type Command, type Context, type Io, type OptionSpec } from './command.ts';
import { SCHEDULE_DEFAULTS } from '../nodes/model.ts';
import { ago, duration, fromNow, labels, secretBlock, when } from './format.ts';
import { crontabLines } from '../jobs/model.ts';
import { isUtc, onJobClock } from '../local-time.ts';
import { shellWord } from '../shell-word.ts';
import { RUN_COLUMNS } from './runs.ts';
import { renderFacts, renderTable } from './table.ts';

/**
 * The timing flags `nodes add` and `nodes edit` share; `add` hints at the defaults the API
 * fills in, `edit` at the unit, since a flag not given there keeps the node's own value.
 */
function settingOptions(hints: { interval: string; grace: string; failures: string; graceDefault?: string }): Record<string, OptionSpec> {
  return {
    interval: { type: 'string', hint: hints.interval, description: 'seconds between heartbeats' },
    grace: {
      type: 'string',
      hint: hints.grace,
      description: `extra seconds before down (${hints.graceDefault ?? ''}for a scheduled job: after a scheduled time, default ${SCHEDULE_DEFAULTS.grace_seconds})`,
    },
    failures: { type: 'string', hint: hints.failures, description: 'missed heartbeats before down' },
    'time-zone': { type: 'string', hint: 'zone', description: "the clock a scheduled job's schedule is read on (default UTC)" },
    'max-run': { type: 'string', hint: 'seconds', description: 'for a scheduled job: a run that pinged its start is down after this long (0 or none: no limit)' },
  };
}

/** --max-run in seconds; 0 or `none` is null, which the API reads as no run limit. */
function maxRun(ctx: Context): number | null | undefined {
  const raw = ctx.string('max-run');
  if (raw === undefined) return undefined;
  if (raw === 'none') return null;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--max-run must be a whole number of seconds, or 0 or none for no limit, got "${raw}"`, ctx.command);
  return Number(raw) === 0 ? null : Number(raw);
}

const add: Command = {
  name: 'nodes add',
  args: ['<name>'],
  summary: 'register a node and print its heartbeat token once (or its ping URL, for a scheduled job)',
  example: 'lifeline nodes add web-1 --interval 10 --failures 3 --label role=web',
  options: {
    ...API_OPTIONS,
    // The grace's two defaults are in its description: a hint of <0> beside "default 300" read as a contradiction.
    ...settingOptions({ interval: '30', grace: 'seconds', failures: '3', graceDefault: 'default 0; ' }),
    label: { type: 'string', multiple: true, hint: 'k=v', description: 'a label (key=value or key:value); repeat for more' },
    schedule: { type: 'string', hint: 'cron', description: 'a scheduled job, due by this cron expression instead of heartbeats' },
  },
  async run(ctx) {
    const cron = ctx.string('schedule');
    const common = { name: ctx.arg(0), labels: Object.fromEntries(ctx.strings('label').map((l) => ctx.label(l))) };
    let body: object;
    if (cron === undefined) {
      if (ctx.string('time-zone') !== undefined || ctx.string('max-run') !== undefined) throw new UsageError('--time-zone and --max-run go with --schedule', ctx.command);
      body = { ...common, heartbeat_interval_seconds: ctx.int('interval', 30, 1), grace_seconds: ctx.int('grace', 0), failures_for_down: ctx.int('failures', 3, 1) };
    } else {
      // The expression is the API's to judge, and so is an --interval beside it: both are
      // refused in its words. Flags not given are left out, for the API's defaults, but for the
      // grace: an engine older than the 300 s default gave a job 0, which the help would belie.
      const schedule = { cron, time_zone: ctx.string('time-zone'), grace_seconds: ctx.int('grace') ?? SCHEDULE_DEFAULTS.grace_seconds, max_run_seconds: maxRun(ctx) };
      body = { ...common, schedule, heartbeat_interval_seconds: ctx.int('interval', undefined, 1), failures_for_down: ctx.int('failures', undefined, 1) };
    }
    const client = ctx.client();
    const node = await client.post<NodeWithToken>('/v1/nodes', body);
    ctx.print(node, () => {
      if (node.schedule) return `Created ${settings(node)}.\n` + pingUrlBlock(node, node.schedule, ctx.io.invokedAs);
      return (
        `Created ${settings(node)}.\n` +
        secretBlock('Node token', node.token!) +
        // The agent takes no --token (a command line is visible to every user of the host): the
        // hint names the flag it does take, so the line works once the placeholder is a file.
        `\nStart an agent with it:  lifeline agent${ctx.urlArgument(client)} --interval ${node.heartbeat_interval_seconds} --token-file <a file holding the token>`
      );
    });
  },
};

/** `node web-1 (id …): a heartbeat every 30s, …`: what a node is judged by, as created or changed. */
function settings(node: Node): string {
  const shown = Object.keys(node.labels).length ? `, labels ${labels(node.labels)}` : '';
  const schedule = node.schedule;
  if (!schedule) {
    return (
      `node ${node.name} (id ${node.id}): a heartbeat every ${node.heartbeat_interval_seconds}s, ` +
      `down after ${node.failures_for_down} missed + ${node.grace_seconds}s grace${shown}`
    );
  }
  // What the engine does with a start ping (src/health/cron-deadline.ts): with a run limit an open
  // run is timed by it alone; without one a start changes nothing, so a long run is late all the same.
  const running =
    schedule.max_run_seconds === null
      ? '; a run that has started is held to the same time (--max-run times a run from its start instead)'
      : `; a run that has started is down only once it goes past ${schedule.max_run_seconds}s`;
  return (
    `scheduled job ${node.name} (id ${node.id}): due at "${schedule.cron}" in ${schedule.time_zone}, ` +
    `down ${schedule.grace_seconds}s after a scheduled time with no success ping${running}${shown}`
  );
}

/** A job's ping URL; with a placeholder for the engine's address while LIFELINE_PUBLIC_URL is unset. */
const pingUrl = (node: Node) => node.ping_url ?? `<LIFELINE_PUBLIC_URL>/ping/${node.ping_key}`;

/** cron's PATH: a bare `lifeline` (npm puts it in /usr/local/bin, ~/.npm-global/bin, node_modules/.bin) is not on it. */
const CRON_PATH = ['/usr/bin', '/bin'];

/**
 * A word for a crontab line's command: as sh reads it back, each `%` as `\%`, as cron makes a bare
 * one a newline (and the rest of the line the command's stdin), inside quotes too.
 */
const crontabWord = (word: string) => shellWord(word).replaceAll('%', '\\%');

/**
 * The CLI's script as a crontab should name it: the path node was given (process.argv[1]), but
 * the package's own file when npx ran it. npx links the package into npm's cache
 * (`~/.npm/_npx/<hash>/node_modules/.bin/lifeline`) and runs it from there: a directory npm may
 * empty or replace, and the job would then run nothing.
 */
export function scriptAsRun(argv1: string | undefined, env: Io['env']): string | undefined {
  if (!argv1 || !(argv1.includes('/_npx/') || env.npm_command === 'exec')) return argv1;
  try {
    return realpathSync(argv1);
  } catch {
    return argv1;
  }
}

/**
 * How a crontab runs this CLI: the script by the path it was started by, not a bare `lifeline`
 * that cron's PATH does not find (the job would run and never ping). The path as invoked, not the
 * file it links to: a bin directory's link is what `command -v lifeline` says and stays where it
 * is when an upgrade or a version manager moves the package (npx aside: scriptAsRun). Node before
 * it when node is not on cron's PATH either, as the script starts with `#!/usr/bin/env node`. The
 * path is this machine's, which `note` says. In-process (tests) there is no such path, and it is
 * `lifeline`; so it is, with a note, when a path holds a line break, which ends a crontab line.
 */
export function cliCommand(invokedAs: Io['invokedAs']): { command: string; note?: string } {
  if (!invokedAs?.script || !isAbsolute(invokedAs.script)) return { command: 'lifeline' };
  const words = [...(CRON_PATH.includes(dirname(invokedAs.node)) ? [] : [invokedAs.node]), invokedAs.script];
  if (words.some((word) => /[\r\n]/.test(word))) {
    return { command: 'lifeline', note: "The CLI's path here holds a line break, which would end the crontab line: put lifeline's full path there." };
  }
  return { command: words.map(crontabWord).join(' '), note: 'That path is where the CLI is on this machine; on another host, give its path there.' };
}

/**
 * The URL a scheduled job's crontab pings (it needs no token), and the lines that do it: wrapped
 * in `lifeline run`, which pings the start and the exit code, so a failed run is down at once and
 * not only once its grace has passed, as `job && curl` leaves it; that is offered after it, for a
 * host without the CLI, as README's crontab examples are. The URL in them is a crontab word too:
 * LIFELINE_PUBLIC_URL may hold `%XX` escapes.
 */
function pingUrlBlock(node: Node, schedule: NonNullable<Node['schedule']>, invokedAs: Io['invokedAs']): string {
  const url = pingUrl(node);
  const cli = cliCommand(invokedAs);
  const lines = crontabLines(schedule, `${cli.command} run --ping-url ${crontabWord(url)} -- your-job.sh`);
  return (
    `Ping URL: ${url}\nIn its crontab:  ${lines.join('\n                 ')}\n` +
    (cli.note ? `${' '.repeat(17)}# ${cli.note}\n` : '') +
    `Or, a success ping only (a failed run is down once its grace has passed):  your-job.sh && curl -fsS -m 10 --retry 5 ${crontabWord(url)}`
  );
}

const edit: Command = {
  name: 'nodes edit',
  args: ['<node>'],
  summary: "change a node's name, labels or timing (by id or name); what is not given stays as it is",
  example: 'lifeline nodes edit web-1 --interval 10 --failures 2',
  options: {
    ...API_OPTIONS,
    name: { type: 'string', hint: 'name', description: 'a new name' },
    ...settingOptions({ interval: 'seconds', grace: 'seconds', failures: 'n' }),
    successes: { type: 'string', hint: 'n', description: 'heartbeats in a row before a down node is healthy again' },
    label: { type: 'string', multiple: true, hint: 'k=v', description: 'the labels, replacing all it had; repeat for more' },
    'clear-labels': { type: 'boolean', description: 'remove every label' },
    schedule: { type: 'string', hint: 'cron', description: 'make it (or keep it) a scheduled job due by this cron expression' },
    heartbeats: { type: 'boolean', description: 'turn a scheduled job back into a node that sends heartbeats' },
  },
  async run(ctx) {
    const ref = ctx.arg(0);
    const client = ctx.client();
    const patch: Record<string, unknown> = {
      name: ctx.string('name'),
      heartbeat_interval_seconds: ctx.int('interval', undefined, 1),
      failures_for_down: ctx.int('failures', undefined, 1),
      successes_for_recovery: ctx.int('successes', undefined, 1),
    };
    const given = ctx.strings('label');
    if (ctx.flag('clear-labels') && given.length) throw new UsageError('--label and --clear-labels cannot go together', ctx.command);
    if (ctx.flag('clear-labels')) patch.labels = {};
    else if (given.length) patch.labels = Object.fromEntries(given.map((l) => ctx.label(l)));

    // A schedule is one object in the API: changing its zone or limit alone sends the rest of it
    // as it stands, so the node is read first. The grace belongs to the schedule on a scheduled
    // job and to the node otherwise.
    const cron = ctx.string('schedule');
    const timing = { time_zone: ctx.string('time-zone'), grace_seconds: ctx.int('grace'), max_run_seconds: maxRun(ctx) };
    const scheduleFlags = cron !== undefined || timing.time_zone !== undefined || timing.max_run_seconds !== undefined;
    if (ctx.flag('heartbeats')) {
      if (scheduleFlags) throw new UsageError('--heartbeats leaves the schedule: --schedule, --time-zone and --max-run cannot go with it', ctx.command);
      patch.schedule = null;
      patch.grace_seconds = timing.grace_seconds;
    } else if (scheduleFlags || timing.grace_seconds !== undefined) {
      const current = cron === undefined ? (await client.get<Node>(nodePath(ref))).schedule : null;
      if (cron === undefined && !current) {
        if (scheduleFlags) throw new UsageError(`--time-zone and --max-run go with a schedule: ${ref} has none (give --schedule)`, ctx.command);
        patch.grace_seconds = timing.grace_seconds;
      } else {
        const defined = Object.fromEntries(Object.entries(timing).filter(([, v]) => v !== undefined));
        patch.schedule = { ...current, ...(cron === undefined ? {} : { cron }), ...defined };
      }
    }
    const body = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    if (!Object.keys(body).length) throw new UsageError('nothing to change: give at least one flag', ctx.command);
    const node = await client.patch<Node>(nodePath(ref), body);
    ctx.print(node, () => `Changed ${settings(node)}.` + (node.schedule && body.schedule !== undefined ? `\n${pingUrlBlock(node, node.schedule, ctx.io.invokedAs)}` : ''));
  },
};

const remove: Command = {
  name: 'nodes delete',
  args: ['<node>'],
  summary: 'delete a node (by id or name) with its history; its token and ping URL stop working',
  example: 'lifeline nodes delete web-1',
  options: { ...API_OPTIONS },
  async run(ctx) {
    const ref = ctx.arg(0);
    await ctx.client().delete(nodePath(ref));
    ctx.print({ deleted: ref }, () => `Deleted node ${ref}.`);
  },
};

const list: Command = {
  name: 'nodes list',
  summary: 'list nodes and their health',
  example: 'lifeline nodes list --state down --label role=web',
  options: {
    ...API_OPTIONS,
    ...LIST_OPTIONS,
    state: { type: 'string', hint: 'state', description: 'unknown, healthy, degraded, down or maintenance' },
    label: { type: 'string', multiple: true, hint: 'k=v', description: 'only nodes carrying this label (key=value or key:value); repeat for more, all of which must match' },
  },
  async run(ctx) {
    const page = await ctx.fetchList<Node>('/v1/nodes', { state: ctx.string('state'), label: ctx.labelFilters() });
    const now = Date.now();
    ctx.list(
      page,
      [
        { header: 'NAME', value: (n) => n.name },
        { header: 'STATE', value: (n) => n.health.state },
        { header: 'SINCE', value: (n) => ago(n.health.since, now) },
        // A heartbeat node's last heartbeat, a scheduled job's last ping: each one's last report.
        { header: 'LAST REPORT', value: (n) => ago(n.health.last_heartbeat_at, now) },
        { header: 'EVERY', value: (n) => (n.schedule ? `${n.schedule.cron}${isUtc(n.schedule.time_zone) ? '' : ` ${n.schedule.time_zone}`}` : `${n.heartbeat_interval_seconds}s`), align: 'right' },
        { header: 'LABELS', value: (n) => labels(n.labels) },
        { header: 'REASON', value: (n) => n.health.reason ?? '' },
      ],
      'nodes',
    );
  },
};

/** One node of an apply file: its name, and its whole desired state as PUT /v1/nodes/by-name/{name} takes it. */
interface NodeSpec {
  name: string;
  [setting: string]: unknown;
}

/**
 * The specs of an apply file (`-`: stdin), or a usage error naming what is wrong with it. A file
 * that is not a list of objects each with its own name is refused whole before any request: a
 * typo in a fleet's file must not apply half of it, and a name given twice would apply both
 * specs, the second undoing the first on every run.
 */
function readSpecs(ctx: Context, file: string): NodeSpec[] {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file === '-' ? 'stdin' : file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, ctx.command);
  }
  let specs: unknown;
  try {
    specs = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`, ctx.command);
  }
  if (!Array.isArray(specs)) throw new UsageError(`${file} must hold a JSON list of nodes, [{"name": "web-1", …}, …]`, ctx.command);
  const names = new Set<string>();
  specs.forEach((spec: unknown, i) => {
    const name = typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? (spec as { name?: unknown }).name : undefined;
    if (typeof name !== 'string') throw new UsageError(`${file}: node ${i + 1} must be an object with a "name" string`, ctx.command);
    if (names.has(name)) throw new UsageError(`${file}: "${name}" is named twice`, ctx.command);
    names.add(name);
  });
  return specs as NodeSpec[];
}

/** `applied`: a 200 without the `Lifeline-Outcome` header (a proxy that drops it), so whether it changed anything is not known. */
type Outcome = 'created' | 'updated' | 'unchanged' | 'applied';

/** What applying one spec did, as `--json` prints it: the node (and a new one's token), or why it was not applied (`status` when the engine answered). */
type Applied = { name: string; outcome: Outcome; node: Node | NodeWithToken } | { name: string; outcome: 'failed'; error: { code: string; message: string; status?: number } };

/** What an answer says was done: 201 is a creation whatever the headers; a 200 is told by its header. */
function outcomeOf(status: number, header: string | null): Outcome {
  if (status === 201) return 'created';
  return header === 'updated' || header === 'unchanged' ? header : 'applied';
}

const apply: Command = {
  name: 'nodes apply',
  args: ['<file>'],
  summary: 'create or update nodes from a JSON list of their desired states (- reads stdin); run it as often as you like',
  example: 'lifeline nodes apply fleet.json',
  options: { ...API_OPTIONS },
  async run(ctx) {
    const specs = readSpecs(ctx, ctx.arg(0));
    const client = ctx.client();
    const results: Applied[] = [];
    let stoppedAt: string | undefined;
    // Each node on its own: one refused (a taken ping key, a bad interval) leaves the others to be
    // applied, and the exit code (1) says some were not. No answer, or one saying try later (5xx,
    // 408, 429), would meet the rest too: it stops the run, exit 3 as for any command, once what
    // was applied is printed — a new node's token is shown only in that answer.
    try {
      for (const { name, ...desired } of specs) {
        try {
          const answer = await client.put<Node | NodeWithToken>(`/v1/nodes/by-name/${encodeURIComponent(name)}`, desired);
          const done = { name, outcome: outcomeOf(answer.status, answer.headers.get('lifeline-outcome')), node: answer.body };
          results.push(done);
          if (!ctx.json) ctx.io.stdout(appliedLine(done, ctx.io.invokedAs));
        } catch (err) {
          if (!(err instanceof ApiRequestError || err instanceof ConnectionError)) throw err;
          const status = err instanceof ApiRequestError ? { code: err.code, status: err.status } : { code: 'unreachable' };
          results.push({ name, outcome: 'failed', error: { ...status, message: err.message } });
          // The error that stops the run is printed once, by the command line's own handling.
          if (retryable(err)) {
            stoppedAt = name;
            throw err;
          }
          if (!ctx.json) ctx.io.stderr(`failed     ${name}: ${describeError(err).replace(/^error: /, '')}\n`);
        }
      }
    } finally {
      const count = (o: Applied['outcome']) => results.filter((r) => r.outcome === o).length;
      if (ctx.json) ctx.io.stdout(JSON.stringify(results, null, 2) + '\n');
      else {
        const applied = count('applied') ? `, ${count('applied')} applied (the answer did not say how)` : '';
        const stopped = stoppedAt === undefined ? '' : `; stopped at ${stoppedAt}, ${specs.length - results.length} not tried`;
        ctx.io.stdout(`${results.length} nodes: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged${applied}, ${count('failed')} failed${stopped}\n`);
      }
    }
    // 1, as for a refusal of a single command (EXIT.refused).
    return results.some((r) => r.outcome === 'failed') ? 1 : 0;
  },
};

/**
 * `created    web-1  token lln_… (shown only this once)`: one line a node, for grep and a deploy log
 * alike. A new scheduled job is given what `nodes add --schedule` prints instead of a token it has
 * no use for: its ping URL and crontab lines, indented under its line.
 */
function appliedLine(r: Extract<Applied, { node: unknown }>, invokedAs: Io['invokedAs']): string {
  if (r.outcome === 'created' && r.node.schedule) {
    const indent = ' '.repeat(11);
    return `${r.outcome.padEnd(10)} ${r.name}\n${indent}${pingUrlBlock(r.node, r.node.schedule, invokedAs).replaceAll('\n', `\n${indent}`)}\n`;
  }
  const token = r.outcome === 'created' && 'token' in r.node ? `  token ${r.node.token} (shown only this once; store it now)` : '';
  return `${r.outcome.padEnd(10)} ${r.name}${token}\n`;
}

/** The runs `nodes show` lists under a job: enough to see how the last nights went; `runs` lists more. */
const SHOWN_RUNS = 5;

/**
 * `2026-12-09 02:30:00Z (03:30 in Europe/Berlin), in 14h 3m`: a job's time in UTC, as every
 * other time the CLI prints, then on the clock its crontab speaks, as its reasons say it (with
 * the date where that clock's is not UTC's), then from now.
 */
function jobTime(iso: string, zone: string, now: number): string {
  const clock = isUtc(zone) ? '' : ` (${onJobClock(Date.parse(iso), zone)})`;
  return `${when(iso)}${clock}, ${fromNow(iso, now)}`;
}

const show: Command = {
  name: 'nodes show',
  args: ['<node>'],
  summary: "one node (by id or name): its state and why, its last report and what it is judged by; for a scheduled job its next due run, ping URL and last runs",
  example: 'lifeline nodes show backup',
  options: { ...API_OPTIONS },
  async run(ctx) {
    const client = ctx.client();
    const node = await client.get<Node>(nodePath(ctx.arg(0)));
    const schedule = node.schedule;
    // Asked only for the human rendering: --json is the API's node, as `nodes list --json` lists them.
    const runs = schedule && !ctx.json ? (await client.get<Page<Run>>(`/v1/nodes/${node.id}/runs`, { limit: SHOWN_RUNS })).items : [];
    ctx.print(node, () => {
      const now = Date.now();
      const h = node.health;
      const facts: Array<[string, string]> = [
        ['State', `${h.state} since ${when(h.since)}, ${fromNow(h.since, now)}`],
        ['Reason', h.reason ?? '-'],
        [schedule ? 'Last ping' : 'Last heartbeat', h.last_heartbeat_at === null ? 'never' : `${when(h.last_heartbeat_at)}, ${ago(h.last_heartbeat_at, now)}${h.last_status ? `, reported ${h.last_status}` : ''}`],
      ];
      if (schedule) {
        facts.push(
          ['Schedule', `${schedule.cron} in ${schedule.time_zone}, grace ${schedule.grace_seconds}s`],
          ['Next due', h.next_due_at === null ? '-' : jobTime(h.next_due_at, schedule.time_zone, now)],
          ['Grace ends', h.grace_ends_at === null ? (h.state === 'maintenance' ? 'not judged until the maintenance window ends' : '-') : `${when(h.grace_ends_at)}, ${fromNow(h.grace_ends_at, now)}`],
          ['Max run', schedule.max_run_seconds === null ? 'none' : duration(schedule.max_run_seconds * 1000)],
        );
      } else {
        facts.push(['Heartbeats', `every ${node.heartbeat_interval_seconds}s, down after ${node.failures_for_down} missed + ${node.grace_seconds}s grace; ${h.missed_heartbeats} missed now`]);
        const checks = Object.entries(h.checks ?? {});
        if (checks.length) facts.push(['Checks', checks.map(([name, c]) => `${name} ${c.status}`).join(', ')]);
      }
      // Every node's: a ping there is a heartbeat too (a Healthchecks simple check's crontab line).
      // A read key is not shown it, as the API does not show it the key.
      facts.push(['Ping URL', node.ping_key === undefined ? '(shown to write and admin keys)' : pingUrl(node)]);
      facts.push(['Labels', labels(node.labels) || '-']);
      const head = `${schedule ? 'Scheduled job' : 'Node'} ${node.name} (id ${node.id})\n${renderFacts(facts)}`;
      if (!schedule) return head;
      if (runs.length === 0) return `${head}\n\nNo runs yet (plain success pings are not kept as runs).`;
      return `${head}\n\nLast runs (lifeline runs ${node.name} for more):\n${renderTable(RUN_COLUMNS, runs)}`;
    });
  },
};

export const nodeCommands = [add, apply, list, show, edit, remove];
