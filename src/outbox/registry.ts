import type { Tx } from '../db/client.ts';
import type { OutboxEvent, Topic } from './topics.ts';

export interface HandlerContext {
  /** The claiming transaction: database effects written here commit with the event's completion. */
  tx: Tx;
  now: Date;
  /** Work to run after the transaction commits (e.g. enqueueing idempotent jobs). */
  afterCommit(fn: () => Promise<void>): void;
}

/**
 * Handles a batch of events of the topics `T`. A batch never holds two events of the same key (the
 * claim takes only each key's oldest pending event), so handlers may process it set-wise.
 */
export type OutboxHandler<T extends Topic = Topic> = (events: OutboxEvent<T>[], ctx: HandlerContext) => Promise<void>;

/** Where the incident, uptime and notification handlers plug in, several per topic, in order. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, Array<{ name: string; handle: OutboxHandler }>>();

  on<T extends Topic>(topic: T, name: string, handle: OutboxHandler<T>): this {
    const list = this.handlers.get(topic) ?? [];
    // dispatch() hands a handler only events of the topic it was registered for.
    list.push({ name, handle: handle as OutboxHandler });
    this.handlers.set(topic, list);
    return this;
  }

  /** The topics something here handles: the only ones this process claims. */
  topics(): string[] {
    return [...this.handlers.keys()];
  }

  /** Runs every handler of each topic present, in the order they were registered. */
  async dispatch(events: OutboxEvent[], ctx: HandlerContext): Promise<void> {
    const byTopic = new Map<string, OutboxEvent[]>();
    for (const e of events) {
      const list = byTopic.get(e.topic) ?? [];
      list.push(e);
      byTopic.set(e.topic, list);
    }
    for (const [topic, list] of byTopic) {
      for (const h of this.handlers.get(topic) ?? []) {
        try {
          await h.handle(list, ctx);
        } catch (err) {
          throw new HandlerError(h.name, err);
        }
      }
    }
  }
}

export class HandlerError extends Error {
  constructor(
    readonly handler: string,
    override readonly cause: unknown,
  ) {
    super(`${handler}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'HandlerError';
  }
}
