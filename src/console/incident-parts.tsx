import type { Child } from 'hono/jsx';
import { getChannelsByIds } from '../channels/store.ts';
import type { Queryable } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import { maintenanceEnds } from '../maintenance/store.ts';
import { pagedNobody } from '../incidents/store.ts';
import { getSchedules } from '../oncall/store-schedules.ts';
import { userNames } from '../oncall/store-users.ts';
import { isPageEvent, pageStep, type DeliveryRow } from '../notifications/model.ts';
import { CHANNEL_TYPE_NAMES, isChannelType } from '../channels/model.ts';
import type { IncidentRow, TimelineEntry } from '../incidents/model.ts';
import { actorNames } from '../incidents/actor-names.ts';
import { shownActor } from '../incidents/shown-actor.ts';
import { CATEGORIES } from '../incidents/categorize.ts';
import { Ago, At, Notice, Table } from './components.tsx';
import { NOT_SET_UP, unsentWithoutEmail } from './email-reach.tsx';
import { atOn, duration, utc } from './format.ts';
import { ZonedAt } from './zones.tsx';

// Pieces the incident pages and the node page share: the incident table, who did something, and
// how timeline entries and ledger rows read.

/** The names an incident's page shows for ids: the keys that acted, the channels and people told, the schedules with nobody on call. */
export interface Names {
  keys: Map<string, string>;
  channels: Map<string, string>;
  users: Map<string, string>;
  schedules: Map<string, string>;
}

const ids = (v: unknown): string[] => (typeof v === 'string' && isUuid(v) ? [v] : Array.isArray(v) ? v.flatMap(ids) : []);

/** Every name the timeline and ledger of an incident mention, in three queries (four when a schedule had nobody on call). */
export async function namesFor(sql: Queryable, incident: IncidentRow, timeline: TimelineEntry[], ledger: DeliveryRow[]): Promise<Names> {
  const channelIds = [...new Set([...ledger.flatMap((d) => ids(d.channel_id)), ...timeline.flatMap((e) => [...ids(e.detail.channel_id), ...ids(e.detail.channel_ids)])])];
  const userIds = [
    ...new Set([
      ...ledger.flatMap((d) => ids(d.user_id)),
      ...timeline.flatMap((e) => [...ids(e.detail.user_id), ...(Array.isArray(e.detail.users) ? e.detail.users.flatMap((u: { user_id?: unknown }) => ids(u?.user_id)) : [])]),
    ]),
  ];
  const scheduleIds = [...new Set(timeline.flatMap((e) => ids(e.detail.empty_schedule_ids)))];
  const [keys, channels, users, schedules] = await Promise.all([
    actorNames(sql, [incident.acknowledged_by, incident.resolved_by, ...timeline.map((e) => (typeof e.detail.by === 'string' ? e.detail.by : null))]),
    getChannelsByIds(sql, channelIds),
    userNames(sql, userIds),
    getSchedules(sql, scheduleIds),
  ]);
  return { keys, channels: new Map(channels.map((c) => [c.id, c.name])), users, schedules: new Map([...schedules].map(([id, s]) => [id, s.name])) };
}

/** Whom a delivery or a timeline entry names: a channel, a person, or a person's own channel. */
function Recipient(p: { channelId: unknown; userId: unknown; names: Names }) {
  const channel = typeof p.channelId === 'string' ? (p.names.channels.get(p.channelId) ?? 'a deleted channel') : undefined;
  const user = typeof p.userId === 'string' ? (p.names.users.get(p.userId) ?? 'a deleted person') : undefined;
  if (user && channel) {
    return (
      <>
        <b>{user}</b> (through {channel})
      </>
    );
  }
  if (user) {
    return (
      <>
        <b>{user}</b> (by email)
      </>
    );
  }
  return <b>{channel ?? 'nobody'}</b>;
}

/** Whom a level named, from an opening's or an escalation's timeline detail: its channels and people. */
function named(detail: Record<string, unknown>, names: Names): string[] {
  const channels = ids(detail.channel_ids).map((id) => names.channels.get(id) ?? 'a deleted channel');
  const users = Array.isArray(detail.users) ? detail.users.map((u: { user_id?: string; name?: string | null }) => u.name ?? (u.user_id ? names.users.get(u.user_id) : undefined) ?? 'someone') : [];
  return [...channels, ...users];
}

/** " — pages ops-mail, alice": whom an opening or an escalation paged. */
function Paged(p: { detail: Record<string, unknown>; names: Names }) {
  const all = named(p.detail, p.names);
  return all.length ? <> — pages {all.join(', ')}</> : null;
}

