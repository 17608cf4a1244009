import { getChannelsByIds } from '../channels/store.ts';
import type { Tx } from '../db/client.ts';
import type { IncidentNews, TimelineEntry } from '../incidents/model.ts';
import { addTimeline, getIncidents } from '../incidents/store.ts';
import { reachesAnyone, type Contacts } from '../oncall/model.ts';
import type { PageRecipients } from '../outbox/topics.ts';
import { getPolicies } from '../oncall/store.ts';
import { contactsOf } from '../oncall/store-users.ts';
import { destinationKey, type NewDelivery, type Recipient } from './model.ts';
import { insertDeliveries, lockStormCounters, recentDeliveryCounts, toldRecipients } from './store.ts';

/** Channels read by people; machines (webhook, PagerDuty) need every event with its own id. */
const DIGESTED_TYPES = new Set(['email', 'slack']);
const STORM_WINDOW_MS = 60_000;

const destination = (d: NewDelivery) => destinationKey({ channel_id: d.channelId, user_id: d.userId ?? null });

/**
 * Storm rule: once a person-read destination (an email or Slack channel, a person's mailbox) has
 * been sent `threshold` updates within the last minute, further updates to it are held for its
 * digest (one message listing them all, sent by the notifier every digest interval) instead of one
 * message each. Rows are still written per update, so the ledger, the pairing of resolves and the
 * deliveries API stay exact.
 */
async function markStorms(tx: Tx, deliveries: NewDelivery[], now: Date, threshold: number): Promise<void> {
  const human = [...new Set(deliveries.filter((d) => DIGESTED_TYPES.has(d.channelType)).map(destination))];
  await lockStormCounters(tx, human);
  const recent = await recentDeliveryCounts(tx, human, new Date(now.getTime() - STORM_WINDOW_MS));
  for (const d of deliveries) {
    if (!DIGESTED_TYPES.has(d.channelType)) continue;
    const seen = recent.get(destination(d)) ?? 0;
    d.digest = seen >= threshold;
    recent.set(destination(d), seen + 1);
  }
}

const isAnswer = (n: IncidentNews) => n.event === 'acknowledged' || n.event === 'resolved';

/**
 * The ledger's recipients for a page: each channel, then each person's email and own channels, in
 * that order. A destination reached twice (a person's channel also named on the level, a person
 * named twice) is told once, under its first mention. Channels and people deleted since the level
 * fired are left out.
 */
function pageRecipients(page: PageRecipients, channelTypes: ReadonlyMap<string, string>, people: ReadonlyMap<string, Contacts>): Recipient[] {
  const out: Recipient[] = [];
  const seen = new Set<string>();
  const add = (r: Recipient) => {
    const key = destinationKey(r);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(r);
  };
  for (const id of page.channel_ids) {
    const type = channelTypes.get(id);
    if (type !== undefined) add({ channel_id: id, user_id: null, channel_type: type });
  }
  for (const { user_id } of page.users) {
    const person = people.get(user_id);
    if (!person) continue;
    add({ channel_id: null, user_id, channel_type: 'email' });
    for (const ch of person.channels) add({ channel_id: ch.id, user_id, channel_type: ch.type });
  }
  return out;
}

/**
 * Turns incident news into ledger rows, one per (event, recipient), in the caller's transaction,
 * and returns the ids of the rows to send on their own. A redelivered event inserts nothing new. A
 * page goes to whom its level reached when it fired; an answer (acknowledged, resolved) goes to
 * the channels and people the ledger itself says were paged, so it reaches every one of them
 * whatever happened to the policy or the schedules since.
 */
export async function fanOut(tx: Tx, news: IncidentNews[], now: Date, stormThreshold: number): Promise<string[]> {
  // Set-wise: incidents, paged recipients, policies (for old events), channels and people in at
  // most five queries per batch (a 10k-node outage would otherwise cost several queries per event).
  const incidents = await getIncidents(tx, [...new Set(news.map((n) => n.incidentId))]);
  const told = await toldRecipients(tx, news.filter(isAnswer).map((n) => n.incidentId));
  const legacy = news.filter((n) => !isAnswer(n) && n.recipients === undefined);
  const policies = await getPolicies(tx, [...new Set(legacy.flatMap((n) => incidents.get(n.incidentId)?.policy_id ?? []))]);
  const pageOf = (n: IncidentNews): PageRecipients =>
    n.recipients ?? { channel_ids: policies.get(incidents.get(n.incidentId)?.policy_id ?? '')?.levels[n.level ?? 0]?.channel_ids ?? [], users: [] };
  const pages = news.filter((n) => !isAnswer(n)).map(pageOf);
  const channelTypes = new Map((await getChannelsByIds(tx, [...new Set(pages.flatMap((p) => p.channel_ids))])).map((c) => [c.id, c.type]));
  const people = await contactsOf(tx, [...new Set(pages.flatMap((p) => p.users.map((u) => u.user_id)))]);

  const deliveries: NewDelivery[] = [];
  const timeline: TimelineEntry[] = [];
  for (const n of news) {
    const incident = incidents.get(n.incidentId);
    if (!incident) continue;
    const eventKey = n.event === 'escalated' ? `escalated-${n.step}` : n.event;
    const page = isAnswer(n) ? undefined : pageOf(n);
    const to = page ? pageRecipients(page, channelTypes, people) : (told.get(incident.id) ?? []);
    // A level that reached nobody when it fired is on the timeline already (the escalation says so).
    if (page && to.length === 0 && (n.recipients === undefined || reachesAnyone(n.recipients))) {
      const reason = n.recipients ? 'every channel and person on this level was deleted' : 'no channel on this escalation level';
      timeline.push({ incident_id: incident.id, at: now, kind: 'not_notified', detail: { event: n.event, reason } });
    }
    for (const r of to) {
      deliveries.push({
        incidentId: incident.id,
        event: n.event,
        eventKey,
        channelId: r.channel_id,
        userId: r.user_id,
        channelType: r.channel_type,
        occurredAt: n.at,
      });
    }
  }
  await markStorms(tx, deliveries, now, stormThreshold);
  const ids = await insertDeliveries(tx, deliveries, now);
  await addTimeline(tx, timeline);
  return ids;
}
