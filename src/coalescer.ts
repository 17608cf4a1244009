import { isTransientDbError, sqlState } from './db/errors.ts';

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
   * When set, a batch that failed on a blip (retriedAfterBlip) is run once more, whole, this many
   * ms later, before its callers fail (or its items run alone): a blip of a few hundred ms then
   * costs one more query for up to 1,000 callers instead of failing all of them at once.
   */
  retryBatchAfterMs?: number;
}

/**
 * The `retryBatchAfterMs` of the lookups every request and open stream waits on (identities,
 * sessions): long enough for a blip of a few hundred ms (a failover, a dropped connection
 * re-established) to clear, short enough that the callers it holds barely notice.
 */
export const RETRY_LOOKUP_AFTER_MS = 250;

// Transient, yet not to be run again at once: a server shedding load (57014 a statement timeout,
// 53300 too many connections) is only loaded more by 1,000 callers' batch coming straight back,
// and a connect that timed out has already made its callers wait 10 s (connect_timeout).
const NOT_RETRIED = new Set(['57014', '53300', 'CONNECT_TIMEOUT']);

/** A failure that may clear up within `retryBatchAfterMs`: transient, and not one of NOT_RETRIED. */
const retriedAfterBlip = (err: unknown): boolean => isTransientDbError(err) && !NOT_RETRIED.has(sqlState(err) ?? '');

interface Waiting<I, O> {
  item: I;
  resolve(out: O): void;
  reject(err: unknown): void;
}

/**
 * Runs the items its callers add as batches: what arrives within one event-loop turn, or while
 * `inFlight` batches are already running, goes out together, so N concurrent callers cost one
 * statement instead of N. A quiet caller waits one turn (setImmediate), not a timer; only a batch
 * run once more after a blip waits on one (`retryBatchAfterMs`).
 *
 * `run` returns one output per item, in order. Each caller's promise settles only when its
 * batch has: a caller awaiting a write knows it is committed. A batch failed on a blip is first
 * run once more whole if `retryBatchAfterMs` is set; when a batch of several still fails, each of
 * its items is run again alone, once (unless `retryAlone` is false), so one bad item fails only
 * its own caller and never hides behind, or takes down, the others.
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

  /**
   * Runs a batch (`runBatch`, retried after a blip) and settles its callers; the items of a failed
   * batch of several are run alone once each (`run` itself: the batch had its second run already).
   */
  private async settle(batch: Waiting<I, O>[], runBatch = (items: I[]) => this.runOnceMore(items)): Promise<void> {
    let outs: O[];
    try {
      outs = await runBatch(batch.map((w) => w.item));
    } catch (err) {
      if (batch.length === 1 || this.batching.retryAlone === false) return batch.forEach((w) => w.reject(err));
      await Promise.all(batch.map((w) => this.settle([w], this.run)));
      return;
    }
    batch.forEach((w, i) => w.resolve(outs[i]!));
  }

  /** `run`, and once more after `retryBatchAfterMs` if that is set and the first run failed on a blip. */
  private async runOnceMore(items: I[]): Promise<O[]> {
    const delayMs = this.batching.retryBatchAfterMs;
    if (delayMs === undefined) return this.run(items);
    try {
      return await this.run(items);
    } catch (err) {
      if (!retriedAfterBlip(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return this.run(items);
    }
  }
}
