import postgres from 'postgres';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** Either the pool or a transaction: repository functions accept both so callers choose the boundary. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

/**
 * The application_name of each connection a running engine keeps open (its pool, the evaluator's
 * lock session, the notification queues on Postgres, an uptime rebuild): a restore refuses a
 * database any of them is connected to. The CLI's own and the start-up sessions (probe, migrate)
 * are named apart, since they come and go with one command.
 */
export const ENGINE_APPLICATIONS = {
  pool: 'lifeline',
  evaluator: 'lifeline-evaluator',
  queue: 'lifeline-queue',
  uptimeRebuild: 'lifeline-uptime-rebuild',
} as const;

export interface DbOptions {
  max?: number;
  applicationName?: string;
  /** A dedicated session that must never be recycled behind our back (leader lock, migrations). */
  dedicated?: boolean;
}

/**
 * The URL without an `application_name` parameter: in a URL it overrides the name the code gives
 * (postgres.js and pg both let the URL's parameters win), so DATABASE_URL=…?application_name=billing
 * named every engine connection "billing" and a restore, which finds engines by their names
 * (ENGINE_APPLICATIONS), found none. Anything else the URL sets is kept.
 */
export function withoutApplicationName(url: string): string {
  // By text, not through URL: a multi-host URL (postgres://a:5432,b:5432/db) is no WHATWG URL, and
  // re-serialising one would re-encode its password.
  const q = url.indexOf('?');
  if (q < 0) return url;
  const kept = url.slice(q + 1).split('&').filter((p) => p.split('=')[0] !== 'application_name');
  return kept.length ? `${url.slice(0, q)}?${kept.join('&')}` : url.slice(0, q);
}

export function createSql(url: string, opts: DbOptions = {}): Sql {
  return postgres(withoutApplicationName(url), {
    max: opts.dedicated ? 1 : (opts.max ?? 10),
    onnotice: () => {},
    // A recycled connection would silently drop a session-level advisory lock.
    max_lifetime: opts.dedicated ? null : 60 * 30,
    idle_timeout: opts.dedicated ? 0 : 60,
    connect_timeout: 10,
    // Client-side TCP keepalive so a dead server is noticed in seconds, not hours.
    keep_alive: 5,
    connection: {
      application_name: opts.applicationName ?? ENGINE_APPLICATIONS.pool,
      // Server side: a vanished client (kernel panic, cut cable) releases its locks after
      // ~5 s of silence instead of the OS default of two hours (tcp_keepalives_idle=7200).
      tcp_keepalives_idle: 2,
      tcp_keepalives_interval: 1,
      tcp_keepalives_count: 3,
      tcp_user_timeout: 5000,
    } as Record<string, string | number | boolean>,
  });
}

/** Resolves once Postgres answers a query on `sql`; the readiness probe and the start-up waits. */
export async function ping(sql: Queryable): Promise<void> {
  await sql`select 1`;
}

/**
 * Creates the database named in `url` if it does not exist, connecting to the `postgres`
 * maintenance database. Two engines racing here both succeed.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const probe = createSql(url, { dedicated: true, applicationName: 'lifeline-probe' });
  try {
    await ping(probe);
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err;
  } finally {
    await probe.end({ timeout: 1 });
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  target.pathname = '/postgres';
  const admin = createSql(target.toString(), { dedicated: true, applicationName: 'lifeline-create-db' });
  try {
    await admin`create database ${admin(name)}`;
  } catch (err) {
    // A racing CREATE DATABASE fails with duplicate_database, or with unique_violation on the
    // pg_database catalog when both commit at the same instant.
    const code = (err as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw err;
  } finally {
    await admin.end({ timeout: 1 });
  }
}
