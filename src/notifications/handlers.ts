import type { IncidentNews } from '../incidents/model.ts';
import type { Logger } from '../logger.ts';
import type { HandlerContext, OutboxHandler } from '../outbox/registry.ts';
import type { IncidentTopic } from '../outbox/topics.ts';
import { fanOut, type AlreadyRead } from './fanout.ts';
import type { DeliveryQueue } from './queue.ts';

/**
 * Tells those concerned about incident news from inside a handler's claiming transaction.
 * `alreadyRead`: what the caller read in this transaction (see AlreadyRead), which the fan-out
 * then does not read again.
 */
export type NewsSender = (news: IncidentNews[], ctx: HandlerContext, alreadyRead?: AlreadyRead) => Promise<void>;

/**
 * Ledger rows in the claiming transaction (see fanOut); after it commits, their jobs are enqueued.
 * A crash between the two leaves rows the notifier's sweeper enqueues.
 */
export function newsSender(queue: DeliveryQueue, log: Logger, stormThreshold: number): NewsSender {
  return async (news, { tx, now, afterCommit }, alreadyRead) => {
    if (news.length === 0) return;
    const ids = await fanOut(tx, news, now, stormThreshold, alreadyRead);
    afterCommit(async () => {
      try {
        await queue.enqueue(ids.map((id) => ({ id })));
      } catch (err) {
        log.warn({ err, deliveries: ids.length }, 'could not enqueue deliveries now; the sweeper will');
      }
    });
  };
}

/**
 * incident.* → the news sent. `incident.opened` is written by no producer of this version (a page
 * at opening leaves with its transition, src/incidents/handlers.ts) but is still handled: an older
 * engine, or the outbox it left behind, writes it during a rolling upgrade.
 */
export function fanoutHandler(send: NewsSender): OutboxHandler<IncidentTopic> {
  return (events, ctx) =>
    send(
      events.map(({ payload: p }) => ({ incidentId: p.incident_id, event: p.event, at: new Date(p.at), step: p.step, level: p.level, recipients: p.recipients })),
      ctx,
    );
}