/**
 * A level as people count them: the first is level 1, as the policy page numbers them (the
 * engine and the API count from 0).
 */
export const levelName = (level: unknown): string => (typeof level === 'number' ? `level ${level + 1}` : 'a level');

/**
 * "Reached nobody at level 2: nobody on call in Nights — could not reach alice; escalation
 * ends": why a level paged nobody, whom it named, and what happens next (`escalation_ends`, written
 * when the policy had no step after it).
 */
function ReachedNobody(p: { detail: Record<string, unknown>; names: Names }) {
  const d = p.detail;
  const empty = ids(d.empty_schedule_ids).map((id) => p.names.schedules.get(id) ?? 'a deleted schedule');
  const missed = named(d, p.names);
  return (
    <>
      Reached nobody at {levelName(d.level)}: {str(d.reason)}
      {empty.length && d.reason === 'nobody on call' ? ` in ${empty.join(', ')}` : ''}
      {missed.length ? ` — could not reach ${missed.join(', ')}` : ''}
      {/* Entries written before escalation_ends was recorded cannot tell which followed: say neither. */}
      {d.escalation_ends === undefined ? '' : d.escalation_ends ? '; escalation ends' : '; the next level pages at once'}
    </>
  );
}

/** Who did it, as a person reads it (shownActor): a key by its name, the engine as Lifeline. */
export function Actor(p: { by: string | null; names: Map<string, string> }) {
  if (p.by === null) return <span class="muted">—</span>;
  const shown = shownActor(p.by, p.names);
  return 'key' in shown ? (
    <span title={p.by}>
      key <b>{shown.key}</b>
    </span>
  ) : (
    <span>{shown.text}</span>
  );
}

export const StatusTag = (p: { status: IncidentRow['status'] }) => <span class={`tag tag-${p.status}`}>{p.status}</span>;
export const SeverityTag = (p: { severity: IncidentRow['severity'] }) => <span class={`tag tag-${p.severity}`}>{p.severity}</span>;

/**
 * A node's maintenance as the incident pages say it: covered now, until when (null: until ended),
 * on the clock of the window that ends then (null: given as instants).
 */
export type NodeMaintenance = Map<string, { until: Date | null; zone: string | null }>;

/** Which of these incidents' nodes a window covers now, for those not yet resolved: one query. */
export function maintenanceOf(sql: Queryable, incidents: IncidentRow[], now: Date): Promise<NodeMaintenance> {
  return maintenanceEnds(sql, [...new Set(incidents.filter((i) => i.status !== 'resolved').map((i) => i.node_id))], now);
}

/**
 * "In maintenance until …" for an unresolved incident whose node a window covers now: the incident
 * stays open (the outage is not over) but pages nobody until the window ends (ARCHITECTURE.md,
 * "Incidents under maintenance").
 */
export function UnderMaintenance(p: { incident: IncidentRow; maintenance: NodeMaintenance }) {
  const m = p.incident.status === 'resolved' ? undefined : p.maintenance.get(p.incident.node_id);
  if (!m) return null;
  return (
    <span class="sub maintenance-note">
      node in maintenance {m.until ? <>until <ZonedAt at={m.until} zone={m.zone} /></> : 'until the window is ended'}: no pages meanwhile; escalation goes on if it is still {CATEGORIES[p.incident.category].word} after
    </span>
  );
}

/**
 * An open incident whose escalation ended without paging anyone (pagedNobody): at 3 a.m. with an
 * office-hours schedule, whoever has this page open is the only one who knows. Said at the top of
 * its page, not only as a timeline line; once acknowledged someone has it, and it is not said.
 */
export function PagedNobodyNotice(p: { incident: IncidentRow; pagedNobody: ReadonlySet<string> }) {
  if (p.incident.status !== 'open' || !p.pagedNobody.has(p.incident.id)) return null;
  return (
    <Notice kind="bad">
      <p id="paged-nobody">
        <b>Paged nobody.</b> Its escalation ended without reaching anyone (the timeline says why at each level): nobody else knows of this incident.
      </p>
    </Notice>
  );
}

/** What a table of incidents shows beside their rows: who acted, maintenance, and which paged nobody. */
export interface IncidentTableFacts {
  names: Map<string, string>;
  maintenance: NodeMaintenance;
  /** Open incidents that paged nobody, marked so (PagedNobodyNotice). */
  pagedNobody: ReadonlySet<string>;
}

