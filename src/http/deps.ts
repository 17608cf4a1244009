import type { ChannelRegistry } from '../../alerting/index.ts';
import type { OutboundPolicy } from '../../alerting/destination.ts';
import type { IdentityCache } from '../access/identity-cache.ts';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { LiveFeed } from '../live/feed.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { RequestLimits } from '../config.ts';
import type { QueueBackend } from '../queue/backend.ts';
import type { PublicChanges } from './public-changes.ts';
import type { PublicOptions } from './public.ts';
import type { ConsoleSettings } from './session.ts';

export interface AppDeps {
  sql: Sql;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** What bearer secrets and node names stand for, shared with ingest. */
  identity: IdentityCache;
  /** Seals channel secrets at rest (src/channels/secret-key.ts). */
  secretKey: Buffer;
  /** Absent in processes without the api role: they serve only /healthz, /readyz and /metrics. */
  ingestor?: Ingestor;
  /** What changed, as it commits (GET /v1/events, the console); with the api role, like ingestor. */
  feed?: LiveFeed;
  /** Edits anywhere in the cluster that kept pages and badges must forget; with the api role, like feed. */
  publicChanges?: PublicChanges;
  /** Channel transports, for test messages sent on request (with the api role). */
  transports?: ChannelRegistry;
  /** Console sessions: lifetimes, cookie flags, the public origin. */
  console: ConsoleSettings;
  /** Where the notification queues run; /readyz names it and checks that it answers. */
  queue: Pick<QueueBackend, 'name' | 'ping'>;
  /**
   * Whether this process notifies without taking heartbeats: it alone is unready while the queues'
   * store does not answer or (secretKeyRequired) its key cannot open the stored secrets, since
   * only its notifying stops then; otherwise /readyz answers 200 and names either in `warnings`.
   * Default true.
   */
  notifierWithoutApi?: boolean;
  /**
   * Whether /readyz checks that `secretKey` opens the stored channel secrets: with the notifier
   * role, whose every webhook, Slack and PagerDuty page needs them. Default false.
   */
  secretKeyRequired?: boolean;
  /** Whether the process's start is still under way (it listens before): /readyz then answers 503. Never, unless given. */
  starting?: () => boolean;
  /** Whether the process is draining before it stops: /readyz then answers 503. Never, unless given. */
  draining?: () => boolean;
  /** LIFELINE_METRICS_TOKEN: the Bearer secret GET /metrics asks for; unset, /metrics is open. */
  metricsToken?: string;
  /** LIFELINE_PUBLIC_URL without a trailing slash: ping URLs are shown under it. */
  publicUrl?: string;
  /** Limits and caching of status pages and badges; defaults in public.ts. */
  publicPages?: Partial<PublicOptions>;
  /** Where channels may send (LIFELINE_OUTBOUND_ALLOW_CIDRS), checked when one is saved. */
  outbound: OutboundPolicy;
  /** Every per-caller budget (failed authentications, node tokens, registrations, pings, public pages); defaults in config.ts. */
  limits?: Partial<RequestLimits>;
}
