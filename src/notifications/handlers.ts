import type { Logger } from '../logger.ts';
import type { OutboxHandler } from '../outbox/registry.ts';
import type { IncidentTopic } from '../outbox/topics.ts';
import { fanOut } from './fanout.ts';
import type { DeliveryQueue } from './queue.ts';

/**
 * incident.* → ledger rows in the claiming transaction (see fanOut); after it commits, their jobs
 * are enqueued. A crash between the two leaves rows the notifier's sweeper enqueues.
 */
export function fanoutHandler(queue: DeliveryQueue, log: Logger, stormThreshold: number): OutboxHandler<IncidentTopic> {
  return async (events, { tx, now, afterCommit }) => {
    const news = events.map(({ payload: p }) => ({
      incidentId: p.incident_id,
      event: p.event,
      at: new Date(p.at),
      step: p.step,
      level: p.level,
      recipients: p.recipients,
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
