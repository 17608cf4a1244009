/**
 * How long any wait in the tests may last before the test gives up: a safety net for a hung
 * component, never a claim about speed. It is generous because the suite must also pass on a busy
 * machine (two runs of it at once on two cores, where a single wait can take several seconds); a
 * passing test never waits this long, so it costs nothing.
 */
export const PATIENCE_MS = 60_000;

/**
 * Waits for an observable condition (a row, an HTTP answer) to hold, checking every 25 ms; fails
 * with `what` after `timeoutMs`. For outcomes that arrive from another process or a queue, where
 * there is no event to await.
 */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `event`, or a failure naming `what` if it has not happened after `timeoutMs`. */
export async function withPatience<T>(what: string, event: Promise<T>, timeoutMs = PATIENCE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([event, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
