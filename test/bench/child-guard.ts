/**
 * Child processes of the benchmark that we write ourselves (baseline servers, lock pollers) end on
 * their own if the benchmark vanished without stopping them (its `exit` hook cannot run on
 * SIGKILL), and in any case after a fixed lifetime: no loop outlives the run.
 */
export function guardChild(maxSeconds = Number(process.env.BENCH_CHILD_MAX_SECONDS ?? 1800)): void {
  const parent = process.ppid;
  const check = setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1000);
  check.unref();
  setTimeout(() => process.exit(0), maxSeconds * 1000).unref();
}
