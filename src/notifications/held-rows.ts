/**
 * How many delivery jobs a notifier process may hold, bounded by the ledger rows they carry rather
 * than by their count. A job's rows wait for the process's send slots unleased once taken, while
 * another process may be idle: a bound of `maxJobs` jobs alone let 64-row groups hold 16,384 rows
 * a process. Here a job may be taken only while its rows, at most `rowsPerJob` (the size is known
 * only once it is taken), still fit under `cap` with every row held; rows count as held from their
 * job's start until each settles, and a job counts from its start until its processor returned.
 * Jobs of one row (retries, rows put back) still reach `maxJobs`.
 */
export class HeldRows {
  private jobs = 0;
  private rows = 0;

  constructor(
    private readonly cap: number,
    private readonly rowsPerJob: number,
    private readonly maxJobs: number,
  ) {}

  /**
   * Jobs the worker may hold now (BullMQ's concurrency: jobs being fetched, run or completed): those
   * running, and one more for each `rowsPerJob` rows still free under the cap. At least 1, which
   * BullMQ requires: with nothing running, one job is always taken.
   */
  get concurrency(): number {
    return Math.max(1, Math.min(this.maxJobs, this.jobs + Math.floor(Math.max(0, this.cap - this.rows) / this.rowsPerJob)));
  }

  /** A job of `rows` rows started. */
  started(rows: number): void {
    this.jobs++;
    this.rows += rows;
  }

  /** One of a running job's rows settled. */
  settled(): void {
    this.rows--;
  }

  /** A job's processor returned (its rows all settled). */
  ended(): void {
    this.jobs--;
  }
}
