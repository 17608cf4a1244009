import { Hono } from 'hono';
import { getChannelsByIds } from '../../channels/store.ts';
import { listDeliveries } from '../../notifications/store.ts';
import { countIncidentsByStatus, getIncident, listIncidents, timelinesOf } from '../../incidents/store.ts';
import type { IncidentRow, IncidentStatus } from '../../incidents/model.ts';
import { isUuid } from '../../db/ids.ts';
import type { AppDeps } from '../../http/deps.ts';
import { isCursorTime } from '../../http/validation.ts';
import { Ago, At, Pager } from '../components.tsx';
import { chrome, cursor, href, readCursor } from '../context.ts';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { actorNames, Actor, IncidentTable, Ledger, SeverityTag, StatusTag, Timeline } from '../incident-parts.tsx';
import { Live, Page } from '../layout.tsx';
import { html, refusal } from '../render.tsx';

const PAGE_SIZE = 50;
const STATUSES: IncidentStatus[] = ['open', 'acknowledged', 'resolved'];
const isIncidentCursor = (k: unknown): k is [string, string] => Array.isArray(k) && k.length === 2 && isCursorTime(k[0]) && isUuid(String(k[1]));

/** id → name of the channels a ledger or timeline mentions. */
async function channelNames(deps: AppDeps, ids: string[]): Promise<Map<string, string>> {
  const rows = await getChannelsByIds(deps.sql, [...new Set(ids)].filter(isUuid));
  return new Map(rows.map((r) => [r.id, r.name]));
}

export function incidentRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();

  app.get('/incidents', ...guards.page, async (c) => {
    const status = (STATUSES as string[]).includes(c.req.query('status') ?? '') ? (c.req.query('status') as IncidentStatus) : 'open';
    const node = isUuid(c.req.query('node') ?? '') ? c.req.query('node') : undefined;
    const after = readCursor(c.req.query('after'), isIncidentCursor);
    const [frame, counts, fetched] = await Promise.all([
      chrome(c, deps),
      countIncidentsByStatus(deps.sql, node),
      listIncidents(deps.sql, { status, nodeId: node, after: after ? { openedAt: new Date(after[0]), id: after[1] } : undefined, limit: PAGE_SIZE + 1 }),
    ]);
    const rows = fetched.slice(0, PAGE_SIZE);
    const last = rows.at(-1);
    const next = fetched.length > PAGE_SIZE && last ? href('/incidents', { status, node, after: cursor([last.opened_at.toISOString(), last.id]) }) : undefined;
    const names = await actorNames(deps.sql, rows.flatMap((r) => [r.acknowledged_by, r.resolved_by]));
    const now = deps.clock.now();
    const self = href('/incidents', { status, node, after: c.req.query('after') });

    return html(
      c,
      <Page title="Incidents" chrome={frame} section="incidents" live={['incident.changed']}>
        <div class="page-head">
          <h1>Incidents{node && rows[0] ? ` of ${rows[0].node_name}` : ''}</h1>
          {node ? <a href="/incidents">All nodes</a> : null}
        </div>
        <Live id="incidents-live" url={self} on={['incident.changed']}>
          <ul class="chips" aria-label="Incidents by status">
            {STATUSES.map((s) => (
              <li>
                <a href={href('/incidents', { status: s, node })} aria-current={s === status ? 'true' : undefined} class={s === 'open' && counts.open > 0 ? 'chip-alert' : undefined}>
                  <b>{counts[s].toLocaleString('en-US')}</b> {s}
                </a>
              </li>
            ))}
          </ul>
          <IncidentTable rows={rows} now={now} names={names} />
          <Pager next={next}>{after ? <a href={href('/incidents', { status, node })}>Newest</a> : null}</Pager>
        </Live>
      </Page>,
    );
  });

  app.get('/incidents/:id', ...guards.page, async (c) => {
    const incident = isUuid(c.req.param('id')) ? await getIncident(deps.sql, c.req.param('id')) : undefined;
    if (!incident) return refusal(c, 404, 'No such incident', 'There is no incident with that id; it may have been removed with its data.');
    return incidentPage(c, deps, incident);
  });

  return app;
}

/** An incident with its timeline and ledger; `notice` says what just happened (or why not). */
async function incidentPage(c: ConsoleContext, deps: AppDeps, incident: IncidentRow) {
  const [frame, timelines, ledger] = await Promise.all([chrome(c, deps), timelinesOf(deps.sql, [incident.id]), listDeliveries(deps.sql, incident.id)]);
  const timeline = timelines.get(incident.id) ?? [];
  const [names, channels] = await Promise.all([
    actorNames(deps.sql, [incident.acknowledged_by, incident.resolved_by, ...timeline.map((e) => (typeof e.detail.by === 'string' ? e.detail.by : null))]),
    channelNames(deps, [...ledger.flatMap((d) => (d.channel_id ? [d.channel_id] : [])), ...timeline.flatMap((e) => (typeof e.detail.channel_id === 'string' ? [e.detail.channel_id] : []))]),
  ]);
  const now = deps.clock.now();
  const self = `/incidents/${incident.id}`;
  return html(
    c,
    <Page title={incident.title} chrome={frame} section="incidents" live={['incident.changed']}>
      <p class="crumbs">
        <a href="/incidents">← Incidents</a>
      </p>
      <Live id="incident-live" url={self} on={['incident.changed']}>
        <div class="page-head">
          <h1>{incident.title}</h1>
          <div class="actions">
            <StatusTag status={incident.status} />
            <SeverityTag severity={incident.severity} />
          </div>
        </div>
        <div class="panel">
          <dl class="facts">
            <dt>Node</dt>
            <dd>
              <a href={`/nodes/${encodeURIComponent(incident.node_name)}`}>{incident.node_name}</a>
            </dd>
            <dt>Why</dt>
            <dd>{incident.reason ?? '—'}</dd>
            <dt>Opened</dt>
            <dd>
              <At at={incident.opened_at} /> (<Ago at={incident.opened_at} now={now} />)
            </dd>
            <dt>Acknowledged</dt>
            <dd>
              {incident.acknowledged_at ? (
                <>
                  <At at={incident.acknowledged_at} /> by <Actor by={incident.acknowledged_by} names={names} />
                </>
              ) : (
                <span class="muted">not yet</span>
              )}
            </dd>
            <dt>Resolved</dt>
            <dd>
              {incident.resolved_at ? (
                <>
                  <At at={incident.resolved_at} /> by <Actor by={incident.resolved_by} names={names} />
                </>
              ) : (
                <span class="muted">not yet</span>
              )}
            </dd>
            <dt>Escalation level</dt>
            <dd>{incident.escalation_level}</dd>
            <dt>Version</dt>
            <dd class="mono">{incident.version}</dd>
          </dl>
        </div>
        <h2>Timeline</h2>
        <Timeline entries={timeline} names={names} channels={channels} />
        <h2>Who was told</h2>
        <Ledger rows={ledger} channels={channels} />
      </Live>
    </Page>,
  );
}
