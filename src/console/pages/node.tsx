import { Hono } from 'hono';
import { countIncidentsByStatus, listIncidents } from '../../incidents/store.ts';
import { getNode, listTransitions } from '../../nodes/store.ts';
import { runDurationMs } from '../../jobs/model.ts';
import { listRuns, type RunRow } from '../../jobs/store.ts';
import { expectedRun, type NodeRow } from '../../nodes/model.ts';
import { policiesForNodes } from '../../oncall/store.ts';
import { missedHeartbeats, okBeatNoun } from '../../health/decide.ts';
import { hasSeconds, type CronSchedule } from '../../health/cron-deadline.ts';
import type { AppDeps } from '../../http/deps.ts';
import { isInt32 } from '../../http/validation.ts';
import { bucketStart, DAY_MS } from '../../uptime/buckets.ts';
import { fleetUptime, nodeBreakdown } from '../../uptime/report.ts';
import { summarize } from '../../uptime/summary.ts';
import { NODE_STATES } from '../../uptime/state-time.ts';
import { UPTIME_WINDOWS, type UptimeWindow } from '../../uptime/windows.ts';
import { may } from '../acting.tsx';
import { Ago, alreadyShownOnce, At, AtOn, Back, EngineUnset, LabelList, Lasting, Notice, Pager, Snippet, StateBadge, Table } from '../components.tsx';
import { chrome, cursor, engineAddress, href, nodePath, readCursor } from '../context.ts';
import { htmlAttr } from '../../http/html-attr.ts';
import { ago, day, duration, percent, runTime } from '../format.ts';
import type { ConsoleEnv, Guards } from '../guard.ts';
import { IncidentTable, incidentTableFacts } from '../incident-parts.tsx';
import { MaintenanceLink } from './maintenance.tsx';
import { Live, Page } from '../layout.tsx';
import type { EventType } from '../../live/model.ts';
import { AskFirst } from '../confirm.tsx';
import { html, refusal } from '../render.tsx';
import { isUtc, onJobClock } from '../../local-time.ts';
import { UptimeBar } from '../uptime-bar.tsx';

const TRANSITIONS = 20;
/** Its reason changes without a transition while it stays down (node.reason_changed). */
const NODE_ON: readonly EventType[] = ['node.state_changed', 'node.reason_changed', 'incident.changed'];
const RUNS = 10;
const INCIDENTS = 10;
const WINDOWS: UptimeWindow[] = ['24h', '7d', '30d', '90d'];
const BAR_DAYS = 90;

/** The four windows' figures and the bar's 90 days, read side by side (each one snapshot). */
async function uptimeOf(deps: AppDeps, node: NodeRow, now: number) {
  const windows = Promise.all(WINDOWS.map((w) => fleetUptime(deps.sql, { nodeId: node.id }, { from: now - UPTIME_WINDOWS[w], to: now }, now)));
  const days = nodeBreakdown(deps.sql, node.id, { from: bucketStart(now, 'day') - (BAR_DAYS - 1) * DAY_MS, to: now }, 'day', now);
  const [figures, bar] = await Promise.all([windows, days]);
  return { figures: figures.map((rows, i) => ({ window: WINDOWS[i]!, summary: rows[0] ? summarize(rows[0].ms) : undefined })), days: bar ?? [] };
}

function UptimeFigures(p: { figures: Awaited<ReturnType<typeof uptimeOf>>['figures'] }) {
  return (
    <div class="uptime-figures">
      {p.figures.map(({ window, summary }) => (
        <div class="figure">
          <div class="label">{window}</div>
          <div class="value">{percent(summary?.uptime_ratio ?? null)}</div>
          <div class="detail">
            {summary && summary.seconds.down > 0 ? `down ${duration(summary.seconds.down * 1000)}` : 'no downtime'}
            {summary && summary.seconds.maintenance > 0 ? ` · maint. ${duration(summary.seconds.maintenance * 1000)}` : ''}
            {summary && summary.seconds.unknown > 0 ? ` · unknown ${duration(summary.seconds.unknown * 1000)}` : ''}
          </div>
        </div>
      ))}
    </div>
  );
}

