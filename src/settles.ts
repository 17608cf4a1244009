/**
 * Whether `p` settles (resolves or rejects: the caller handles a rejection where `p` was made)
 * within `ms`; at 0 or less, whether it already has. Only the waiting stops at `ms`: `p` goes on.
 */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, ms))));
  const settled = p.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
