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

  /** Resolves holding a slot; the function it gives frees it (once, whatever it is called again). */
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }

  /** Nobody holds a slot and nobody waits for one. */
  get idle(): boolean {
    return this.free === this.size;
  }
}
