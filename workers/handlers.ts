import { escalationHandler, nodeEventsHandler, type PagingSetup } from '../src/incidents/handlers.ts';
import type { Logger } from '../src/logger.ts';
import { fanoutHandler, newsSender } from '../src/notifications/handlers.ts';
import type { DeliveryQueue } from '../src/notifications/queue.ts';
import type { HandlerRegistry } from '../src/outbox/registry.ts';
import { INCIDENT_TOPICS } from '../src/outbox/topics.ts';

/**
 * The on-call chain on the outbox: node events open and resolve incidents and write the opening
 * pages' ledger rows, escalation timers page the next level, and incident events become ledger
 * rows and notification jobs. `setup` says whether the engine sends email, which decides whether a
 * person without channels of their own can be reached at all.
 */
export function registerOnCallHandlers(registry: HandlerRegistry, queue: DeliveryQueue, log: Logger, stormThreshold: number, setup: PagingSetup): void {
  const send = newsSender(queue, log, stormThreshold);
  const nodes = nodeEventsHandler(send, setup);
  registry
    .on('node.state_changed', 'incidents', nodes)
    .on('node.deleted', 'incidents', nodes)
    .on('incident.escalation_due', 'escalation', escalationHandler(setup));
  const fanout = fanoutHandler(send);
  for (const topic of INCIDENT_TOPICS) registry.on(topic, 'notifications', fanout);
}