/** The facts of IncidentTable for these rows, read one way wherever incidents are listed (three queries). */
export async function incidentTableFacts(sql: Queryable, rows: IncidentRow[], now: Date): Promise<IncidentTableFacts> {
  const [names, maintenance, nobody] = await Promise.all([
    actorNames(sql, rows.flatMap((r) => [r.acknowledged_by, r.resolved_by])),
    maintenanceOf(sql, rows, now),
    pagedNobody(sql, rows.filter((r) => r.status === 'open').map((r) => r.id)),
  ]);
  return { names, maintenance, pagedNobody: nobody };
}

/** Incidents in a table; `action` renders an extra last cell per row (the acknowledge button). */
export function IncidentTable(p: {
  rows: IncidentRow[];
  now: Date;
  facts: IncidentTableFacts;
  showNode?: boolean;
  action?: (i: IncidentRow) => Child;
}) {
  if (p.rows.length === 0) return <p class="empty panel">No incidents here.</p>;
  return (
    <Table head={['Incident', ...(p.showNode === false ? [] : ['Node']), 'Severity', 'Opened', 'Status', ...(p.action ? [{ label: 'Actions', hidden: true } as const] : [])]}>
      {p.rows.map((i) => (
        <tr class={i.status === 'open' ? (i.severity === 'critical' ? 'row-down' : 'row-degraded') : undefined}>
          <td data-label="Incident">
            <a href={`/incidents/${i.id}`}>{i.title}</a>
            {i.reason ? <span class="sub">{i.reason}</span> : null}
          </td>
          {p.showNode === false ? null : (
            <td data-label="Node">
              {/* By id: node_name is the name at opening, which after a rename leads nowhere or to another node. */}
              <a href={`/nodes/${i.node_id}`}>{i.node_name}</a>
            </td>
          )}
          <td data-label="Severity">
            <SeverityTag severity={i.severity} />
          </td>
          <td data-label="Opened">
            <Ago at={i.opened_at} now={p.now} />
          </td>
          <td data-label="Status">
            <span>
              <StatusTag status={i.status} />
              {i.status === 'open' && p.facts.pagedNobody.has(i.id) ? <span class="tag tag-nobody">paged nobody</span> : null}
              {i.status === 'acknowledged' ? (
                <span class="sub">
                  by <Actor by={i.acknowledged_by} names={p.facts.names} />
                </span>
              ) : null}
              {i.status === 'resolved' ? (
                <span class="sub">
                  by <Actor by={i.resolved_by} names={p.facts.names} />
                </span>
              ) : null}
              <UnderMaintenance incident={i} maintenance={p.facts.maintenance} />
            </span>
          </td>
          {p.action ? <td data-label="">{p.action(i)}</td> : null}
        </tr>
      ))}
    </Table>
  );
}

/** " at 2026-11-21 10:04:05 UTC": when the node's change that resolved an incident happened, if the entry says. */
const changedAt = (d: Record<string, unknown>): string => (typeof d.node_changed_at === 'string' ? ` at ${utc(new Date(d.node_changed_at))}` : '');

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

