// `npm run demo`: a real engine (started as `npm start` starts it, on its own embedded Postgres
// unless DATABASE_URL is set), a fleet of 50 simulated agents
// beating every 2 s, and a printed schedule of outages and degradations, so a newcomer watches
// nodes go down, incidents open, emails arrive, incidents resolve and uptime add up, in under
// two minutes. `--ci` (or CI=true) runs a short bounded scenario and exits 0 only if an incident
// was opened and resolved.

import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { FleetUptime, Incident, NodeUptime } from '../src/api/shapes.ts';
import { Client } from '../src/cli/client.ts';
import { duration, percent } from '../src/cli/format.ts';
import { renderTable } from '../src/cli/table.ts';
import { EngineProcess } from '../test/helpers/engine-process.ts';
import { startSmtpSink, type SmtpSink } from '../test/helpers/smtp-sink.ts';
import { Fleet } from './fleet.ts';
import { CI, describeAction, FAILURES_FOR_DOWN, FLEET, FULL, INTERVAL_SECONDS, type Action } from './scenario.ts';
import { DEMO_FILTER, ONCALL_ADDRESS, prepare } from './setup.ts';
import { Watch } from './watch.ts';
import { LOCAL_RECEIVERS_ENV } from '../test/helpers/local-receivers.ts';

/** The demo's own data directory, beside the engine's (.lifeline), so its 50 nodes never mix with yours. */
const DEFAULT_DATA_DIR = '.lifeline-demo';
const POLL_MS = 500;
const FIRST_START_MS = 300_000;
const SUMMARY_EVERY_MS = 10_000;

const { values: flags } = parseArgs({ options: { duration: { type: 'string' }, ci: { type: 'boolean' }, 'data-dir': { type: 'string' } }, strict: true });
const ci = flags.ci === true || ['true', '1'].includes(process.env.CI ?? '');
const scenario = ci ? CI : FULL;
const durationMs = 1000 * (flags.duration === undefined ? scenario.durationSeconds : Number(flags.duration));
if (!(durationMs > 0)) {
  process.stderr.write(`demo: --duration must be a number of seconds, got "${flags.duration}"\n`);
  process.exit(2);
}

