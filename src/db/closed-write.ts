/**
 * postgres.js 3.4.x (3.4.9 and 3.4.10, the newest 3.x) holds a write under 1,024 bytes for one
 * `setImmediate` and sends it from `nextWrite`. A statement handed to a connection whose socket has
 * already closed — the ROLLBACK `sql.begin` sends itself when a transaction's backend is terminated
 * (failover, a pgbouncer restart, an idle-connection reaper, `pg_terminate_backend`) — schedules that
 * write against a null socket, and the TypeError it throws reaches no query: only the process.
 * By then the driver has already failed the transaction with CONNECTION_CLOSED and moved the
 * connection to its closed queue, so the error costs nothing but that connection's next connects
 * (ARCHITECTURE.md, "A write to a closed connection").
 */
const MESSAGE = "Cannot read properties of null (reading 'write')";

// The throwing frame itself, run from the immediate (not a synchronous write, which the caller sees),
// in the driver's ESM or CommonJS build, wherever it is installed (hoisted, nested, pnpm's store).
const FRAME = /^\s+at Immediate\.nextWrite \(.*[\\/]node_modules[\\/]postgres[\\/](cjs[\\/])?src[\\/]connection\.js:\d+:\d+\)$/;

/** Whether `err` is exactly the driver's deferred write to a closed connection, and nothing else. */
export function isWriteAfterClose(err: unknown): boolean {
  if (!(err instanceof TypeError) || err.message !== MESSAGE) return false;
  return FRAME.test(err.stack?.split('\n')[1] ?? '');
}
