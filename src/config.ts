// Configuration is a pure function of an environment map: no I/O, no defaults hidden elsewhere.
// Every variable is documented in README.md; a bad value names itself in one line.

import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { decodeSecretKey } from './secrets.ts';

/**
 * Sends in flight per notifier process by default: deliveries wait on the network, not the CPU.
 * Their ledger reads and `sent` marks are batched (DeliveryLedger), so more sends in flight make
 * bigger batches rather than more queries: at 64 a batch holds ~20 rows, 0.36 transactions per
 * delivery against 0.60 at 32, and Postgres spent ~140 µs of CPU per delivery against ~190 µs
 * (bench section 7b, runs alternated, load 10-12). At 256 a batch holds ~65 rows; one process
 * opens at most CONNECTIONS_PER_RECEIVER (64) connections to one receiver, and the sends past
 * them wait for one. That wait is safe because the ledger's lease, not the job's lock, decides
 * who sends a row: a send that cannot start within its lease's start window gives up unsent
 * (DELIVERY_LEASE). The lease writes each row once more (~90 µs of Postgres CPU per delivery at
 * 64: 463 against 370 µs); at 256 the bigger batches more than pay for it: 296 µs against 370 for
 * 64 without a lease, notifier CPU 686 against 760 µs, no webhook-id twice (bench section 7b,
 * medians of 5 alternated rounds, load 8-24; 12 twice in one run at 64 without the lease).
 */
export const DELIVERY_CONCURRENCY = 256;

/**
 * How long a notifier's read of a ledger row keeps the row its own: the first half is the window
 * in which its send may start (four rounds of 10 s timeouts behind 64 connections at 256 sends in
 * flight), the second covers a send started at the last moment (an HTTP answer within 10 s, an
 * SMTP exchange, the `sent` write's ~6 s of retries). It is also how long the rows of a notifier
 * that died mid-send wait before another sends them.
 */
export const DELIVERY_LEASE_MS = 120_000;

/**
 * LIFELINE_DRAIN_MS's default: a balancer reading /readyz every 10 s (a Kubernetes readiness
 * probe's default period; HAProxy's default checks notice in 6 s) sees the 503 within it, and it
 * plus the stop's 13 s (ENGINE_STOP_MS) fits Kubernetes' 30 s grace. A drain ends sooner once no
 * connection is open, so a quiet `npm start` stops at once (ARCHITECTURE.md).
 */
export const DRAIN_MS = 10_000;

/**
 * Where the CLI reaches the engine without --url or LIFELINE_URL: an engine on the default PORT and
 * HOST, on this machine. The engine's first-run line leaves LIFELINE_URL out when it is this.
 */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** LIFELINE_DATA_DIR unset: `.lifeline` in the directory the process runs in. */
export const DEFAULT_DATA_DIR = '.lifeline';

/**
 * LIFELINE_HELD_REQUESTS_MAX's default: how many requests may wait for an api process's start to
 * complete (workers/listen.ts, StartGate). A held heartbeat costs the process ~14 KB of RSS (its
 * socket, parsed headers and body: 13.3-14.3 MB for 1,024), one with the largest body the API
 * takes ~73 KB (72.8-73.6 MB for 1,024; its body unread, the rest waits in the kernel), per
 * BENCHMARKS.md and test/bench/held-requests.ts. So 1,024 bound what a waiting start holds (on
 * another start's key lock, up to 30 s) to ~75 MB however many agents retry meanwhile, while a
 * thousand agents beating at once each get their beat in; unbounded, every retry of every agent
 * added a socket for as long as the start waited.
 */
export const HELD_REQUESTS_MAX = 1_024;

export const ROLES = ['api', 'evaluator', 'outbox', 'notifier'] as const;
export type Role = (typeof ROLES)[number];

