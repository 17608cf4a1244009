import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { Coalescer, RETRY_LOOKUP_AFTER_MS, type Batching } from '../coalescer.ts';
import type { Sql } from '../db/client.ts';
import type { Scope } from './model.ts';
import { hashSecret } from '../secrets.ts';
import { deleteSession, findSession, insertSession, liveSessionHashes, type SessionRow } from './store-sessions.ts';
import { announceIdentityChange, SESSION_ENDED } from './store.ts';

/** How long console sessions live (LIFELINE_CONSOLE_IDLE_MINUTES, LIFELINE_CONSOLE_SESSION_HOURS). */
export interface SessionLimits {
  idleMs: number;
  maxMs: number;
}

export interface ConsoleSession {
  idHash: string;
  keyId: string;
  keyName: string;
  scope: Exclude<Scope, 'ingest'>;
  expiresAt: Date;
  /** The per-session token every form and state-changing request must carry. */
  csrf: string;
}

function toSession(row: SessionRow, id: string): ConsoleSession {
  return {
    idHash: row.id_hash,
    keyId: row.key_id,
    keyName: row.key_name,
    scope: row.scope as ConsoleSession['scope'],
    expiresAt: row.expires_at,
    csrf: csrfToken(id),
  };
}

/**
 * Derived from the session id, so it needs no storage and no one who cannot read the cookie can
 * compute it; a different hash from the stored one, so the table does not reveal it either.
 */
function csrfToken(sessionId: string): string {
  return createHash('sha256').update(`lifeline-csrf:${sessionId}`).digest('base64url');
}

export function csrfMatches(session: ConsoleSession, offered: string | undefined): boolean {
  if (offered === undefined) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(offered);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Signs in with an API key's secret: a new session and the id for the cookie, or undefined when
 * the secret is not a read, write or admin key that is valid now.
 */
export async function openSession(sql: Sql, secret: string, limits: SessionLimits, now: Date): Promise<{ id: string; session: ConsoleSession } | undefined> {
  const id = randomBytes(32).toString('base64url');
  const row = await sql.begin((tx) =>
    insertSession(tx, {
      idHash: hashSecret(id),
      keySecretHash: hashSecret(secret),
      now,
      idleSince: new Date(now.getTime() - limits.idleMs),
      expiresAt: new Date(now.getTime() + limits.maxMs),
    }),
  );
  return row ? { id, session: toSession(row, id) } : undefined;
}

/**
 * The session a cookie names, if it is still valid. A `use` (a person navigating or acting) resets
 * its idle timeout; what a page or stream requests on its own does not, or an open tab would keep
 * a session alive until its absolute limit.
 */
export async function resolveSession(sql: Sql, id: string, limits: SessionLimits, now: Date, use: boolean): Promise<ConsoleSession | undefined> {
  const row = await findSession(sql, hashSecret(id), now, new Date(now.getTime() - limits.idleMs), use);
  return row ? toSession(row, id) : undefined;
}

/**
 * Open event streams' checks: a sign-out or a revocation has every session stream of the process
 * ask at once, and every keepalive tick asks them all again. A failed batch is run once more,
 * whole, 250 ms later (a blip must not fail 1,000 streams' checks at once), then fails its callers
 * rather than running 1,000 single lookups against a database that still fails.
 */
const CHECK_BATCHING: Batching = { size: 1_000, inFlight: 4, retryAlone: false, retryBatchAfterMs: RETRY_LOOKUP_AFTER_MS };

/**
 * Whether the session a cookie id names is still valid, never counting as use (a stream is not a
 * person): the checks asked in one event-loop turn are one query (1,000 open tabs: one lookup per
 * sign-out, not 1,000).
 */
export function sessionChecks(sql: Sql, limits: SessionLimits, clock: Clock): (id: string) => Promise<boolean> {
  const checks = new Coalescer<string, boolean>(async (idHashes) => {
    const now = clock.now();
    const live = await liveSessionHashes(sql, idHashes, now, new Date(now.getTime() - limits.idleMs));
    return idHashes.map((h) => live.has(h));
  }, CHECK_BATCHING);
  return (id) => checks.add(hashSecret(id));
}

/** Signs out; every process's open event streams of the session hear of it and end. */
export async function closeSession(sql: Sql, session: ConsoleSession): Promise<void> {
  await sql.begin(async (tx) => {
    await deleteSession(tx, session.idHash);
    await announceIdentityChange(tx, SESSION_ENDED);
  });
}