/** What a timeline entry says, in a sentence. Unknown kinds show their raw detail. */
function Entry(p: { e: TimelineEntry; names: Names }) {
  const d = p.e.detail;
  const recipient = () => <Recipient channelId={d.channel_id} userId={d.user_id} names={p.names} />;
  switch (p.e.kind) {
    case 'opened':
      return (
        <>
          Opened{str(d.reason) ? `: ${str(d.reason)}` : ''}
          <Paged detail={d} names={p.names} />
        </>
      );
    case 'acknowledged':
      return (
        <>
          Acknowledged by <Actor by={str(d.by) ?? null} names={p.names.keys} />
        </>
      );
    case 'resolved':
      return (
        <>
          {/* Stamped when written; the node's change, handled seconds later, is said with its own time, in one bracket with what it was. */}
          {d.by === 'node_deleted' ? (
            <>
              Resolved by <span>Lifeline</span> (the node was deleted{changedAt(d)})
            </>
          ) : (
            <>
              Resolved by <Actor by={str(d.by) ?? null} names={p.names.keys} />
              {str(d.node_state) ? ` (the node became ${str(d.node_state)}${changedAt(d)})` : changedAt(d) ? ` (the node changed${changedAt(d)})` : ''}
            </>
          )}
          {str(d.note) ? <span class="sub">Note: {str(d.note)}</span> : null}
        </>
      );
    case 'note':
      // Its own block: a note keeps its line breaks, and its text cannot turn the line's words around.
      return (
        <>
          Note by <Actor by={str(d.by) ?? null} names={p.names.keys} />
          <span class="note-text">{str(d.note)}</span>
        </>
      );
    case 'escalated':
      return (
        <>
          Escalated to {levelName(d.level)}
          <Paged detail={d} names={p.names} />
        </>
      );
    case 'reached_nobody':
      return <ReachedNobody detail={d} names={p.names} />;
    case 'escalation_suppressed':
      // Held since 0019 (`held`): it pages if the node is judged down or degraded after the window.
      return d.held === true ? <>Escalation to {levelName(d.level)} held until the node is judged again: {str(d.reason)}</> : <>Escalation to {levelName(d.level)} skipped: {str(d.reason)}</>;
    case 'escalation_stopped':
      return <>Escalation stopped: {str(d.reason)}</>;
    case 'acknowledgement_expired':
      return (
        <>
          Acknowledgement by <Actor by={str(d.acknowledged_by) ?? null} names={p.names.keys} /> expired after {duration(Number(d.after_seconds) * 1000)}: open again
          {d.no_policy === true ? '; no escalation policy to page' : ', paging from level 1'}
        </>
      );
    case 'seen_again':
      // Written once, to an incident resolved by hand whose node was judged down (or degraded) again after a blind spot or a window.
      return (
        <>
          Still {str(d.node_state)} after {d.after === 'maintenance' ? 'a maintenance window' : 'a blind spot of the engine'}{str(d.reason) ? ` (${str(d.reason)})` : ''}; not paged
          again, as it was resolved by hand
        </>
      );
    case 'reason_changed':
      // The node stayed down (or degraded) for another reason: the same outage, nobody paged again.
      return (
        <>
          Still {str(d.node_state)}: {str(d.reason)} (the same outage, not paged again)
        </>
      );
    case 'policy_replaced':
      return <>Its escalation policy was deleted; it escalates by “{str(d.policy_name)}” now</>;
    case 'not_notified':
      return (
        <>
          Nobody was told of “{str(d.event)}”: {str(d.reason)}
        </>
      );
    case 'outbox_discarded':
      return (
        <>
          An admin discarded its dead “{str(d.topic)}” event (<span class="mono">{str(d.event_id)}</span>): it was never handled
        </>
      );
    case 'notified':
      return (
        <>
          Told {recipient()} of “{str(d.event)}”{d.digest ? ' in a storm digest' : ''}
        </>
      );
    case 'delivery_failed':
      if (unsentWithoutEmail(d.error)) {
        return (
          <>
            Not sent to {recipient()}: “{str(d.event)}”: {NOT_SET_UP}
          </>
        );
      }
      return (
        <>
          Telling {recipient()} of “{str(d.event)}” failed (attempt {str(d.attempt)}: <span class="mono">{str(d.error)}</span>)
          {d.final ? <b> — gave up</b> : ', will retry'}
        </>
      );
    default:
      return (
        <>
          {p.e.kind} <span class="mono">{JSON.stringify(d)}</span>
        </>
      );
  }
}

export function Timeline(p: { entries: TimelineEntry[]; names: Names }) {
  if (p.entries.length === 0) return <p class="muted">Nothing recorded yet.</p>;
  return (
    <ol class="timeline panel">
      {p.entries.map((e) => (
        <li>
          <time datetime={e.at.toISOString()}>{utc(e.at)}</time>
          <span>
            <Entry e={e} names={p.names} />
          </span>
        </li>
      ))}
    </ol>
  );
}

/** Where a page stands, as a few words beside its recipient: when it was sent, or why not yet. */
function pageState(d: DeliveryRow, now: Date): Child {
  if (d.status === 'sent' && d.sent_at) {
    return (
      <time datetime={d.sent_at.toISOString()} title={utc(d.sent_at)}>
        {atOn(d.sent_at, now)}
      </time>
    );
  }
  if (d.status === 'dead') return unsentWithoutEmail(d.last_error) ? 'not sent' : 'failed';
  // Held for the destination's storm digest, it leaves with the digest (up to 60 s), not alone.
  return d.status === 'failed' ? 'retrying' : d.digest ? 'in a digest' : 'sending';
}

/**
 * "Alice (Email, 03:02 UTC), ops-alerts (Slack, sending)": whom the incident's pages went to and
 * when, from the ledger, for the facts beside Acknowledge. On a phone the full ledger ("Who was
 * told") is two screens or more below, and whoever holds the phone at 3 a.m. asks first whether a
 * colleague was woken too. One page: its recipients, and its level when that is not the incident's
 * current step (the current level reached nobody, or its page is not fanned out yet), so it is not
 * read as the level shown above. Escalated: every step so far, a line each under its level, oldest
 * first: the latest alone read as if level 1's person had never been paged.
 */