export interface Config {
  /** Unset: the engine runs its own Postgres in `dataDir` (src/embedded/). */
  databaseUrl: string | undefined;
  /** LIFELINE_DATA_DIR, absolute: the embedded Postgres and the first admin secret live here. */
  dataDir: string;
  /** Unset: the notification queues run on BullMQ's PostgreSQL backend in the engine's database. */
  redisUrl: string | undefined;
  port: number;
  host: string;
  roles: ReadonlySet<Role>;
  adminToken: string | undefined;
  evaluatorIntervalMs: number;
  queuePrefix: string;
  autoRegister: boolean;
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: string;
  /** How often buffered heartbeats are written (coalesced per node). */
  ingestFlushMs: number;
  /**
   * LIFELINE_DRAIN_MS: how long an api process told to stop keeps its port open for clients still
   * connected, answering with `Connection: close` and /readyz 503, before closing it.
   */
  drainMs: number;
  /**
   * LIFELINE_HELD_REQUESTS_MAX: how many requests an api process holds while its start completes
   * (it listens before); past them it answers 503 with Retry-After.
   */
  heldRequestsMax: number;
  /** Longest an idle outbox worker waits before polling; NOTIFY usually wakes it sooner. */
  outboxPollMs: number;
  /** Outbox worker loops per process. */
  outboxWorkers: number;
  /** Pooled Postgres connections per process (besides its listener and the evaluator's lock session). */
  dbPoolMax: number;
  /** Attempts before an outbox event is parked as dead. */
  outboxMaxAttempts: number;
  /** Updates per minute to one email/Slack channel before further ones are sent as a digest. */
  stormThreshold: number;
  /** How often held storm updates are sent as one digest per channel. */
  digestIntervalMs: number;
  /** First retry delay of a failed delivery or digest; it doubles after each failure, up to 10 min. */
  deliveryBackoffMs: number;
  /** Sends in flight per notifier process. */
  deliveryConcurrency: number;
  /** How long a notifier's read of a ledger row keeps it its own (LIFELINE_DELIVERY_LEASE_MS). */
  deliveryLeaseMs: number;
  /** Seals channel secrets at rest; unset = a key generated once and stored in the database. */
  secretKey?: string;
  /** Days of hourly uptime rows kept. */
  uptimeHourlyRetentionDays: number;
  /** Days of daily uptime rows kept (at least the hourly retention). */
  uptimeDailyRetentionDays: number;
  /** Reverse proxies in front of the engine whose X-Forwarded-For entries are believed. */
  trustProxyHops: number;
  /** Private, loopback or link-local ranges that webhook, Slack and PagerDuty channels may still send to. */
  outboundAllowCidrs: string[];
  /** Every per-caller budget: authentications, node tokens, registrations, pings, public pages. */
  limits: RequestLimits;
  /** The Bearer secret GET /metrics asks for (LIFELINE_METRICS_TOKEN); unset: /metrics is open. */
  metricsToken: string | undefined;
  /** The engine's address as people reach it (no trailing slash); unset: notifications carry no links. */
  publicUrl: string | undefined;
  /** How long an acknowledge or resolve link in a notification acts after the event it announces. */
  actionLinkTtlHours: number;
  /** A console session ends after this long without a request. */
  consoleIdleMinutes: number;
  /** A console session ends this long after sign-in, however active. */
  consoleSessionHours: number;
}

/** The values compose.yaml falls back on, refused unless LIFELINE_DEMO=true. */
export const DEMO_VALUES = {
  LIFELINE_ADMIN_TOKEN: 'lifeline-demo-admin-token',
  LIFELINE_SECRET_KEY: 'bGlmZWxpbmUtZGVtby1rZXktY2hhbmdlLW1lLW5vdyE=',
} as const;

