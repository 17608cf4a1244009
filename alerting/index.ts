// The alerting surface the engine uses: one registry of channels keyed by channel type.

import type { ChannelType } from '../src/channels/model.ts';
import type { Notification } from '../src/notifications/model.ts';
import type { Channel, DigestChannel, PagerDutyConfig, SlackConfig, WebhookConfig } from './channel.ts';
import { createEmailChannel, type EmailChannel } from './email.ts';
import { createPagerDutyChannel } from './pagerduty.ts';
import { createSlackChannel } from './slack.ts';
import { createWebhookChannel } from './webhook.ts';
import { outboundPolicy } from './destination.ts';
import type { StartWindow } from './errors.ts';

export interface ChannelRegistryOptions {
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Per-attempt timeout of webhook, Slack and PagerDuty requests; 10 s by default. */
  httpTimeoutMs?: number;
  /** Private, loopback or link-local ranges webhook, Slack and PagerDuty may still send to (LIFELINE_OUTBOUND_ALLOW_CIDRS). */
  outboundAllowCidrs?: readonly string[];
}

export interface ChannelRegistry {
  email: EmailChannel;
  webhook: Channel<WebhookConfig>;
  slack: DigestChannel<SlackConfig>;
  pagerduty: Channel<PagerDutyConfig>;
  /** Releases the SMTP connection pool; call after the notifier workers have stopped. */
  close(): void;
}

export function createChannels(options: ChannelRegistryOptions): ChannelRegistry {
  const http = { timeoutMs: options.httpTimeoutMs, policy: outboundPolicy(options.outboundAllowCidrs) };
  const email = createEmailChannel({ smtpUrl: options.smtpUrl, from: options.mailFrom });
  return {
    email,
    webhook: createWebhookChannel(http),
    slack: createSlackChannel(http),
    pagerduty: createPagerDutyChannel(http),
    close: () => email.close(),
  };
}

/** Sends one message over the channel type's transport, with a config as revealed from storage. */
export function sendOver(registry: ChannelRegistry, type: ChannelType, n: Notification, config: Record<string, unknown>, now: Date, start?: StartWindow): Promise<void> {
  return (registry[type] as Channel<unknown>).send(n, config, now, start);
}
