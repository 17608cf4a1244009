/** How a Coalescer groups: at most `size` items a batch, at most `inFlight` batches at once. */
export interface Batching {
  size: number;
  inFlight: number;
  /**
   * False when no item can be what failed (a read of rows by id): a failed batch then fails every
   * caller at once, rather than running each again alone against a database that just failed (a
   * blip with 1,000 event streams checking would be 1,000 more queries as it comes back).
   */
  retryAlone?: boolean;
  /**
   * When set, a failed batch is run once more, whole, this many ms later, before its callers fail
   * (or its items run alone): a blip of a few hundred ms then costs one more query for up to 1,000
   * callers instead of failing all of them at once.
   */
  retryBatchAfterMs?: number;
}

interface Waiting<I, O> {
  item: I;
  resolve(out: O): void;
  reject(err: unknown): void;
}

/**
 * Runs the items its callers add as batches: what arrives within one event-loop turn, or while
 * `inFlight` batches are already running, goes out together, so N concurrent callers cost one
 * statement instead of N. A quiet caller waits one turn (setImmediate), never a timer.
 *
 * `run` returns one output per item, in order. Each caller's promise settles only when its
 * batch has: a caller awaiting a write knows it is committed. A failed batch is first run once
 * more whole if `retryBatchAfterMs` is set; when a batch of several still fails, each of its items
 * is run again alone (unless `retryAlone` is false), so one bad item fails only its own caller and
 * never hides behind, or takes down, the others.
 */
export class Coalescer<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly batching: Batching,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.batching.inFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.running < this.batching.inFlight && this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.batching.size);
        this.running += 1;
        void this.settle(batch).finally(() => {
          this.running -= 1;
          this.schedule();
        });
      }
    });
  }

  private async settle(batch: Waiting<I, O>[]): Promise<void> {
    let outs: O[];
    try {
      outs = await this.runOnceMore(batch.map((w) => w.item));
    } catch (err) {
      if (batch.length === 1 || this.batching.retryAlone === false) return batch.forEach((w) => w.reject(err));
      await Promise.all(batch.map((w) => this.settle([w])));
      return;
    }
    batch.forEach((w, i) => w.resolve(outs[i]!));
  }

  /** `run`, and once more after `retryBatchAfterMs` if that is set and the first run failed. */
  private async runOnceMore(items: I[]): Promise<O[]> {
    const delayMs = this.batching.retryBatchAfterMs;
    if (delayMs === undefined) return this.run(items);
    try {
      return await this.run(items);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return this.run(items);
    }
  }
}
