import { jsx } from 'hono/jsx';

/*
 * hono/jsx (from 4.13) renders each page inside an AsyncLocalStorage, so that useContext() keeps
 * its value across an await in an async component. On Node 20 the first AsyncLocalStorage.run()
 * turns a promise hook on for the whole process, for good: every promise then costs more (ten
 * awaits took 1.7-2.0 µs instead of 0.4-0.6 µs), every request makes dozens, and the first status
 * page or console page anyone opened made heartbeat ingest slower from then on (a single
 * heartbeat ~44-51 → ~61-63 µs of CPU, alternated runs at load 6-8).
 *
 * Our pages use no JSX context, so hono's fallback, a store held while a page renders
 * synchronously, is exact for them. Hono looks for AsyncLocalStorage once, at its first render:
 * that render happens here, with node:async_hooks hidden from the lookup for its duration.
 */
let settled = false;

export function renderWithoutAsyncStorage(): void {
  if (settled) return;
  settled = true;
  const original = process.getBuiltinModule;
  process.getBuiltinModule = ((id: string) => (/^(node:)?async_hooks$/.test(id) ? undefined : original(id))) as typeof original;
  try {
    String(jsx('i', {}));
  } finally {
    process.getBuiltinModule = original;
  }
}
