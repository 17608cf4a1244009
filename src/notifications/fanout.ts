import { getChannelsByIds } from '../channels/store.ts';
import type { Tx } from '../db/client.ts';
import type { IncidentEvent, TimelineEntry } from '../incidents/model.ts';
import { addTimeline, getIncidents } from '../incidents/store.ts';
import { getPolicies } from '../oncall/store.ts';
import type { NewDelivery, Recipient } from './model.ts';
import { insertDeliveries, lockStormCounters, recentDeliveryCounts, toldChannels } from './store.ts';

/** Channels read by people; machines (webhook, PagerDuty) need every event with its own id. */
const DIGESTED_TYPES = new Set(['email', 'slack']);
const STORM_WINDOW_MS = 60_000;

/**
 * Storm rule: once a person-read channel has been sent `threshold` updates within the last
 * minute, further updates to it are held for its digest (one message listing them all, sent by the
 * notifier every digest interval) instead of one message each. Rows are still written per update,
 * so the ledger, the pairing of resolves and the deliveries API stay exact.
 */
async function markStorms(tx: Tx, deliveries: NewDelivery[], now: Date, threshold: number): Promise<void> {
  const human = [...new Set(deliveries.filter((d) => DIGESTED_TYPES.has(d.channelType)).map((d) => d.channelId))];
  await lockStormCounters(tx, human);
  const recent = await recentDeliveryCounts(tx, human, new Date(now.getTime() - STORM_WINDOW_MS));
  for (const d of deliveries) {
    if (!DIGESTED_TYPES.has(d.channelType)) continue;
    const seen = recent.get(d.channelId) ?? 0;
    d.digest = seen >= threshold;
    recent.set(d.channelId, seen + 1);
  }
}

/** Something that happened to an incident, which the channels concerned are to be told. */
export interface IncidentNews {
  incidentId: string;
  event: IncidentEvent;
  /** When it happened. */
  at: Date;
  /** Escalations: the schedule step and the level it pages. */
  step?: number | undefined;
  level?: number | undefined;
}

const isAnswer = (n: IncidentNews) => n.event === 'acknowledged' || n.event === 'resolved';

/**
 * Turns incident news into ledger rows, one per (event, channel), in the caller's transaction, and
 * returns the ids of the rows to send on their own. A redelivered event inserts nothing new. A
 * page goes to its escalation level's channels; an answer (acknowledged, resolved) goes to the
 * channels the ledger itself says were paged, so it reaches every one of them whatever happened
 * to the policy since.
 */
export async function fanOut(tx: Tx, news: IncidentNews[], now: Date, stormThreshold: number): Promise<string[]> {
  // Set-wise: incidents, their policies, their paged channels and the channels' types in four
  // queries per batch (a 10k-node outage would otherwise cost three queries per event).
  const incidents = await getIncidents(tx, [...new Set(news.map((n) => n.incidentId))]);
  const told = await toldChannels(tx, news.filter(isAnswer).map((n) => n.incidentId));
  const policies = await getPolicies(tx, [...new Set([...incidents.values()].flatMap((i) => (i.policy_id ? [i.policy_id] : [])))]);
  const levelChannels = (n: IncidentNews) => policies.get(incidents.get(n.incidentId)?.policy_id ?? '')?.levels[n.level ?? 0]?.channel_ids ?? [];
  const channels = new Map((await getChannelsByIds(tx, [...new Set(news.filter((n) => !isAnswer(n)).flatMap(levelChannels))])).map((c) => [c.id, c.type]));
  const deliveries: NewDelivery[] = [];
  const timeline: TimelineEntry[] = [];
  for (const n of news) {
    const incident = incidents.get(n.incidentId);
    if (!incident) continue;
    const eventKey = n.event === 'escalated' ? `escalated-${n.step}` : n.event;
    const to: Recipient[] = isAnswer(n)
      ? (told.get(incident.id) ?? [])
      : levelChannels(n).flatMap((id) => (channels.has(id) ? [{ channel_id: id, channel_type: channels.get(id)! }] : []));
    if (to.length === 0 && !isAnswer(n)) {
      timeline.push({ incident_id: incident.id, at: now, kind: 'not_notified', detail: { event: n.event, reason: 'no channel on this escalation level' } });
    }
    for (const c of to) {
      deliveries.push({ incidentId: incident.id, event: n.event, eventKey, channelId: c.channel_id, channelType: c.channel_type, occurredAt: n.at });
    }
  }
  await markStorms(tx, deliveries, now, stormThreshold);
  const ids = await insertDeliveries(tx, deliveries, now);
  await addTimeline(tx, timeline);
  return ids;
}
