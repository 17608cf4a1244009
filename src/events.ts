import { EventEmitter, once } from 'node:events';
import type { DbErrorKind } from './db/errors.ts';
import type { LoopKind } from './loop.ts';

/**
 * Why a level paged nobody (a `reached_nobody` entry), as lifeline_incidents_unrouted_total counts
 * it: the incident has no escalation policy (nor a default one), email is off (SMTP_URL unset) and
 * the level reaches its channels and people only by email, or the level named nobody on call.
 */
export const UNROUTED_REASONS = ['no_policy', 'email_not_configured', 'nobody_on_call'] as const;
export type UnroutedReason = (typeof UNROUTED_REASONS)[number];

export const OUTBOX_RESULTS = ['handled', 'failed', 'dead'] as const;
export type OutboxResult = (typeof OUTBOX_RESULTS)[number];
/** `held`: not attempted, and no attempt spent: the channel's secret cannot be opened with this process's key. */
export const DELIVERY_RESULTS = ['sent', 'failed', 'dead', 'held'] as const;
export type DeliveryResult = (typeof DELIVERY_RESULTS)[number];

/**
 * Everything the engine's parts announce while they run, by name, with what each announcement
 * carries. Metrics count them (src/metrics.ts, countEvents) and tests wait on them; neither needs a
 * callback threaded through the part that announces.
 */
export interface EngineEvents {
  /** An evaluator pass that ran as leader finished, in this many seconds, at `endedAt` (the engine's clock). */
  'evaluator.tick': [seconds: number, endedAt: Date];
  /** A state transition the evaluator committed. */
  'evaluator.transition': [from: string, to: string];
  /** A node could not be judged (its decision or its write raised); `kind` as classifyDbError says. */
  'evaluator.node_error': [kind: DbErrorKind];
  /** This process took or lost the evaluator lock. */
  'evaluator.leadership': [leader: boolean];
  /** An ingest flush committed this many heartbeat rows, in this many seconds. */
  'ingest.flushed': [written: number, seconds: number];
  /** Postgres refused a buffered heartbeat on its own; it was set aside (see src/ingest/isolate.ts). */
  'ingest.rejected': [reason: string];
  /** A handler finished with an outbox event: handled (with the seconds since it was written), failed (will retry) or dead. */
  'outbox.event': [topic: string, result: OutboxResult, latencySeconds?: number];
  /** Delivery attempts to a channel type: one message, or the `count` rows of a digest. */
  'notification.result': [channelType: string, result: DeliveryResult, count: number, latencySeconds?: number];
  /** A level of an incident paged nobody (a `reached_nobody` timeline entry), committed. */
  'incident.unrouted': [reason: UnroutedReason];
  /** A background loop went to sleep (nothing left to do until its timer or a wake-up). */
  'loop.idle': [loop: LoopKind];
  /** A pass of a background loop (or of the uptime housekeeping) failed; it carries on. */
  'loop.error': [loop: LoopKind, err: unknown];
  /** `npm run uptime:rebuild` finished a chunk of this many nodes. */
  'uptime.rebuilt': [nodes: number];
}

export type EventName = keyof EngineEvents;

/** A typed event emitter over EngineEvents. Listeners run synchronously, as emit is called. */
export class Events {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every process subscribes a handful of listeners per event; no leak to warn about.
    this.emitter.setMaxListeners(0);
  }

  /** Subscribes; returns the way to unsubscribe. */
  on<K extends EventName>(name: K, listener: (...args: EngineEvents[K]) => void): () => void {
    const l = listener as (...args: unknown[]) => void;
    this.emitter.on(name, l);
    return () => void this.emitter.off(name, l);
  }

  emit<K extends EventName>(name: K, ...args: EngineEvents[K]): void {
    this.emitter.emit(name, ...args);
  }

  /** The next announcement of `name`. */
  async next<K extends EventName>(name: K): Promise<EngineEvents[K]> {
    return (await once(this.emitter, name)) as EngineEvents[K];
  }
}
