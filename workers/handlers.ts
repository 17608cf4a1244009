import { ackTimeoutHandler, escalationHandler, nodeEventsHandler, reasonHandler, type PagingSetup } from '../src/incidents/handlers.ts';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { fanoutHandler, newsSender } from '../src/notifications/handlers.ts';
import type { DeliveryQueue } from '../src/notifications/queue.ts';
import type { HandlerRegistry } from '../src/outbox/registry.ts';
import { INCIDENT_TOPICS } from '../src/outbox/topics.ts';

/**
 * Whether the outbox of a process with this config may count on email when it judges a level:
 * email is sent by the notifier role, so only a process that runs it knows SMTP_URL is unset. An
 * outbox on its own (the README asks SMTP_URL of the notifier and the api only) assumes email
 * works, or every person without a non-email channel of their own would be skipped.
 */
export const pagingSetup = (config: Pick<Config, 'roles' | 'smtpUrl'>): PagingSetup => ({
  emailConfigured: config.roles.has('notifier') ? config.smtpUrl !== undefined : undefined,
});

/**
 * The on-call chain on the outbox: node events open and resolve incidents and write the opening
 * pages' ledger rows (a node's new reason, a line on its incident's timeline), escalation timers page the next level, acknowledgement timeouts reopen, and incident events become ledger
 * rows and notification jobs. `setup` says whether the engine sends email (see pagingSetup), which
 * decides whether an email channel, or a person without channels of their own, can be reached.
 */
export function registerOnCallHandlers(registry: HandlerRegistry, queue: DeliveryQueue, log: Logger, stormThreshold: number, setup: PagingSetup): void {
  const send = newsSender(queue, log, stormThreshold);
  const nodes = nodeEventsHandler(send, setup);
  registry
    .on('node.state_changed', 'incidents', nodes)
    .on('node.deleted', 'incidents', nodes)
    .on('node.reason_changed', 'incidents', reasonHandler())
    .on('incident.escalation_due', 'escalation', escalationHandler(setup))
    .on('incident.ack_timeout_due', 'ack_timeout', ackTimeoutHandler(setup));
  const fanout = fanoutHandler(send);
  for (const topic of INCIDENT_TOPICS) registry.on(topic, 'notifications', fanout);
}
