/**
 * A counting semaphore: at most `size` holders at once, the rest waiting in arrival order. Used
 * where a library's own limit does not hold on every path, or holds without saying when a holder
 * starts: undici replaces an origin's pool when its connections all fail or close (the new pool
 * opens its own set), and nodemailer's pool queues messages with no way to learn when one leaves.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {
    this.free = size;
  }

  /**
   * Resolves holding a slot; the function it gives frees it (once, whatever it is called again).
   * Rejects with the signal's reason, holding nothing, when `signal` is aborted first: before the
   * call, while waiting, or in the turn a slot was handed over (that slot goes to the next waiter).
   */
  async take(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.free > 0) this.free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const given = () => {
          signal?.removeEventListener('abort', cancelled);
          resolve();
        };
        const cancelled = () => {
          // Always found: given() drops this listener before it resolves.
          const at = this.waiting.indexOf(given);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(signal!.reason);
        };
        this.waiting.push(given);
        signal?.addEventListener('abort', cancelled, { once: true });
      });
      if (signal?.aborted) {
        this.handOn();
        signal.throwIfAborted();
      }
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.handOn();
    };
  }

  /** Nobody holds a slot and nobody waits for one. */
  get idle(): boolean {
    return this.free === this.size;
  }

  /** A slot let go: to the first waiter, or back to the pool. */
  private handOn(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
