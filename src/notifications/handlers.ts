import type { Logger } from '../logger.ts';
import type { OutboxHandler } from '../outbox/registry.ts';
import { fanOut } from './fanout.ts';
import type { IncidentEvent } from './model.ts';
import type { DeliveryQueue } from './queue.ts';

export const INCIDENT_TOPICS = ['incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved'] as const;

/**
 * incident.* → ledger rows in the claiming transaction (see fanOut); after it commits, their jobs
 * are enqueued. A crash between the two leaves rows the notifier's sweeper enqueues.
 */
export function fanoutHandler(queue: DeliveryQueue, log: Logger, stormThreshold: number): OutboxHandler {
  return async (events, { tx, now, afterCommit }) => {
    const news = events.map((e) => ({
      incidentId: String(e.payload.incident_id),
      event: e.payload.event as IncidentEvent,
      at: new Date(String(e.payload.at)),
      step: e.payload.step === undefined ? undefined : Number(e.payload.step),
      level: e.payload.level === undefined ? undefined : Number(e.payload.level),
    }));
    const ids = await fanOut(tx, news, now, stormThreshold);
    afterCommit(async () => {
      try {
        await queue.enqueue(ids.map((id) => ({ id })));
      } catch (err) {
        log.warn({ err, deliveries: ids.length }, 'could not enqueue deliveries now; the sweeper will');
      }
    });
  };
}