/** When the fleet started: the schedule's and the printed times' zero. Unset during setup. */
let t0: number | undefined;
function say(kind: string, text: string): void {
  const at = t0 === undefined ? '[ setup ]' : `[+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  process.stdout.write(`${at} ${kind.padEnd(8)} ${text}\n`);
}
const elapsed = () => Date.now() - (t0 ?? Date.now());

/** The engine's port, or why it could not start (its last error lines). */
async function listening(engine: EngineProcess): Promise<number> {
  const exited = engine.exited.then(() => {
    const errors = engine.lines.filter((l) => Number(l.level) >= 50).map((l) => `${l.msg}: ${(l.err as { message?: string })?.message ?? ''}`);
    throw new Error(`the engine exited at start: ${[...errors, ...engine.stderr].slice(-3).join(' | ')}`);
  });
  // A first run creates the Postgres cluster: seconds on a laptop, a minute on a loaded CI machine.
  return Promise.race([engine.waitFor((l) => l.msg.startsWith('lifeline listening'), FIRST_START_MS).then((l) => l.port as number), exited]);
}

interface Stage {
  engine: EngineProcess;
  sink: SmtpSink | undefined;
  client: Client;
  fleet: Fleet;
  watch: Watch;
  stop: AbortSignal;
}

/** One scripted action: the fleet changes, or on-call acknowledges through the API. */
async function act(stage: Stage, a: Action): Promise<void> {
  say('sim', describeAction(a));
  for (const name of a.nodes) {
    if (a.do === 'fail') stage.fleet.fail(name);
    else if (a.do === 'degrade') stage.fleet.degrade(name, a.check);
    else if (a.do === 'recover') stage.fleet.recover(name);
    else {
      const open = [...stage.watch.incidents.values()].find((i) => i.node_name === name && i.status === 'open');
      if (open) await stage.client.post(`/v1/incidents/${open.id}/acknowledge`, { by: 'demo-oncall' });
      else say('sim', `${name} has no open incident to acknowledge`);
    }
  }
}

/** Runs the schedule and reports what the engine does, until the duration, Ctrl-C, or (CI) the story is told. */
async function play(stage: Stage): Promise<void> {
  const { engine, sink, fleet, watch } = stage;
  const pending = [...scenario.actions];
  const summary = () => `${watch.summary()} | emails ${sink ? sink.messages.length : 'not watched'} | heartbeats ${fleet.heartbeats}`;
  // Told: every incident resolved, and its two emails (opened, resolved) in.
  const told = () =>
    pending.length === 0 &&
    watch.countIncidents('resolved') > 0 &&
    watch.countIncidents('resolved') === watch.incidents.size &&
    (!sink || sink.messages.length >= 2 * watch.incidents.size);
  let mails = 0;
  let logLines = 0;
  // Emails and engine errors that came in since the last report. Run once more after the loop:
  // the emails that make the story told may arrive after this iteration's report.
  const report = () => {
    for (const m of sink?.messages.slice(mails) ?? []) say('email', `to ${m.envelopeTo.join(', ')}: ${m.subject}`);
    mails = sink?.messages.length ?? 0;
    for (const l of engine.lines.slice(logLines)) if (Number(l.level) >= 50) say('engine', `error: ${l.msg}`);
    logLines = engine.lines.length;
  };
  let nextSummary = SUMMARY_EVERY_MS;
  while (!stage.stop.aborted && elapsed() < durationMs && !(ci && told())) {
    while (pending[0] && pending[0].at * 1000 <= elapsed()) await act(stage, pending.shift()!);
    await watch.poll().catch((err: Error) => say('warn', `could not read the API: ${err.message}`));
    report();
    if (elapsed() >= nextSummary) {
      say('summary', summary());
      nextSummary += SUMMARY_EVERY_MS;
    }
    await sleep(POLL_MS, undefined, { signal: stage.stop }).catch(() => {});
  }
  report();
  fleet.stopAll();
  say('summary', summary());
}

async function run(): Promise<boolean> {
  const smtpUrl = process.env.SMTP_URL;
  const sink = smtpUrl ? undefined : await startSmtpSink();
  const admin = process.env.LIFELINE_ADMIN_TOKEN ?? `demo-${randomBytes(16).toString('hex')}`;
  const databaseUrl = process.env.DATABASE_URL || undefined;
  // Not LIFELINE_DATA_DIR: that may be a running engine's, which the demo's engine would refuse to share.
  const dataDir = resolve(flags['data-dir'] ?? DEFAULT_DATA_DIR);
  const engine = EngineProcess.start({
    // Unset: the engine starts Postgres in the data directory (the first run creates it).
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    LIFELINE_DATA_DIR: dataDir,
    PORT: process.env.PORT ?? '0',
    HOST: '127.0.0.1',
    LIFELINE_ADMIN_TOKEN: admin,
    LIFELINE_EVALUATOR_INTERVAL_MS: '500',
    // Every update mailed on its own, as the scenario shows them: on a machine too busy to keep 50
    // agents' 2 s heartbeats, a dozen nodes can flap at once, and past the default 20 updates a
    // minute the email channel would hold the rest for a digest due after the demo has ended.
    LIFELINE_STORM_THRESHOLD: process.env.LIFELINE_STORM_THRESHOLD ?? '1000',
    LIFELINE_QUEUE_PREFIX: process.env.LIFELINE_QUEUE_PREFIX ?? 'lifeline-demo',
    // The demo's receivers listen on this machine, which the engine refuses to send to unless told.
    ...LOCAL_RECEIVERS_ENV,
    ...(sink ? { SMTP_URL: sink.url } : {}),
  });
  // The engine runs in its own process group: a Ctrl-C here does not reach it, so take it along.
  process.on('exit', () => engine.kill('SIGTERM'));
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  try {
    say('engine', databaseUrl ? 'starting' : `starting on its own Postgres in ${dataDir} (the first run creates it)`);
    const url = `http://127.0.0.1:${await listening(engine)}`;
    const client = new Client({ url, token: admin });
    say('engine', `listening on ${url}${databaseUrl ? ` (database ${new URL(databaseUrl).pathname.slice(1)})` : ''}`);
    const { nodes } = await prepare(client, FLEET);
    say('channel', `email to ${ONCALL_ADDRESS}${sink ? `, caught by an SMTP sink in this process (${sink.url})` : ` via ${smtpUrl}, not shown here`}`);
    say('fleet', `${nodes.length} nodes labelled ${DEMO_FILTER}, a heartbeat every ${INTERVAL_SECONDS}s, down after ${FAILURES_FOR_DOWN} missed`);
    say('try', `while it runs: LIFELINE_URL=${url} LIFELINE_TOKEN=${admin} npx lifeline incidents list`);
    say('schedule', `${ci ? 'CI scenario' : 'scenario'}, ${durationMs / 1000}s at most:`);
    for (const a of scenario.actions) say('schedule', `  at +${a.at}s ${describeAction(a)}`);

    const fleet = new Fleet(url, INTERVAL_SECONDS * 1000, (line) => say('agent', line));
    for (const n of nodes) fleet.add(n.name, n.token);
    const watch = new Watch(client, new Set(nodes.map((n) => n.id)), say);
    t0 = Date.now();
    fleet.startAll();
    say('fleet', `${fleet.size} agents started`);
    await play({ engine, sink, client, fleet, watch, stop: stop.signal });
    await uptimeReport(client, nodes, scenario.actions);
    return ci ? await verdict(client, new Set(nodes.map((n) => n.id))) : true;
  } finally {
    engine.kill('SIGTERM');
    await engine.exited;
    await sink?.close();
  }
}

