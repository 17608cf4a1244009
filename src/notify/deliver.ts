import { UnrecoverableError } from 'bullmq';
import type { ChannelRegistry } from '../../alerting/index.ts';
import { DeliveryError } from '../../alerting/errors.ts';
import type { Notification } from '../../alerting/message.ts';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import { getChannelsByIds, revealConfig } from '../db/channels.ts';
import { earlierPageInFlight, getDelivery, recordAttempts, type DeliveryRow } from '../db/deliveries.ts';
import { addTimeline, getIncidents } from '../db/incidents.ts';
import { nodesLabels } from '../db/nodes.ts';
import { incidentView } from '../incidents/view.ts';

/**
 * An answer (acknowledged, resolved) whose page to the same channel is still being retried: the
 * worker puts it back in the queue without spending one of its attempts, however long the page's
 * own retries take.
 */
export class WaitingForPage extends Error {
  constructor() {
    super('waiting for the earlier page to this channel to finish');
    this.name = 'WaitingForPage';
  }
}

export interface DeliverDeps {
  sql: Sql;
  clock: Clock;
  channels: ChannelRegistry;
  secretKey: Buffer;
  onResult?: (channelType: string, result: 'sent' | 'failed' | 'dead', latencySeconds?: number) => void;
}

/** The message for each ledger row whose incident still exists: two queries however many rows. */
export async function notificationsFor(sql: Sql, rows: DeliveryRow[]): Promise<Map<string, Notification>> {
  const incidents = await getIncidents(sql, [...new Set(rows.map((d) => d.incident_id))]);
  const labels = await nodesLabels(sql, [...new Set([...incidents.values()].map((i) => i.node_id))]);
  const out = new Map<string, Notification>();
  for (const d of rows) {
    const incident = incidents.get(d.incident_id);
    if (!incident) continue;
    out.set(d.id, {
      messageId: d.id,
      event: d.event,
      occurredAt: d.occurred_at.toISOString(),
      reason: incident.reason,
      incident: incidentView(incident),
      // A deleted node's incident still names it; its labels went with it.
      node: { id: incident.node_id, name: incident.node_name, labels: labels.get(incident.node_id) ?? {} },
    });
  }
  return out;
}

/**
 * One attempt at one ledger row. Sent and dead rows are final and never sent again, whatever
 * BullMQ does (a duplicate job, a stalled job re-run). A crash between the channel accepting the
 * message and the row being marked sent is the one window left; the retry carries the same
 * webhook-id / Message-ID / dedup_key, so receivers see one event.
 */
export async function deliver(deps: DeliverDeps, id: string, attempt: number, maxAttempts: number): Promise<void> {
  const { sql, clock } = deps;
  const d = await getDelivery(sql, id);
  if (!d) throw new UnrecoverableError(`delivery ${id} does not exist`);
  if (d.status === 'sent' || d.status === 'dead') return;
  if ((d.event === 'acknowledged' || d.event === 'resolved') && (await earlierPageInFlight(sql, d))) throw new WaitingForPage();
  const [channel] = await getChannelsByIds(sql, [d.channel_id]);
  const notification = channel ? (await notificationsFor(sql, [d])).get(d.id) : undefined;
  if (!channel || !notification) {
    await recordAttempts(sql, [id], { status: 'dead', error: channel ? 'incident_deleted' : 'channel_deleted', at: clock.now() });
    deps.onResult?.(d.channel_type, 'dead');
    return;
  }
  try {
    const config = revealConfig(channel, deps.secretKey);
    await (deps.channels[channel.type] as { send(n: Notification, c: unknown, now: Date): Promise<void> }).send(notification, config, clock.now());
  } catch (err) {
    const e = err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err), { permanent: false, code: 'internal' });
    const final = e.permanent || attempt >= maxAttempts;
    const at = clock.now();
    await recordAttempts(sql, [id], { status: final ? 'dead' : 'failed', error: `${e.code}: ${e.message}`, at });
    await addTimeline(sql, [
      { incident_id: d.incident_id, at, kind: 'delivery_failed', detail: { channel_id: d.channel_id, event: d.event, attempt, error: e.code, final } },
    ]);
    deps.onResult?.(d.channel_type, final ? 'dead' : 'failed');
    if (e.permanent) throw new UnrecoverableError(`${e.code}: ${e.message}`);
    throw e;
  }
  const at = clock.now();
  await recordAttempts(sql, [id], { status: 'sent', error: null, at });
  await addTimeline(sql, [{ incident_id: d.incident_id, at, kind: 'notified', detail: { channel_id: d.channel_id, channel_type: d.channel_type, event: d.event } }]);
  deps.onResult?.(d.channel_type, 'sent', (at.getTime() - d.occurred_at.getTime()) / 1000);
}