export function PagedNow(p: { incident: IncidentRow; ledger: DeliveryRow[]; timeline: TimelineEntry[]; names: Names; pagedNobody: boolean; now: Date }) {
  const pages = p.ledger.filter((d) => isPageEvent(d.event) && Number.isFinite(pageStep(d.event_key)));
  // "yet" only while a page may still come: not without a policy, once resolved, or once its
  // escalation ended reaching nobody (PagedNobodyNotice says so in red above).
  if (pages.length === 0) return <span class="muted">{p.incident.policy_id === null || p.incident.status === 'resolved' || p.pagedNobody ? 'nobody' : 'nobody yet'}</span>;
  const steps = [...new Set(pages.map((d) => pageStep(d.event_key)))].sort((a, b) => a - b);
  const levelOf = (step: number) => p.timeline.find((e) => isPageEvent(e.kind) && (e.detail.step ?? 0) === step)?.detail.level;
  // A person deleted since is named as the timeline stored them when paged, as its lines name them.
  const pagedNames = new Map(
    p.timeline.flatMap((e) => (Array.isArray(e.detail.users) ? e.detail.users.flatMap((u: { user_id?: unknown; name?: unknown }) => (typeof u?.user_id === 'string' && typeof u.name === 'string' ? [[u.user_id, u.name] as const] : [])) : [])),
  );
  // By name: the ledger's own order is its row ids', which hold random ids.
  const toldAt = (step: number) =>
    pages
      .filter((d) => pageStep(d.event_key) === step)
      .map((d) => ({ d, name: d.user_id ? (p.names.users.get(d.user_id) ?? pagedNames.get(d.user_id) ?? 'a deleted person') : (p.names.channels.get(d.channel_id ?? '') ?? 'a deleted channel') }))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(({ d, name }, i) => (
        <>
          {i > 0 ? ', ' : ''}
          <b>{name}</b> ({isChannelType(d.channel_type) ? CHANNEL_TYPE_NAMES[d.channel_type] : d.channel_type}, {pageState(d, p.now)})
        </>
      ));
  const only = steps.length === 1 ? steps[0]! : undefined;
  if (only !== undefined) {
    return (
      <>
        {toldAt(only)}
        {only !== p.incident.escalation_step ? <span class="muted"> at {levelName(levelOf(only))}</span> : null}
      </>
    );
  }
  // A policy that repeats pages level 1 again: "again" tells its line from the first one's.
  return (
    <ul class="plain paged-steps">
      {steps.map((step, i) => {
        const level = levelOf(step);
        const again = steps.slice(0, i).some((s) => levelOf(s) === level);
        return (
          <li>
            <span class="muted">
              {capitalized(levelName(level))}
              {again ? ' again' : ''}
              {step === p.incident.escalation_step && p.incident.status !== 'resolved' ? ', now' : ''}:
            </span>{' '}
            {toldAt(step)}
          </li>
        );
      })}
    </ul>
  );
}

/** "Level 2", "Down": a word opening a line or a label. */
export const capitalized = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/**
 * The delivery ledger: each (event, recipient) pair, how many attempts, and what went wrong. A
 * message the engine could not send for want of SMTP_URL is "not sent", not a red "dead": nothing
 * failed, and a person reached only by email would otherwise fill the table with red rows.
 */
export function Ledger(p: { rows: DeliveryRow[]; names: Names }) {
  if (p.rows.length === 0) return <p class="muted">Nobody has been sent anything for this incident.</p>;
  return (
    <Table head={['Told', 'Event', 'Status', { label: 'Attempts', num: true }, 'Last error', 'Queued', 'Sent']}>
      {p.rows.map((d) => (
        <tr>
          <td data-label="Told">
            <span>
              <Recipient channelId={d.channel_id} userId={d.user_id} names={p.names} />
              <span class="sub">{d.channel_type}</span>
            </span>
          </td>
          <td data-label="Event">
            {d.event}
            {d.digest ? <span class="sub">in a digest</span> : null}
          </td>
          <td data-label="Status">
            {unsentWithoutEmail(d.last_error) ? (
              <span class="tag tag-unsent">not sent</span>
            ) : (
              <span class={`tag tag-${d.status}`}>{d.status === 'failed' ? 'failed, retrying' : d.status}</span>
            )}
          </td>
          <td data-label="Attempts" class="num">
            {d.attempts}
          </td>
          <td data-label="Last error" class="reason">
            {unsentWithoutEmail(d.last_error) ? NOT_SET_UP : (d.last_error ?? <span class="muted">—</span>)}
          </td>
          <td data-label="Queued">
            <At at={d.created_at} />
          </td>
          <td data-label="Sent">
            <At at={d.sent_at} none={d.status === 'dead' ? 'never' : 'not yet'} />
          </td>
        </tr>
      ))}
    </Table>
  );
}
