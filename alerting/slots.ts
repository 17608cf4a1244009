/**
 * A counting semaphore: at most `size` holders at once, the rest waiting in arrival order. Used
 * where a library's own limit does not hold on every path, or holds without saying when a holder
 * starts: undici replaces an origin's pool when its connections all fail or close (the new pool
 * opens its own set), and nodemailer's pool queues messages with no way to learn when one leaves.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<{ given(): void; refused(reason: unknown): void }> = [];
  private refusal: { reason: unknown } | undefined;

  constructor(private readonly size: number) {
    this.free = size;
  }

  /**
   * Resolves holding a slot; the function it gives frees it (once, whatever it is called again).
   * Rejects with the signal's reason, holding nothing, when `signal` is aborted first: before the
   * call, while waiting, or in the turn a slot was handed over (that slot goes to the next waiter).
   * Rejects with the refusal's reason once `refuseWaiting` was called.
   */
  async take(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.refusal) throw this.refusal.reason;
    if (this.free > 0) this.free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          given: () => {
            signal?.removeEventListener('abort', cancelled);
            resolve();
          },
          refused: (reason: unknown) => {
            signal?.removeEventListener('abort', cancelled);
            reject(reason);
          },
        };
        const cancelled = () => {
          // Always found: given() and refused() drop this listener before they settle.
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(signal!.reason);
        };
        this.waiting.push(waiter);
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

  /**
   * Ends every wait now, and every take from now on, with `reason`; slots held stay held until
   * freed. For a stop, where thousands may wait: one listener each on a shared AbortSignal costs
   * Node's EventTarget a walk of all the others per add (it refuses duplicates), ~60 µs a row at
   * 4,000 waiting.
   */
  refuseWaiting(reason: unknown): void {
    this.refusal = { reason };
    for (const waiter of this.waiting.splice(0)) waiter.refused(reason);
  }

  /** Nobody holds a slot and nobody waits for one. */
  get idle(): boolean {
    return this.free === this.size;
  }

  /** A slot let go: to the first waiter, or back to the pool. */
  private handOn(): void {
    const next = this.waiting.shift();
    if (next) next.given();
    else this.free++;
  }
}
