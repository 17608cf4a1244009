import type { Logger } from './logger.ts';

export interface LoopOptions {
  name: string;
  log: Logger;
  /** One pass. Returns how long to wait before the next pass, or undefined for `intervalMs`. */
  runOnce: () => Promise<number | void>;
  intervalMs: number;
  /** Called with every error a pass throws; the loop itself never dies of one. */
  onError?: (err: unknown) => void;
  /** Called each time the loop goes to sleep (lets tests wait for quiescence instead of time). */
  onIdle?: () => void;
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

  constructor(private readonly opts: LoopOptions) {}

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

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let wait: number = this.opts.intervalMs;
      try {
        const next = await this.opts.runOnce();
        if (typeof next === 'number') wait = next;
      } catch (err) {
        this.opts.log.error({ err, loop: this.opts.name }, 'loop pass failed');
        this.opts.onError?.(err);
      }
      if (!this.running) break;
      if (this.woken || wait <= 0) continue;
      await new Promise<void>((resolve) => {
        this.wakeSleeper = resolve;
        this.timer = setTimeout(resolve, wait);
        this.opts.onIdle?.();
      });
      this.wakeSleeper = undefined;
      this.timer = undefined;
    }
  }
}
