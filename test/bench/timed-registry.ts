import { HandlerRegistry, type OutboxHandler } from '../../src/outbox/registry.ts';
import type { Topic } from '../../src/outbox/topics.ts';

export interface HandlerTime {
  /** `topic → handler name` */
  handler: string;
  ms: number;
  events: number;
  batches: number;
}

/**
 * A HandlerRegistry that adds up the time each handler spends inside the claiming transactions,
 * so a slow pipeline can be pinned on the handler (not the claim, the delete or the commit)
 * without changing the engine. The handlers are the engine's own, registered through `on` as usual.
 */
export class TimedRegistry extends HandlerRegistry {
  private readonly times = new Map<string, HandlerTime>();

  override on<T extends Topic>(topic: T, name: string, handle: OutboxHandler<T>): this {
    const key = `${topic} → ${name}`;
    const t: HandlerTime = { handler: key, ms: 0, events: 0, batches: 0 };
    this.times.set(key, t);
    return super.on<T>(topic, name, async (events, ctx) => {
      const started = performance.now();
      try {
        await handle(events, ctx);
      } finally {
        t.ms += performance.now() - started;
        t.events += events.length;
        t.batches += 1;
      }
    });
  }

  handlerTimes(): HandlerTime[] {
    return [...this.times.values()].filter((t) => t.events > 0);
  }
}