function Checks(p: { node: NodeRow }) {
  const checks = Object.entries(p.node.checks ?? {});
  if (checks.length === 0) return <p class="muted">The last heartbeat reported no checks.</p>;
  return (
    <Table head={['Check', 'Status', { label: 'Value', num: true }, 'Message']}>
      {checks.map(([name, c]) => (
        <tr>
          <td class="mono" data-label="Check">
            {name}
          </td>
          <td data-label="Status">
            <span class={`state state-${c.status === 'ok' ? 'healthy' : c.status === 'warn' ? 'degraded' : 'down'}`}>{c.status}</span>
          </td>
          <td class="num" data-label="Value">
            {c.value ?? ''}
          </td>
          <td class="reason" data-label="Message">
            {c.message ?? ''}
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function nodeRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();

  app.get('/nodes/:ref', ...guards.page, async (c) => {
    const node = await getNode(deps.sql, c.req.param('ref'));
    if (!node) return refusal(c, deps, 404, 'No such node', `There is no node named or numbered "${c.req.param('ref')}". It may have been deleted.`);
    const before = readCursor(c.req.query('before'), isInt32);
    const nowDate = deps.clock.now();
    const now = nowDate.getTime();
    const [frame, transitions, incidents, incidentCounts, uptime, policies, runs] = await Promise.all([
      chrome(c, deps),
      listTransitions(deps.sql, node.id, before, TRANSITIONS + 1),
      listIncidents(deps.sql, { nodeId: node.id, limit: INCIDENTS }),
      countIncidentsByStatus(deps.sql, { nodeId: node.id }),
      uptimeOf(deps, node, now),
      policiesForNodes(deps.sql, [node.id]),
      listRuns(deps.sql, node.id, undefined, RUNS),
    ]);
    const facts = await incidentTableFacts(deps.sql, incidents, nowDate);
    const shown = transitions.slice(0, TRANSITIONS);
    const older = transitions.length > TRANSITIONS ? href(nodePath(node), { before: cursor(shown.at(-1)!.state_version) }) : undefined;
    // A scheduled job is judged by its cron, not by its (unused) heartbeat interval: 0, as in the API.
    const missed = node.schedule
      ? 0
      : missedHeartbeats(
          node.last_heartbeat_at,
          node.coverage_since ?? node.created_at,
          { heartbeatIntervalSeconds: node.heartbeat_interval_seconds, graceSeconds: node.grace_seconds, failuresForDown: node.failures_for_down, successesForRecovery: node.successes_for_recovery },
          nowDate,
        );
    const policy = policies.get(node.id);
    const totalIncidents = incidentCounts.open + incidentCounts.acknowledged + incidentCounts.resolved;
    const self = href(nodePath(node), { before: c.req.query('before') });

    return html(
      c,
      <Page title={node.name} chrome={frame} section="fleet" live={NODE_ON}>
        <Back href="/">Fleet</Back>
        {c.req.query('done') === 'ping-key' ? (
          <Notice kind="ok">
            <p>A new ping URL is below. The old one no longer works: put the new one in the job's crontab.</p>
          </Notice>
        ) : null}
        {c.req.query('done') === 'already' ? (
          <Notice kind="ok">
            <p>
              {alreadyShownOnce('the token it showed', 'If it was lost, rotate the token.')}
              {node.schedule ? ' A new ping URL it made is the one below.' : null}
            </p>
          </Notice>
        ) : null}
        {c.req.query('done') === 'saved' ? (
          <Notice kind="ok">
            <p>Saved. The node is judged afresh with its new settings at the next evaluator tick.</p>
          </Notice>
        ) : null}
        <Live id="node-live" url={self} on={NODE_ON}>
          <div class="page-head">
            <h1>{node.name}</h1>
            <div class="actions">
              <StateBadge state={node.state} large />
              {may(frame.session, 'write') ? <MaintenanceLink node={node.name} /> : null}
            </div>
          </div>
          <div class="panel">
            <dl class="facts">
              <dt>Since</dt>
              <dd>
                <Lasting since={node.since} now={nowDate} />
              </dd>
              <dt>Why</dt>
              <dd>{node.reason ?? '—'}</dd>
              <dt>{node.schedule ? 'Last ping' : 'Last heartbeat'}</dt>
              <dd>
                <Ago at={node.last_heartbeat_at} now={nowDate} />
                {node.last_status ? ` · reported ${node.last_status}` : ''}
                {missed > 0 ? ` · ${missed} missed` : ''}
              </dd>
              {node.schedule ? (
                <>
                  <dt>Next run</dt>
                  <dd>
                    <NextRun node={node} schedule={node.schedule} now={nowDate} />
                  </dd>
                </>
              ) : null}
              <dt>Labels</dt>
              <dd>{Object.keys(node.labels).length ? <LabelList labels={node.labels} /> : <span class="muted">none</span>}</dd>
            </dl>
          </div>

          <h2>Uptime</h2>
          <div class="panel">
            <UptimeFigures figures={uptime.figures} />
            <UptimeBar days={uptime.days} now={now} />
            <details>
              <summary>Every day in figures</summary>
              <DayTable days={uptime.days} />
            </details>
          </div>

          {node.schedule || runs.length ? (
            <>
              <h2>Runs</h2>
              <Runs rows={runs} lastPing={node.last_heartbeat_at} now={nowDate} />
            </>
          ) : (
            <>
              <h2>Checks</h2>
              <Checks node={node} />
            </>
          )}

          <h2>
            Incidents <span class="muted">({totalIncidents.toLocaleString('en-US')})</span>
          </h2>
          <IncidentTable rows={incidents} now={nowDate} facts={facts} showNode={false} />
          {totalIncidents > incidents.length ? (
            <p>
              <a href={href('/incidents', { status: incidentCounts.open + incidentCounts.acknowledged ? undefined : 'resolved', node: node.id })}>All incidents of {node.name}</a>
            </p>
          ) : null}

          <h2>Transitions</h2>
          <Transitions rows={shown} job={node.schedule !== null} />
          <Pager next={older}>{before !== undefined ? <a href={nodePath(node)}>Latest</a> : null}</Pager>
        </Live>

        <h2>Settings</h2>
        {may(frame.session, 'write') ? (
          <div class="actions">
            <a class="button" href={`${nodePath(node)}/edit`}>
              Edit
            </a>
            {/* By id: sent again after a rename (a reload), it still reaches the node, and is told what it did. */}
            <AskFirst href={`/nodes/${node.id}/token`} name={node.name} verb="Replace" label="Rotate token" />
            <AskFirst href={`/nodes/${node.id}/ping-key`} name={node.name} verb="Replace" label="New ping URL" />
            <AskFirst href={`${nodePath(node)}/delete`} name={node.name} />
          </div>
        ) : null}
        <div class="panel">
          <dl class="facts">
            {node.schedule ? (
              <>
                <dt>Schedule</dt>
                <dd>
                  <span class="mono">{node.schedule.cron}</span> in {node.schedule.time_zone}
                </dd>
                <dt>Down after</dt>
                <dd>
                  a run with no success ping{node.schedule.grace_seconds ? ` within ${duration(node.schedule.grace_seconds * 1000)}` : ''}
                  {node.schedule.max_run_seconds ? `, or running longer than ${duration(node.schedule.max_run_seconds * 1000)}` : ''}
                </dd>
              </>
            ) : (
              <>
                <dt>Heartbeat interval</dt>
                <dd>{duration(node.heartbeat_interval_seconds * 1000)}</dd>
                <dt>Down after</dt>
                <dd>
                  {node.failures_for_down} missed {node.failures_for_down === 1 ? 'heartbeat' : 'heartbeats'}
                  {node.grace_seconds ? ` + ${duration(node.grace_seconds * 1000)} grace` : ''}
                </dd>
              </>
            )}
            {/* A ping changes the node's state: the URL is for those who may change it (seesPingKey). */}
            {may(frame.session, 'write') ? (
              <>
                <dt>Ping URL</dt>
                <dd class="mono" id="ping-url">
                  {engineAddress(deps, `/ping/${node.ping_key}`)}
                  {deps.publicUrl === undefined ? <EngineUnset /> : null}
                </dd>
              </>
            ) : null}
            <dt>Healthy again after</dt>
            <dd>
              {node.successes_for_recovery} {okBeatNoun(node.schedule !== null, node.successes_for_recovery)}
            </dd>
            <dt>Escalation</dt>
            <dd>
              {policy ? <a href={`/policies/${policy.id}`}>{policy.name}</a> : <span class="muted">no policy: nobody is paged</span>}
              {policy && node.escalation_policy_id === null ? <span class="muted"> (following the default)</span> : null}
            </dd>
            <dt>Id</dt>
            <dd class="mono">{node.id}</dd>
            <dt>Created</dt>
            <dd>
              <At at={node.created_at} />
            </dd>
          </dl>
        </div>

        <h2>Badge</h2>
        <Badges node={node} deps={deps} explained={may(frame.session, 'write')} />
      </Page>,
    );
  });

  return app;
}

/**
 * The node's public badges, to paste into a README: its state, and its 30-day uptime. Every node
 * has one from its creation (its badge id names the badge, not the node), so there is nothing to
 * publish first; whoever has the address sees the state, as README's "Badges" says. `explained`:
 * the page already shows <EngineUnset/> (under the ping URL), which it gives once.
 */
function Badges(p: { node: NodeRow; deps: AppDeps; explained: boolean }) {
  const path = `/badge/${p.node.badge_id}.svg`;
  const badges = [
    { id: 'state', what: 'State', query: '', alt: `${p.node.name} status` },
    { id: 'uptime', what: 'Uptime over 30 days', query: '?metric=uptime&window=30d', alt: `${p.node.name} uptime` },
  ];
  return (
    <div class="panel">
      <p class="muted">
        Public: no key is needed to see them, and anyone with the address sees this node's state. <code>POST /v1/nodes/{'{id}'}/badge</code> draws a new
        address, and the old one stops working.
      </p>
      {badges.map((b) => {
        // The preview is same-origin, so its path is enough; a README needs the whole address.
        const url = engineAddress(p.deps, path + b.query);
        // The placeholder stays as the other snippets show it, to be replaced whole.
        const src = p.deps.publicUrl === undefined ? engineAddress(p.deps, htmlAttr(path + b.query)) : htmlAttr(url);
        return (
          <div class="field">
            <h3>
              {b.what} <img src={`${path}${b.query}`} alt={b.alt} class="badge-preview" />
            </h3>
            <Snippet id={`badge-${b.id}-url`}>{url}</Snippet>
            <p class="hint">Markdown</p>
            <Snippet id={`badge-${b.id}-markdown`}>{`![${b.alt}](${url})`}</Snippet>
            <p class="hint">HTML</p>
            <Snippet id={`badge-${b.id}-html`}>{`<img src="${src}" alt="${htmlAttr(b.alt)}">`}</Snippet>
          </div>
        );
      })}
      <p class="hint">
        <code>?label=</code> changes the left text; <code>.json</code> instead of <code>.svg</code> is the same badge for shields.io's endpoint badges.
      </p>
      {p.deps.publicUrl === undefined && !p.explained ? <EngineUnset /> : null}
    </div>
  );
}

/**
 * The run the job's success ping is awaited for (expectedRun, as the API's `next_due_at`), with why
 * the ones before a new job's first are not, and marked as not judged in maintenance. A run already
 * past whose ping is still within its grace is said as awaited until the grace ends ("Awaiting the
 * 03:24 UTC run's ping until 03:29 UTC, in 3 min"), not as a next run minutes ago.
 */
function NextRun(p: { node: NodeRow; schedule: CronSchedule; now: Date }) {
  const next = expectedRun(p.node, p.schedule, p.now);
  const seconds = hasSeconds(p.schedule.cron);
  const onClock = isUtc(p.schedule.time_zone) ? null : ` (${onJobClock(next.at.getTime(), p.schedule.time_zone, seconds)})`;
  const first = next.first ? <span class="sub">its first expected run: one before it comes too soon after its schedule was set</span> : null;
  if (next.graceEndsAt !== null && next.at <= p.now) {
    return (
      <>
        Awaiting the <AtOn at={next.at} now={p.now} seconds={seconds} />
        {onClock} run's ping until <AtOn at={next.graceEndsAt} now={p.now} seconds={seconds} />, {ago(next.graceEndsAt, p.now)}
        {first}
      </>
    );
  }
  return (
    <>
      <Ago at={next.at} now={p.now} seconds={seconds} />
      {onClock}
      {next.graceEndsAt === null ? <span class="sub">not judged until the maintenance window ends</span> : null}
      {first}
      {p.schedule.grace_seconds ? <span class="sub">its success ping is due within {duration(p.schedule.grace_seconds * 1000)} of it</span> : null}
    </>
  );
}

/** A job's runs; a plain success ping is no run (src/jobs/model.ts), so without any the page says so. */
function Runs(p: { rows: RunRow[]; lastPing: Date | null; now: Date }) {
  if (p.rows.length === 0) {
    return (
      <p class="muted">
        No runs yet: plain success pings are not kept as runs; /start and /fail pings, and pings with an exit code or a body, are.{' '}
        {p.lastPing ? (
          <>
            Last ping <Ago at={p.lastPing} now={p.now} />.
          </>
        ) : (
          'The job has not pinged.'
        )}
      </p>
    );
  }
  return (
    <Table head={['Started', 'Finished', { label: 'Took', num: true }, 'Status', { label: 'Exit', num: true }, 'Output']}>
      {p.rows.map((r) => {
        const took = runDurationMs({ startedAt: r.started_at, finishedAt: r.finished_at });
        return (
          <tr>
            <td data-label="Started">
              <At at={r.started_at} none="—" />
            </td>
            <td data-label="Finished">
              <At at={r.finished_at} none="—" />
            </td>
            <td class="num run-time" data-label="Took">
              {took === null ? '' : runTime(took)}
            </td>
            <td data-label="Status">
              <span class={`state state-${r.status === 'success' ? 'healthy' : r.status === 'failure' ? 'down' : 'unknown'}`}>{r.status}</span>
            </td>
            <td class="num" data-label="Exit">
              {r.exit_code ?? ''}
            </td>
            <td data-label="Output">
              {r.output ? (
                <details>
                  <summary>{r.output.length > 60 ? `…${r.output.slice(-60)}` : r.output}</summary>
                  <pre>{r.output}</pre>
                </details>
              ) : (
                ''
              )}
            </td>
          </tr>
        );
      })}
    </Table>
  );
}

function Transitions(p: { rows: Awaited<ReturnType<typeof listTransitions>>; job: boolean }) {
  if (p.rows.length === 0) return <p class="muted">No transitions yet: the {p.job ? 'job has not pinged' : 'node has not sent a heartbeat'}.</p>;
  return (
    <Table head={['At', 'From', 'To', 'Why']}>
      {p.rows.map((t) => (
        <tr>
          <td data-label="At">
            <At at={t.at} />
          </td>
          <td data-label="From">
            <StateBadge state={t.from_state} />
          </td>
          <td data-label="To">
            <StateBadge state={t.to_state} />
          </td>
          <td data-label="Why" class="reason">
            {t.reason ?? ''}
          </td>
        </tr>
      ))}
    </Table>
  );
}

/** Every day in figures: five columns on a wide screen, one wrapping line a day on a phone (style.ts). */
function DayTable(p: { days: Awaited<ReturnType<typeof uptimeOf>>['days'] }) {
  // Days before the node's first recorded moment say only "no data": a node added yesterday would
  // list 89 of them. The bar above still spans all 90 days.
  const first = p.days.findIndex((b) => NODE_STATES.some((s) => b.ms[s] > 0));
  if (first < 0) return <p class="muted">Nothing recorded yet.</p>;
  return (
    <div class="day-table">
      <Table head={['Day (UTC)', { label: 'Up', num: true }, { label: 'Down', num: true }, { label: 'Maint.', num: true }, { label: 'Unknown', num: true }]} cards={false}>
        {p.days
          .slice(first)
          .reverse()
          .map((b) => {
            const s = summarize(b.ms);
            return (
              <tr>
                <td>{day(new Date(b.start))}</td>
                <td class="num">{percent(s.uptime_ratio)}</td>
                <td class="num" data-label="down">
                  {b.ms.down ? duration(b.ms.down) : ''}
                </td>
                <td class="num" data-label="maint.">
                  {b.ms.maintenance ? duration(b.ms.maintenance) : ''}
                </td>
                <td class="num" data-label="unknown">
                  {b.ms.unknown ? duration(b.ms.unknown) : ''}
                </td>
              </tr>
            );
          })}
      </Table>
    </div>
  );
}
