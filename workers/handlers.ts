import { handleEscalationDue, handleNodeEvents } from '../src/incidents/handlers.ts';
import type { Logger } from '../src/logger.ts';
import { fanoutHandler } from '../src/notifications/handlers.ts';
import type { DeliveryQueue } from '../src/notifications/queue.ts';
import type { HandlerRegistry } from '../src/outbox/registry.ts';
import { INCIDENT_TOPICS } from '../src/outbox/topics.ts';

/**
 * The on-call chain on the outbox: node events open and resolve incidents, escalation timers page
 * the next level, and incident events become ledger rows and notification jobs.
 */
export function registerOnCallHandlers(registry: HandlerRegistry, queue: DeliveryQueue, log: Logger, stormThreshold: number): void {
  registry
    .on('node.state_changed', 'incidents', handleNodeEvents)
    .on('node.deleted', 'incidents', handleNodeEvents)
    .on('incident.escalation_due', 'escalation', handleEscalationDue);
  const fanout = fanoutHandler(queue, log, stormThreshold);
  for (const topic of INCIDENT_TOPICS) registry.on(topic, 'notifications', fanout);
}