/** Limits per caller (src/http/limits.ts); 0 turns one off. */
export interface RequestLimits {
  /**
   * Failed authentications per minute and client address. 100: a person mistyping a key or an
   * agent with a revoked token stays far below; a guesser gets 100 tries a minute instead of the
   * ~1,100 a second measured without it, each of which was a Postgres query.
   */
  authFailuresPerMinute: number;
  /**
   * Requests per minute and node token. 1,200 (20 a second): twenty times an agent beating every
   * second, while one leaked token cannot flood ingest.
   */
  nodeTokenPerMinute: number;
  /**
   * Nodes one ingest key may register per hour. 1,000: a fleet's first batch registers at once;
   * a leaked key grows the fleet by at most 24,000 nodes a day instead of 1,000 per request.
   */
  registrationsPerHour: number;
  /**
   * Pings per minute and ping key. 600: a job pinging start and end every second stays far below
   * it; a crontab looping on a ping by mistake is stopped before it costs more than a heartbeat
   * node beating ten times a second.
   */
  pingsPerMinute: number;
  /**
   * Requests per minute and client address to status pages, badges and notification links. 1,200:
   * a status page reader refreshing, or a README's badges through an image proxy, stay far below it.
   */
  publicRequestsPerMinute: number;
}

export const LIMIT_DEFAULTS: RequestLimits = {
  authFailuresPerMinute: 100,
  nodeTokenPerMinute: 1200,
  registrationsPerHour: 1000,
  pingsPerMinute: 600,
  publicRequestsPerMinute: 1200,
};

/** `10.0.0.0/8` or `fd00::/8` as BlockList.addSubnet's arguments; undefined if it is not a CIDR. */
export function cidrParts(cidr: string): [address: string, prefix: number, family: 'ipv4' | 'ipv6'] | undefined {
  const [address = '', bits = '', extra] = cidr.trim().split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined || !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) return undefined;
  return [address, Number(bits), family === 4 ? 'ipv4' : 'ipv6'];
}

