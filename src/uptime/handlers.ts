import type { OutboxHandler } from '../outbox/registry.ts';
import type { OutboxEvent } from '../outbox/topics.ts';
import type { Retention } from './retention.ts';
import { rollUpNodes } from './rollup.ts';

function nodeIdOf(event: OutboxEvent<'node.state_changed'>): string {
  const id = event.payload.node_id;
  if (typeof id !== 'string') throw new Error(`${event.topic} event ${event.id} has no node_id`);
  return id;
}

/**
 * The `node.state_changed` handler: one rollup pass over the batch's nodes, inside the claiming
 * transaction, so the rows and the events' completion commit together. The pass reads the log
 * rather than the event, which makes a redelivered or already-covered event a no-op.
 */
export function uptimeHandler(retention: Retention): OutboxHandler<'node.state_changed'> {
  return async (events, ctx) => {
    await rollUpNodes(ctx.tx, events.map(nodeIdOf), ctx.now, retention);
  };
}
