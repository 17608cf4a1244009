import { Events } from './events.ts';
import { throttled, type Logger } from './logger.ts';

/** Every kind of background loop: its failed passes are counted by kind, from 0 at start. */
export const LOOP_KINDS = ['evaluator', 'ingest', 'outbox', 'delivery-sweeper', 'storm-digest', 'uptime'] as const;
export type LoopKind = (typeof LOOP_KINDS)[number];

export interface LoopOptions {
  name: string;
  /** What its events (and so its error counter) call the loop: loops of one kind share it. */
  kind: LoopKind;
  log: Logger;
  /** One pass. Returns how long to wait before the next pass, or undefined for `intervalMs`. */
  runOnce: () => Promise<number | void>;
  intervalMs: number;
  /**
   * Where the loop announces a failed pass (`loop.error`; the loop itself never dies of one) and
   * going to sleep (`loop.idle`, which lets tests wait for quiescence instead of time).
   */
  events?: Events;
  /**
   * Names the store a failed pass waited on when it failed because that store is away (Redis not
   * connected, Postgres' connection refused), else undefined. Such failures are one warning per
   * outage, without a stack, and the first pass that succeeds after it says so: a pass failing
   * every 5 s for as long as Redis is down is the outage's one line, not a bug's.
   */
  outage?: (err: unknown) => string | undefined;
}

/**
 * The one loop shape every background worker uses: start()/stop() idempotent, the body a testable
 * runOnce(), errors logged and counted but never fatal, and wake() to cut a sleep short (NOTIFY).
 */
export class Loop {
  private running = false;
  private current: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wakeSleeper: (() => void) | undefined;
  private woken = false;
  private readonly kind: LoopKind;
  private readonly events: Events;
  /** A pass failing for as long as a store is away (every 5 s for the sweeper): one stack a minute; every failure is still counted. */
  private readonly failed: (fields: Record<string, unknown>, msg: string) => void;
  /** The store away since the first pass that failed on it, and the passes failed since. */
  private away: { store: string; passes: number } | undefined;

  constructor(private readonly opts: LoopOptions) {
    this.kind = opts.kind;
    this.events = opts.events ?? new Events();
    this.failed = throttled((fields, msg) => opts.log.error(fields, msg));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.current = this.run();
  }

  /** Finishes the pass under way, then returns; no new pass starts. */
  async stop(): Promise<void> {
    if (!this.running) return this.current;
    this.running = false;
    this.wake();
    await this.current;
  }

  wake(): void {
    this.woken = true;
    if (this.timer) clearTimeout(this.timer);
    this.wakeSleeper?.();
  }

  private failedPass(err: unknown): void {
    const store = this.opts.outage?.(err);
    if (store === undefined) return this.failed({ err, loop: this.opts.name }, 'loop pass failed');
    if (this.away) {
      this.away.passes++;
      return;
    }
    this.away = { store, passes: 1 };
    this.opts.log.warn({ loop: this.opts.name, store, error: (err as Error).message }, `${this.opts.name} waits: ${store} does not answer (said once; a line follows when it works again)`);
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let wait: number = this.opts.intervalMs;
      try {
        const next = await this.opts.runOnce();
        if (typeof next === 'number') wait = next;
        if (this.away) {
          this.opts.log.info({ loop: this.opts.name, store: this.away.store, failed_passes: this.away.passes }, `${this.opts.name} works again: ${this.away.store} answers`);
          this.away = undefined;
        }
      } catch (err) {
        this.failedPass(err);
        this.events.emit('loop.error', this.kind, err);
      }
      if (!this.running) break;
      if (this.woken || wait <= 0) continue;
      await new Promise<void>((resolve) => {
        this.wakeSleeper = resolve;
        this.timer = setTimeout(resolve, wait);
        this.events.emit('loop.idle', this.kind);
      });
      this.wakeSleeper = undefined;
      this.timer = undefined;
    }
  }
}