function cidrList(env: Env, name: string): string[] {
  const cidrs = (optional(env, name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = cidrs.find((c) => !cidrParts(c));
  if (bad !== undefined) throw new ConfigError(name, `"${bad}" is not a CIDR such as 127.0.0.0/8 or ::1/128`);
  return cidrs;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function text(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return raw;
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function url(env: Env, name: string, fallback: string | undefined, protocols: string[]): string | undefined {
  const raw = optional(env, name) ?? fallback;
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL, got "${redact(raw, { oneValue: true })}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    // `localhost:18821` parses with the scheme "localhost:": the scheme was left out, not mistyped.
    if (!raw.includes('://')) {
      throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${redact(raw, { oneValue: true })}": add ${protocols.map((p) => `${p}//`).join(' or ')} in front`);
    }
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return raw;
}

/**
 * LIFELINE_PUBLIC_URL as the parsed URL writes it (host lower-cased, a default port dropped, a `"`,
 * `<` or `>` percent-encoded), without a trailing slash: every address given out is this plus a
 * path, and the typed text went into them, and into HTML snippets, as it was typed.
 */
function publicUrl(env: Env): string | undefined {
  const raw = url(env, 'LIFELINE_PUBLIC_URL', undefined, ['http:', 'https:']);
  if (raw === undefined) return undefined;
  const parsed = new URL(raw);
  // It is logged at start and given out in links: a password in it would be given out with them.
  if (parsed.username || parsed.password) {
    throw new ConfigError('LIFELINE_PUBLIC_URL', 'must not hold a user name or password (it is logged and given out in links); give only scheme, host, port and path');
  }
  // Addresses are this plus a path: after a query or a fragment, the path would be part of those.
  if (/[?#]/.test(parsed.href)) {
    throw new ConfigError('LIFELINE_PUBLIC_URL', `must not have a query or fragment (every address is it plus a path), got "${parsed.href}"`);
  }
  return parsed.href.replace(/\/+$/, '');
}

/**
 * Said at start, not refused (a deployment that starts today keeps starting): a LIFELINE_ADMIN_TOKEN
 * shorter than 32 characters is the one secret that may be short enough to guess. Generated keys
 * and node tokens are 256 random bits; the failed-authentication hard cap still lets one address
 * try 1,000 secrets a minute per api process at the default budget (src/http/auth-budget.ts).
 */
export function adminTokenWarning(token: string | undefined): string | undefined {
  if (token === undefined || token.length >= 32) return undefined;
  return `LIFELINE_ADMIN_TOKEN has ${token.length} characters: it is the one secret short enough to guess; use 32 or more random ones (openssl rand -hex 24)`;
}

// A URL's userinfo in free text: scheme, `//`, then anything up to the last `@` before a space or
// quote. A password may hold `@` and `/` unescaped (`redis://u:p@ss@host`, `smtp://u:pa/ss@mail`),
// so the match runs to the last `@`; a path's `@` after a host is masked with it, more than needed
// but never a secret shown.
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>]*)@/gi;
// In one value: from the first `://` (or the start, `user:pw@host` having no scheme) to the last
// `@`, whatever lies between.
const ONE_VALUE_USERINFO = /^(.*?:\/\/)?.*@/s;
// A `:` between `://` and a later `@`: `postgres://u:1234/abc@host/db` parses as the host `u` on
// port 1234 with `@host` in its path, no password to mask, yet `1234/abc` is one.
const HIDDEN_USERINFO = /:\/\/[^@\s]*:[^@\s]*@/;

/**
 * Never echo a secret from a URL into logs: every URL's password in `text` becomes `***`, with a
 * user name or without one (`redis://:pw@host` is how REDIS_URL carries a bare password), and a
 * user name alone is masked whole (`https://TOKEN@host` is how a token rides in a URL). A whole
 * URL that parses is masked through the parser; other text (an error message naming a URL, a
 * value that failed to parse) has each userinfo's part after its first `:` masked, or all of it
 * without a `:`. `oneValue`: `text` is one setting's value that did not parse as a URL (the startup
 * error names it); what the parser could not split (`postgres://u:pg/pw@host/db`, a password with
 * a `/` or a space) is masked whole from `://` to the last `@`, the widest span a password could take.
 */
export function redact(text: string, o: { oneValue?: boolean } = {}): string {
  const parsed = URL.canParse(text) ? new URL(text) : undefined;
  // `error: redis://…` parses too, as the scheme `error:` and all else an opaque path: free text.
  if (parsed && parsed.host !== '') {
    if (parsed.password) parsed.password = '***';
    else if (parsed.username) parsed.username = '***';
    else if (!HIDDEN_USERINFO.test(text)) return text;
    if (parsed.password || parsed.username) return parsed.href;
  }
  if (o.oneValue) return text.replace(ONE_VALUE_USERINFO, '$1***@');
  return text.replace(USERINFO, (_whole, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/**
 * Whether /readyz answers 503 while the queues' store (Redis) does not answer or the secret key
 * cannot open the stored channel secrets: only in a notifier process without the api role. The
 * notifier's work stops then, but a process that also takes the fleet's heartbeats (the default
 * LIFELINE_ROLES=all) must stay in the load balancer: a 503 would stop every node's heartbeats and
 * judge the fleet down. There each is a warning.
 */
export function notifierWithoutApi(roles: ReadonlySet<Role>): boolean {
  return roles.has('notifier') && !roles.has('api');
}

function roles(env: Env): Set<Role> {
  const raw = text(env, 'LIFELINE_ROLES', 'all').trim();
  if (raw === 'all') return new Set(ROLES);
  const parts = raw.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new ConfigError('LIFELINE_ROLES', 'must name at least one role');
  for (const p of parts) {
    if (!(ROLES as readonly string[]).includes(p)) {
      throw new ConfigError('LIFELINE_ROLES', `unknown role "${p}" (expected all or a comma list of ${ROLES.join(',')})`);
    }
  }
  return new Set(parts as Role[]);
}

export function loadConfig(env: Env): Config {
  const logLevel = text(env, 'LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const mailFrom = text(env, 'MAIL_FROM', 'lifeline@localhost');
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(mailFrom) && !/<[^\s@<>]+@[^\s@<>]+>$/.test(mailFrom)) {
    throw new ConfigError('MAIL_FROM', `must be an email address, got "${mailFrom}"`);
  }
  const queuePrefix = text(env, 'LIFELINE_QUEUE_PREFIX', 'lifeline');
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(queuePrefix)) {
    throw new ConfigError('LIFELINE_QUEUE_PREFIX', 'must be 1-64 characters of [A-Za-z0-9._:-]');
  }
  const processRoles = roles(env);
  const adminToken = optional(env, 'LIFELINE_ADMIN_TOKEN');
  // Only the api role applies it (workers/first-admin.ts): a worker or an evaluator given the
  // cluster's environment ignores it, so it is not refused for a value it never uses.
  const appliesAdminToken = processRoles.has('api');
  if (appliesAdminToken && adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('LIFELINE_ADMIN_TOKEN', 'must be at least 16 characters');
  }
  const metricsToken = optional(env, 'LIFELINE_METRICS_TOKEN');
  // What a Bearer header can carry, and as long as the admin token must be.
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,}$/.test(metricsToken)) {
    throw new ConfigError('LIFELINE_METRICS_TOKEN', 'must be at least 16 printable ASCII characters without spaces (e.g. openssl rand -hex 24)');
  }
  const secretKey = optional(env, 'LIFELINE_SECRET_KEY');
  if (secretKey !== undefined && !decodeSecretKey(secretKey)) {
    // Never echo the value: it is a key.
    throw new ConfigError('LIFELINE_SECRET_KEY', 'must be 32 bytes written as 64 hex characters or as base64 (e.g. openssl rand -base64 32)');
  }
  // compose.yaml's defaults are public: anyone who read it could act as admin or open the secrets.
  if (!boolean(env, 'LIFELINE_DEMO', false)) {
    for (const [name, value] of [['LIFELINE_ADMIN_TOKEN', appliesAdminToken ? adminToken : undefined], ['LIFELINE_SECRET_KEY', secretKey]] as const) {
      if (value !== undefined && value === DEMO_VALUES[name]) {
        throw new ConfigError(name, 'is the demo value from compose.yaml, which anyone can read; set your own, or LIFELINE_DEMO=true for a demo');
      }
    }
  }
  const outboxWorkers = integer(env, 'LIFELINE_OUTBOX_WORKERS', 2, 1, 64);
  const uptimeHourlyRetentionDays = integer(env, 'LIFELINE_UPTIME_HOURLY_RETENTION_DAYS', 90, 1, 3660);
  const uptimeDailyRetentionDays = integer(env, 'LIFELINE_UPTIME_DAILY_RETENTION_DAYS', 1095, 1, 36600);
  if (uptimeDailyRetentionDays < uptimeHourlyRetentionDays) {
    throw new ConfigError(
      'LIFELINE_UPTIME_DAILY_RETENTION_DAYS',
      `must be at least LIFELINE_UPTIME_HOURLY_RETENTION_DAYS (${uptimeHourlyRetentionDays}), got ${uptimeDailyRetentionDays}`,
    );
  }
  return {
    databaseUrl: url(env, 'DATABASE_URL', undefined, ['postgres:', 'postgresql:']),
    // Relative to where the engine starts, like `npm start` in a clone: ./.lifeline.
    dataDir: resolve(text(env, 'LIFELINE_DATA_DIR', DEFAULT_DATA_DIR)),
    redisUrl: url(env, 'REDIS_URL', undefined, ['redis:', 'rediss:']),
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: text(env, 'HOST', '0.0.0.0'),
    roles: processRoles,
    adminToken,
    evaluatorIntervalMs: integer(env, 'LIFELINE_EVALUATOR_INTERVAL_MS', 1000, 10, 60_000),
    queuePrefix,
    autoRegister: boolean(env, 'LIFELINE_AUTO_REGISTER', true),
    smtpUrl: url(env, 'SMTP_URL', undefined, ['smtp:', 'smtps:']),
    mailFrom,
    logLevel,
    ingestFlushMs: integer(env, 'LIFELINE_INGEST_FLUSH_MS', 250, 5, 10_000),
    drainMs: integer(env, 'LIFELINE_DRAIN_MS', DRAIN_MS, 0, 300_000),
    heldRequestsMax: integer(env, 'LIFELINE_HELD_REQUESTS_MAX', HELD_REQUESTS_MAX, 0, 65_536),
    outboxPollMs: integer(env, 'LIFELINE_OUTBOX_POLL_MS', 1000, 10, 60_000),
    outboxWorkers,
    // Each outbox loop holds a connection for its batch, and a storm digest needs two at once.
    dbPoolMax: integer(env, 'LIFELINE_DB_POOL_MAX', 10 + outboxWorkers, outboxWorkers + 2, 1000),
    outboxMaxAttempts: integer(env, 'LIFELINE_OUTBOX_MAX_ATTEMPTS', 10, 1, 100),
    stormThreshold: integer(env, 'LIFELINE_STORM_THRESHOLD', 20, 1, 100_000),
    digestIntervalMs: integer(env, 'LIFELINE_DIGEST_INTERVAL_MS', 60_000, 100, 3_600_000),
    deliveryBackoffMs: integer(env, 'LIFELINE_DELIVERY_BACKOFF_MS', 1000, 10, 600_000),
    deliveryConcurrency: integer(env, 'LIFELINE_DELIVERY_CONCURRENCY', DELIVERY_CONCURRENCY, 1, 1000),
    // Half of it is the exchange's margin. Below ~2 minutes a slow SMTP exchange (up to ~50 s) may
    // outlast it; 20 s, for labs and tests, still keeps 10 s for an HTTP answer.
    deliveryLeaseMs: integer(env, 'LIFELINE_DELIVERY_LEASE_MS', DELIVERY_LEASE_MS, 20_000, 3_600_000),
    secretKey,
    uptimeHourlyRetentionDays,
    uptimeDailyRetentionDays,
    trustProxyHops: integer(env, 'LIFELINE_TRUST_PROXY_HOPS', 0, 0, 10),
    outboundAllowCidrs: cidrList(env, 'LIFELINE_OUTBOUND_ALLOW_CIDRS'),
    limits: {
      authFailuresPerMinute: integer(env, 'LIFELINE_AUTH_FAILURE_LIMIT', LIMIT_DEFAULTS.authFailuresPerMinute, 0, 1_000_000),
      nodeTokenPerMinute: integer(env, 'LIFELINE_NODE_TOKEN_RATE_LIMIT', LIMIT_DEFAULTS.nodeTokenPerMinute, 0, 1_000_000),
      registrationsPerHour: integer(env, 'LIFELINE_AUTO_REGISTER_LIMIT', LIMIT_DEFAULTS.registrationsPerHour, 0, 1_000_000),
      pingsPerMinute: integer(env, 'LIFELINE_PING_RATE_LIMIT', LIMIT_DEFAULTS.pingsPerMinute, 0, 1_000_000),
      publicRequestsPerMinute: integer(env, 'LIFELINE_PUBLIC_RATE_LIMIT', LIMIT_DEFAULTS.publicRequestsPerMinute, 0, 1_000_000),
    },
    metricsToken,
    publicUrl: publicUrl(env),
    actionLinkTtlHours: integer(env, 'LIFELINE_ACTION_LINK_TTL_HOURS', 168, 1, 8_760),
    consoleIdleMinutes: integer(env, 'LIFELINE_CONSOLE_IDLE_MINUTES', 720, 1, 10_080),
    consoleSessionHours: integer(env, 'LIFELINE_CONSOLE_SESSION_HOURS', 168, 1, 8_760),
  };
}
