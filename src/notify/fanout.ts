import type { IncidentEvent } from '../../alerting/message.ts';
import { getChannelsByIds } from '../channels/store.ts';
import { insertDeliveries, lockStormCounters, recentDeliveryCounts, toldChannels, type NewDelivery, type Recipient } from '../db/deliveries.ts';
import type { TimelineEntry } from '../incidents/model.ts';
import { addTimeline, getIncidents } from '../incidents/store.ts';
import { getPolicies } from '../oncall/store.ts';
import type { Tx } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import type { OutboxHandler } from '../outbox/registry.ts';
import type { DeliveryQueue } from './queue.ts';

export const INCIDENT_TOPICS = ['incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved'] as const;

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

/**
 * Turns incident events into ledger rows, one per (event, channel), in the claiming transaction;
 * after it commits, their jobs are enqueued. A crash between the two leaves rows the notifier's
 * sweeper enqueues; a redelivered event inserts nothing new. The resolve's recipients come from the
 * ledger itself, so it reaches every channel paged whatever happened to the policy since.
 */
export function fanoutHandler(queue: DeliveryQueue, log: Logger, stormThreshold: number): OutboxHandler {
  return async (events, { tx, now, afterCommit }) => {
    // Set-wise: incidents, their policies, their paged channels and the channels' types in four
    // queries per batch (a 10k-node outage would otherwise cost three queries per event).
    const incidents = await getIncidents(tx, [...new Set(events.map((e) => String(e.payload.incident_id)))]);
    const isAnswer = (e: (typeof events)[number]) => e.payload.event === 'acknowledged' || e.payload.event === 'resolved';
    const told = await toldChannels(tx, events.filter(isAnswer).map((e) => String(e.payload.incident_id)));
    const policies = await getPolicies(tx, [...new Set([...incidents.values()].flatMap((i) => (i.policy_id ? [i.policy_id] : [])))]);
    const levelChannels = (e: (typeof events)[number]) =>
      policies.get(incidents.get(String(e.payload.incident_id))?.policy_id ?? '')?.levels[Number(e.payload.level ?? 0)]?.channel_ids ?? [];
    const channels = new Map(
      (await getChannelsByIds(tx, [...new Set(events.filter((e) => !isAnswer(e)).flatMap(levelChannels))])).map((c) => [c.id, c.type]),
    );
    const deliveries: NewDelivery[] = [];
    const timeline: TimelineEntry[] = [];
    for (const e of events) {
      const incident = incidents.get(String(e.payload.incident_id));
      if (!incident) continue;
      const event = e.payload.event as IncidentEvent;
      const eventKey = event === 'escalated' ? `escalated-${Number(e.payload.step)}` : event;
      // A page goes to its level; an answer to everyone the ledger says was paged.
      const to: Recipient[] = isAnswer(e)
        ? (told.get(incident.id) ?? [])
        : levelChannels(e).flatMap((id) => (channels.has(id) ? [{ channel_id: id, channel_type: channels.get(id)! }] : []));
      if (to.length === 0 && !isAnswer(e)) {
        timeline.push({ incident_id: incident.id, at: now, kind: 'not_notified', detail: { event, reason: 'no channel on this escalation level' } });
      }
      for (const c of to) {
        deliveries.push({
          incidentId: incident.id,
          event,
          eventKey,
          channelId: c.channel_id,
          channelType: c.channel_type,
          occurredAt: new Date(String(e.payload.at)),
        });
      }
    }
    await markStorms(tx, deliveries, now, stormThreshold);
    const ids = await insertDeliveries(tx, deliveries, now);
    await addTimeline(tx, timeline);
    afterCommit(async () => {
      try {
        await queue.enqueue(ids.map((id) => ({ id })));
      } catch (err) {
        log.warn({ err, deliveries: ids.length }, 'could not enqueue deliveries now; the sweeper will');
      }
    });
  };
}
