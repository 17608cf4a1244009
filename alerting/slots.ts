/**
 * A counting semaphore: at most `size` holders at once, the rest waiting in arrival order. Used
 * where a library's own limit does not hold on every path, or holds without saying when a holder
 * starts: undici replaces an origin's pool when its connections all fail or close (the new pool
 * opens its own set), and nodemailer's pool queues messages with no way to learn when one leaves.
 */
export class Slots {
  private free: number;
  private readonly waiting: Hold[] = [];
  private refusal: { reason: unknown } | undefined;

  constructor(private readonly size: number) {
    this.free = size;
  }

  /**
   * Resolves holding a slot; the function it gives frees it (once, whatever it is called again).
   * Rejects with the signal's reason, holding nothing, when `signal` is aborted first: before the
   * call, while waiting, or in the turn a slot was handed over (that slot goes to the next waiter).
   * Rejects with the refusal's reason once `refuseWaiting` was called.
   *
   * One object per take (Hold: the waiter, its abort listener and its free function), not an async
   * function's frame, a waiter with two closures, a listener closure and a free closure: every
   * webhook takes two (a send slot, then a connection), and their garbage was ~1.8 KiB of the
   * ~44 KiB a delivery allocates (bench section 7b, sampled heap profile).
   */
  take(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.refusal) return Promise.reject(this.refusal.reason);
    return new Promise((resolve, reject) => {
      const hold = new Hold(this, signal, resolve, reject);
      if (this.free > 0) {
        this.free--;
        return resolve(hold.grant());
      }
      this.waiting.push(hold);
      signal?.addEventListener('abort', hold, { once: true });
    });
  }

  /**
   * Ends every wait now, and every take from now on, with `reason`; slots held stay held until
   * freed. For a stop, where thousands may wait: one listener each on a shared AbortSignal costs
   * Node's EventTarget a walk of all the others per add (it refuses duplicates), ~60 µs a row at
   * 4,000 waiting.
   */
  refuseWaiting(reason: unknown): void {
    this.refusal = { reason };
    for (const hold of this.waiting.splice(0)) hold.refused(reason);
  }

  /** Drops a waiter whose signal was aborted. */
  forget(hold: Hold): void {
    const at = this.waiting.indexOf(hold);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  /** Nobody holds a slot and nobody waits for one. */
  get idle(): boolean {
    return this.free === this.size;
  }

  /** A slot let go: to the first waiter, or back to the pool. */
  handOn(): void {
    const next = this.waiting.shift();
    if (next) next.given();
    else this.free++;
  }
}

/** One take: waiting for a slot (and listening to its signal), then holding it until `free`. */
class Hold {
  private held = false;

  constructor(
    private readonly slots: Slots,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (free: () => void) => void,
    private readonly reject: (reason: unknown) => void,
  ) {}

  /** Frees the slot held, once. */
  readonly free = (): void => {
    if (!this.held) return;
    this.held = false;
    this.slots.handOn();
  };

  /** Holds a slot from now on; the function that frees it. */
  grant(): () => void {
    this.held = true;
    return this.free;
  }

  /** Handed a slot by handOn. */
  given(): void {
    if (!this.signal) return this.resolve(this.grant());
    this.grant();
    this.signal.removeEventListener('abort', this);
    // An abort in the turn the slot was handed over still cancels the take: the slot goes on.
    queueMicrotask(() => {
      if (!this.signal!.aborted) return this.resolve(this.free);
      this.free();
      this.reject(this.signal!.reason);
    });
  }

  refused(reason: unknown): void {
    this.signal?.removeEventListener('abort', this);
    this.reject(reason);
  }

  /** The signal's abort while waiting (an EventTarget listener object). */
  handleEvent(): void {
    this.slots.forget(this);
    this.reject(this.signal!.reason);
  }
}