/** Uptime of the nodes the scenario touched, and of the whole fleet, over this run. */
async function uptimeReport(client: Client, nodes: Array<{ id: string; name: string }>, actions: Action[]) {
  const touched = nodes.filter((n) => actions.some((a) => a.nodes.includes(n.name)));
  const rows = await Promise.all(
    touched.map(async (n) => ({ name: n.name, u: await client.get<NodeUptime>(`/v1/nodes/${n.id}/uptime`, { window: '24h' }) })),
  );
  const fleet = await client.get<FleetUptime>('/v1/uptime', { window: '24h', label: DEMO_FILTER, limit: 500 });
  say('uptime', `fleet of ${fleet.items.length}: ${percent(fleet.uptime_ratio)} (GET /v1/uptime); the nodes the scenario touched:`);
  const table = renderTable(
    [
      { header: 'NODE', value: (r: (typeof rows)[number]) => r.name },
      { header: 'UPTIME', value: (r) => percent(r.u.uptime_ratio), align: 'right' },
      { header: 'DOWN', value: (r) => duration(r.u.seconds.down * 1000), align: 'right' },
      { header: 'DEGRADED', value: (r) => duration(r.u.seconds.degraded * 1000), align: 'right' },
    ],
    rows,
  );
  for (const line of table.split('\n')) say('uptime', `  ${line}`);
}

/** CI's question, asked of the API rather than of what this process happened to print. */
async function verdict(client: Client, nodeIds: ReadonlySet<string>): Promise<boolean> {
  const ours = (await client.all<Incident>('/v1/incidents')).items.filter((i) => nodeIds.has(i.node_id));
  const resolved = ours.filter((i) => i.status === 'resolved');
  const ok = resolved.length > 0;
  say('result', `${ok ? 'PASS' : 'FAIL'}: ${ours.length} incidents opened, ${resolved.length} resolved`);
  return ok;
}

process.stdout.write(
  `Lifeline demo: ${FLEET.length} simulated agents against a real engine (${ci ? 'CI scenario, at most ' : ''}${durationMs / 1000} s once it is up; Ctrl-C stops it)\n`,
);
run().then(
  (ok) => (process.exitCode = ok ? 0 : 1),
  (err: Error) => {
    process.stderr.write(`demo: ${err.message}\n`);
    process.exitCode = 1;
  },
);
