import type { Queryable } from '../db/client.ts';
import { actionLinkUrl, incidentPageUrl, signActionLink, type LinkAction } from '../incidents/action-links.ts';
import { actorNames } from '../incidents/actor-names.ts';
import type { IncidentRow } from '../incidents/model.ts';
import { actorText } from '../incidents/shown-actor.ts';
import { endingsOf, getIncidents, pagesOf, type PageEntry } from '../incidents/store.ts';
import { reasonNow } from '../incidents/still-failing.ts';
import { incidentView } from '../incidents/view.ts';
import { nodesLabelsAndStates } from '../nodes/store.ts';
import { scheduleNames } from '../oncall/store-schedules.ts';
import { messageReaders } from '../oncall/store-users.ts';
import { deliveryId, isPageEvent, pageStep, shownPeople, type ActionLinks, type DeliveryRow, type Notification, type PriorPage } from './model.ts';

// What a ledger row says when it is sent: the incident as it is now, its node, and the links that
// act on it as the recipient.

export interface LinkSigning {
  /** LIFELINE_PUBLIC_URL, without a trailing slash. */
  publicUrl: string;
  /** actionLinkKey(the engine's secret key). */
  key: Buffer;
  /** How long a link acts after the event it announces. */
  ttlMs: number;
}

/**
 * The links a message carries, as the recipient: acknowledge while the incident is open and the
 * message is a page, resolve until it is resolved. Each expires `ttlMs` after the event, so every
 * retry of a message carries the same links.
 */
function linksFor(s: LinkSigning, d: DeliveryRow, reader: string | null, incident: IncidentRow): ActionLinks | undefined {
  const page = isPageEvent(d.event);
  const actions: LinkAction[] = [];
  if (page && incident.status === 'open') actions.push('acknowledge');
  if (d.event !== 'resolved' && incident.status !== 'resolved') actions.push('resolve');
  if (actions.length === 0) return undefined;
  const recipient = reader !== null ? { kind: 'user' as const, id: reader } : { kind: 'channel' as const, id: d.channel_id! };
  const expiresAt = new Date(d.occurred_at.getTime() + s.ttlMs);
  return Object.fromEntries(actions.map((action) => [action, actionLinkUrl(s.publicUrl, signActionLink(s.key, { incidentId: incident.id, action, recipient, expiresAt }))]));
}

/**
 * An escalation's page (`escalated-<step>`): the level it pages, and every page of the incident at
 * an earlier step since the levels last restarted (an acknowledgement that expired: the pages
 * before it were answered), whom each named and when. Its level is the timeline's, not the
 * incident's now: a later step may have fired before this message is sent.
 */
function escalationOf(d: DeliveryRow, incident: IncidentRow, pages: PageEntry[], shown: (by: string | null) => string | null): Notification['escalation'] {
  const step = pageStep(d.event_key);
  const restart = pages.findLast((p) => p.expired !== undefined && p.step <= step)?.step ?? 0;
  const page = pages.find((p) => p.step === step);
  const expired = page?.expired;
  const before: PriorPage[] = pages
    .filter((p) => p.step < step && p.step >= restart)
    .map((p) => ({
      level: p.level,
      at: p.at.toISOString(),
      names: [...p.people.map((u) => u.name ?? 'someone'), ...(p.channels ? [p.channels === 1 ? '1 channel' : `${p.channels} channels`] : [])],
    }));
  return {
    level: page?.level ?? incident.escalation_level,
    before,
    ...(expired ? { expired: { by: shown(expired.acknowledged_by) ?? 'someone', at: expired.acknowledged_at, after_seconds: expired.after_seconds } } : {}),
  };
}

/** Whom a page's row was sent for, as its timeline entry recorded them, each with their schedule's name now. */
function pagedBy(d: DeliveryRow, pages: PageEntry[], schedules: ReadonlyMap<string, string>): Notification['paged'] {
  const entry = pages.find((p) => p.step === pageStep(d.event_key));
  if (!entry) return undefined;
  return { people: shownPeople(entry.people, schedules, 'someone'), channels: entry.channels };
}

/**
 * The one person who reads a row, or null when it lands where others read too: a level's channel,
 * or a person's own channel that several people name (the row goes to whoever was listed first,
 * but all of them read it). A person's email, and a channel only they name, is theirs alone.
 */
function readerOf(d: DeliveryRow, owners: ReadonlyMap<string, number>): string | null {
  if (d.user_id === null) return null;
  return d.channel_id === null || (owners.get(d.channel_id) ?? 0) <= 1 ? d.user_id : null;
}

const isPage = (d: DeliveryRow) => isPageEvent(d.event);

