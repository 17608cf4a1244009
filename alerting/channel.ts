import type { ChannelType } from '../src/channels/model.ts';
import type { Notification } from '../src/notifications/model.ts';
import type { StartWindow } from './errors.ts';

/**
 * One way of telling someone about an incident. `send` resolves once the receiver accepted the
 * message and rejects with a DeliveryError that says whether a retry can help. `now` is the
 * delivery time (signatures, Retry-After dates), passed in so tests control the clock. A send
 * given a start window asks its `mayStart` right before its message goes out, and stops waiting
 * for a connection when it is `closed`; either way it rejects with NotStarted, sending nothing.
 */
export interface Channel<C> {
  readonly type: ChannelType;
  send(n: Notification, config: C, now: Date, start?: StartWindow): Promise<void>;
}

/**
 * A channel read by people, which during an incident storm gets one digest of many updates
 * instead of one message each (see ARCHITECTURE.md, "Storms"). `listUrl`, the console's list of
 * incidents not yet resolved, ends the digest when the engine knows its public URL: a digest lists
 * at most 200 updates and only counts the rest.
 */
export interface DigestChannel<C> extends Channel<C> {
  sendDigest(ns: Notification[], config: C, now: Date, listUrl?: string): Promise<void>;
}

export interface EmailConfig {
  to: string[];
}

export interface WebhookConfig {
  url: string;
  /** The plain `whsec_<base64>` secret; stored sealed (secret-box.ts) and opened by the caller. */
  secret: string;
}

export interface SlackConfig {
  webhook_url: string;
}

export interface PagerDutyConfig {
  routing_key: string;
  /** Events API v2 endpoint; defaults to https://events.pagerduty.com/v2/enqueue. */
  url?: string;
}
