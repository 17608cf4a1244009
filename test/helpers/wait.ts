/**
 * Waits for an observable condition (a row, an HTTP answer) to hold, checking every 25 ms; fails
 * with `what` after `timeoutMs`. For outcomes that arrive from another process or a queue, where
 * there is no event to await.
 */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
