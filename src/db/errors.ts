/**
 * What a database error means for the work that hit it, decided in one place so every loop and
 * route draws the same line:
 *
 * - `transient`: the statement may succeed unchanged a moment later (serialization failures,
 *   deadlocks, lock timeouts, a lost or refused connection, a server shutting down, too many
 *   connections). Retry the same work with backoff; never blame the data.
 * - `invalid_data`: Postgres refused the values themselves (class 22: bad encoding, out-of-range
 *   numbers or dates, malformed text). Retrying cannot help; the row is to be set aside, and an
 *   HTTP request that carried it is the client's fault (400).
 * - `constraint`: an integrity constraint (class 23: unique, foreign key, check, not null).
 *   Not retried: the caller either expects it (a 409) or has found a bug in its own rows.
 * - `other`: anything else (a bug in a statement, an internal error). Not retried blindly.
 */
export const DB_ERROR_KINDS = ['transient', 'invalid_data', 'constraint', 'other'] as const;
export type DbErrorKind = (typeof DB_ERROR_KINDS)[number];

// SQLSTATE classes and codes that clear up on their own. 08: connection exception; 53: insufficient
// resources (53300 too_many_connections); 57P01-57P03: admin/crash shutdown, cannot connect now.
const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '57014']);
const TRANSIENT_CLASSES = new Set(['08', '53']);
// This process ending its own pool (a stop): postgres.js's errors for the queries still queued.
const POOL_ENDED_CODES = new Set(['CONNECTION_ENDED', 'CONNECTION_DESTROYED']);
// Node's errors for a socket: a connect() refused or timed out, a lookup that found nothing, or a
// socket failing after it connected.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
// Errors postgres.js and Node raise for a connection rather than a statement.
const CONNECTION_CODES = new Set(['CONNECTION_CLOSED', 'CONNECT_TIMEOUT', ...POOL_ENDED_CODES, ...SOCKET_CODES]);

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyDbError(err: unknown): DbErrorKind {
  const code = sqlState(err);
  if (code === undefined) return 'other';
  if (CONNECTION_CODES.has(code) || TRANSIENT_CODES.has(code) || TRANSIENT_CLASSES.has(code.slice(0, 2))) return 'transient';
  if (code.length !== 5) return 'other';
  if (code.startsWith('22')) return 'invalid_data';
  if (code.startsWith('23')) return 'constraint';
  return 'other';
}

export const isTransientDbError = (err: unknown): boolean => classifyDbError(err) === 'transient';

// The server ended the session: administrator or crash shutdown (pg_terminate_backend is 57P01),
// or a server that cannot take connections now.
const SESSION_ENDED_CODES = new Set(['57P01', '57P02', '57P03']);

/**
 * The error means the session itself is gone (or never came), not just the statement: whatever
 * the session held — a session-level advisory lock — is gone with it.
 */
export function isConnectionError(err: unknown): boolean {
  const code = sqlState(err);
  if (code === undefined) return false;
  return CONNECTION_CODES.has(code) || SESSION_ENDED_CODES.has(code) || code.startsWith('08');
}
/**
 * postgres.js names the statement on every error it fails a query with (a `query` property, not
 * enumerable), a Node socket error included; a socket error from anywhere else (a client's request
 * body cut off is ECONNRESET too) has none.
 */
const failedAQuery = (err: object): boolean => 'query' in err;

/**
 * Postgres cannot be reached, told apart from a client's socket failing: a connect() or host
 * lookup that failed, or a connection error (isConnectionError) that is postgres.js's or the
 * server's own (a lost or timed-out connection, SQLSTATE class 08, the server's shutdowns), or a
 * socket error postgres.js failed a query with (a connection reset mid-query: ECONNRESET on the
 * read). Not Node's socket codes from elsewhere, nor this process ending its own pool.
 */
export function isPostgresUnreachable(err: unknown): boolean {
  const code = sqlState(err);
  if (code === undefined) return false;
  const syscall = (err as { syscall?: unknown }).syscall;
  if (syscall === 'connect' || syscall === 'getaddrinfo') return true;
  if (!isConnectionError(err) || POOL_ENDED_CODES.has(code)) return false;
  return !SOCKET_CODES.has(code) || failedAQuery(err as object);
}

export const isUniqueViolation = (err: unknown): boolean => sqlState(err) === '23505';

/** The index or constraint a unique violation hit (`''` when unnamed); undefined for any other error. */
export function uniqueViolated(err: unknown): string | undefined {
  if (!isUniqueViolation(err)) return undefined;
  const name = (err as { constraint_name?: unknown }).constraint_name;
  return typeof name === 'string' ? name : '';
}