/**
 * The message for each ledger row whose incident still exists: two queries however many rows (the
 * incidents; their nodes' labels, states and reasons), a third for their notes and last reasons, a
 * fourth for the names of API keys that acted, a fifth for the pages when some rows are pages, a
 * sixth for the readers' time zones and channels' owners and the policies' lengths, all five at
 * once; then a seventh for the schedules those pages went through, when they went through any.
 */
export async function notificationsFor(sql: Queryable, rows: DeliveryRow[], links?: LinkSigning): Promise<Map<string, Notification>> {
  const incidents = await getIncidents(sql, [...new Set(rows.map((d) => d.incident_id))]);
  const [nodes, endings, keyNames, pages, readers] = await Promise.all([
    nodesLabelsAndStates(sql, [...new Set([...incidents.values()].map((i) => i.node_id))]),
    // Every incident's, not only resolved ones': any message whose node has left the state it
    // opened for (resolved, or in maintenance, or unknown) says the last reason the outage had
    // (reasonNow), as the console does. At most REASON_NOTES_MAX lines each.
    endingsOf(sql, [...incidents.keys()]),
    actorNames(sql, [...incidents.values()].flatMap((i) => [i.acknowledged_by, i.resolved_by])),
    pagesOf(sql, [...new Set(rows.filter(isPage).map((d) => d.incident_id))]),
    messageReaders(sql, {
      userIds: [...new Set(rows.flatMap((d) => d.user_id ?? []))],
      channelIds: [...new Set(rows.flatMap((d) => (d.user_id !== null && d.channel_id !== null ? d.channel_id : [])))],
      policyIds: [...new Set([...incidents.values()].flatMap((i) => i.policy_id ?? []))],
    }),
  ]);
  // Only a page that went through a schedule waits on this one.
  const schedules = await scheduleNames(sql, [...new Set([...pages.values()].flat().flatMap((p) => p.people.flatMap((u) => u.schedule_id ?? [])))]);
  // An expired acknowledgement's key is named too: read only when one was a key's.
  const expiredBy = [...pages.values()].flat().flatMap((p) => p.expired?.acknowledged_by ?? []);
  const names = new Map([...keyNames, ...(await actorNames(sql, expiredBy))]);
  const shown = (by: string | null) => (by === null ? null : actorText(by, names));
  const out = new Map<string, Notification>();
  for (const d of rows) {
    const incident = incidents.get(d.incident_id);
    if (!incident) continue;
    const paged = isPage(d) ? pagedBy(d, pages.get(incident.id) ?? [], schedules) : undefined;
    const levels = incident.policy_id === null ? undefined : readers.levels.get(incident.policy_id);
    const reader = readerOf(d, readers.owners);
    // Optional fields set one by one rather than spread from `cond ? {…} : {}`: each absent one
    // built an empty object, up to six a row.
    const n: Notification = {
      messageId: d.id,
      event: d.event,
      occurredAt: d.occurred_at.toISOString(),
      // What the node fails with now, not what it opened with: a later page is read by someone who
      // must act on what the node says now (reasonNow). `incident.reason` keeps the opening one.
      reason: reasonNow(incident, nodes.get(incident.node_id), endings.get(incident.id)?.lastReason),
      incident: incidentView(incident),
      // A deleted node's incident still names it; its labels went with it.
      node: { id: incident.node_id, name: incident.node_name, labels: nodes.get(incident.node_id)?.labels ?? {} },
      nodeState: nodes.has(incident.node_id) ? (nodes.get(incident.node_id)!.state ?? 'unknown') : null,
      threadId: deliveryId(incident.id, 'opened', d.channel_id, d.user_id),
      shownBy: { acknowledged_by: shown(incident.acknowledged_by), resolved_by: shown(incident.resolved_by) },
    };
    if (d.event === 'escalated') n.escalation = escalationOf(d, incident, pages.get(incident.id) ?? [], shown);
    if (paged) n.paged = paged;
    // A person's own contact is read by them alone: their clock, and "you". A level's channel, or
    // one several people name as their own, is shared: UTC and names.
    if (reader !== null) n.reader = { user_id: reader, time_zone: readers.zones.get(reader) ?? 'UTC' };
    if (levels !== undefined) n.levels = levels;
    if (nodes.get(incident.node_id)?.scheduled) n.scheduled = true;
    if (links) {
      n.links = linksFor(links, d, reader, incident);
      n.incidentUrl = incidentPageUrl(links.publicUrl, incident.id);
    }
    const note = endings.get(incident.id)?.note;
    if (d.event === 'resolved' && note !== undefined) n.note = note;
    out.set(d.id, n);
  }
  return out;
}

/** How the timeline names a recipient: the channel, the person, or both (a person's own channel). */
export const recipientDetail = (d: Pick<DeliveryRow, 'channel_id' | 'user_id'>) => ({
  ...(d.channel_id !== null ? { channel_id: d.channel_id } : {}),
  ...(d.user_id !== null ? { user_id: d.user_id } : {}),
});
