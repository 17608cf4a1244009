// Where incidents are announced: a channel's type, its config, and which part of it is a secret.

export const CHANNEL_TYPES = ['email', 'webhook', 'slack', 'pagerduty'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** A type as people name it, in the console's pages. */
export const CHANNEL_TYPE_NAMES: Record<ChannelType, string> = { email: 'Email', webhook: 'Webhook', slack: 'Slack', pagerduty: 'PagerDuty' };

import type { Notification } from '../notifications/model.ts';

export const isChannelType = (t: unknown): t is ChannelType => (CHANNEL_TYPES as readonly unknown[]).includes(t);

export interface ChannelRow {
  id: string;
  name: string;
  type: ChannelType;
  /** The non-secret part only: safe to return. */
  config: Record<string, unknown>;
  /** The secret part of the config, sealed with the engine's secret key (src/channels/secret-key.ts). */
  secret_sealed: string | null;
  /** The whole of its origin-only URL (a webhook's `url`), sealed as the secret is; `config` keeps its origin. */
  url_sealed: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface NewChannel {
  /** Chosen before the insert: the sealed secret is bound to it. */
  id: string;
  name: string;
  type: ChannelType;
  config: Record<string, unknown>;
  secret_sealed: string | null;
  /** Absent: none, the config holding its URL whole, as before URLs were sealed (the next start seals it). */
  url_sealed?: string | null;
}

export interface ChannelPatch {
  name?: string;
  config?: Record<string, unknown>;
  /** Present only when the secret changes; absent keeps the sealed secret. */
  secret_sealed?: string | null;
  /** Present whenever `config` carries the origin-only URL (it is sealed again with it). */
  url_sealed?: string | null;
}

/** Cursor: the last item's (name, id); names are not unique, the id breaks ties. */
export type ChannelCursor = [name: string, id: string];

const SECRET_FIELDS: Record<ChannelType, string | null> = {
  email: null,
  webhook: 'secret',
  slack: 'webhook_url', // whoever holds a Slack incoming-webhook URL can post to the channel
  pagerduty: 'routing_key',
};

/** The config fields of each type that say where it sends, and whether they must be https. */
const DESTINATION_FIELDS: Record<ChannelType, { field: string; httpsOnly: boolean }[]> = {
  email: [],
  webhook: [{ field: 'url', httpsOnly: false }],
  slack: [{ field: 'webhook_url', httpsOnly: true }],
  pagerduty: [{ field: 'url', httpsOnly: true }],
};

/** Where PagerDuty events go when a channel names no url. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Where a config sends, as one comparable value ('' for email, whose recipients are no secret's). */
export function destinationKey(type: ChannelType, config: Record<string, unknown>): string {
  if (type === 'pagerduty') return typeof config.url === 'string' ? config.url : PAGERDUTY_EVENTS_URL;
  return DESTINATION_FIELDS[type].map((d) => String(config[d.field] ?? '')).join(' ');
}

/** The URLs a config of this type sends to, by field. */
export function destinationsOf(type: ChannelType, config: Record<string, unknown>): { field: string; url: string; httpsOnly: boolean }[] {
  return DESTINATION_FIELDS[type].flatMap((d) => (typeof config[d.field] === 'string' ? [{ ...d, url: config[d.field] as string }] : []));
}

/**
 * The config field of each type shown by its origin only, to every scope, because its path and
 * query may hold a credential (`?token=…`, Discord's, Teams', Mattermost's or Google Chat's
 * `/hooks/<id>/<token>`), as a Slack URL's always does: its whole is never returned, as a sealed
 * secret is not, and is stored sealed (`url_sealed`), the config keeping only its shown form, so
 * neither a backup nor a dump of the database holds it. A PATCH that leaves it out keeps the
 * stored one (its sender cannot send back what it was never shown).
 */
const ORIGIN_ONLY_FIELD: Record<ChannelType, string | null> = { email: null, webhook: 'url', slack: null, pagerduty: null };

export const originOnlyField = (type: ChannelType): string | null => ORIGIN_ONLY_FIELD[type];

/** The marker after an origin-only URL's origin, when it had more. */
const MASK = '…';

/** A URL as its origin only, with the marker when a path, query or fragment was dropped. */
export function originOnly(url: string): string {
  const u = new URL(url);
  return u.pathname === '/' && u.search === '' && u.hash === '' ? `${u.origin}/` : `${u.origin}/${MASK}`;
}

/**
 * A config as it may be shown: the origin-only field cut to its origin (the secret is not in
 * `config`). Stored configs hold it cut already, but for one stored before it was sealed.
 */
export function shownConfig(type: ChannelType, config: Record<string, unknown>): Record<string, unknown> {
  const f = ORIGIN_ONLY_FIELD[type];
  return f !== null && typeof config[f] === 'string' ? { ...config, [f]: originOnly(config[f]) } : { ...config };
}

/** A config split into what is stored plain (the origin-only URL as its origin) and that URL whole, when it carries one. */
export function splitUrl(type: ChannelType, config: Record<string, unknown>): { config: Record<string, unknown>; url?: string } {
  const f = ORIGIN_ONLY_FIELD[type];
  if (f === null || typeof config[f] !== 'string') return { config };
  return { config: shownConfig(type, config), url: config[f] };
}

/**
 * The whole URL a config holds in its origin-only field: written so by a release before URLs were
 * sealed (its API, during a rolling upgrade, writes a changed URL whole and leaves `url_sealed` as it
 * was), so it, not the sealed one, is where the channel sends, and the next start seals it.
 * Undefined when the field holds a shown form (`https://chat.example/…`) or nothing. A value that is
 * no URL counts as whole: sent, it fails with invalid_url, as it did before.
 */
export function wholeUrlOf(type: ChannelType, config: Record<string, unknown>): string | undefined {
  const f = ORIGIN_ONLY_FIELD[type];
  if (f === null || typeof config[f] !== 'string') return undefined;
  const url = config[f];
  try {
    return originOnly(url) === url ? undefined : url;
  } catch {
    return url;
  }
}

/**
 * What a sealed origin-only URL is bound to: its channel, and being its URL, so that moved into
 * its own row's secret column it does not open either.
 */
export const urlBoundTo = (channelId: string): string => `${channelId}/url`;

/**
 * A new config with the origin-only field it leaves out, or sends back as it was shown
 * (`https://chat.example/…`, as a client that GETs, edits and PATCHes the whole config does, or a
 * person pasting the shown value into the form), kept from the stored one: stored as sent, the
 * shown form would be the URL and every delivery would go to `/%E2%80%A6`. `channel` is as
 * opened (withStoredUrl in service.ts): its config holds the whole URL.
 */
export function keepingStored(channel: Pick<ChannelRow, 'type' | 'config'>, config: Record<string, unknown>): Record<string, unknown> {
  const f = ORIGIN_ONLY_FIELD[channel.type];
  if (f === null) return config;
  const stored = channel.config[f];
  return typeof stored === 'string' && (config[f] === undefined || config[f] === originOnly(stored)) ? { ...config, [f]: stored } : config;
}

/** The config field of this channel type that is stored sealed and never returned, if any. */
export function channelSecretField(type: ChannelType): string | null {
  return SECRET_FIELDS[type];
}

/** A config split into what may be shown and its secret, when it carries one. */
export function splitSecret(type: ChannelType, config: Record<string, unknown>): { config: Record<string, unknown>; secret?: string } {
  const field = channelSecretField(type);
  if (field === null || typeof config[field] !== 'string') return { config };
  const { [field]: secret, ...rest } = config;
  return { config: rest, secret: secret as string };
}

export interface ChannelTestRow {
  /** The bigserial as text, as audit rows carry theirs. */
  id: string;
  channel_id: string;
  at: Date;
  by: string;
  status: 'sent' | 'failed';
  error: string | null;
}

/**
 * What a test sends: a resolve of an incident that never existed, on a node named lifeline-test.
 * Every channel renders it as it would a real message, so it proves the path a page takes, but a
 * resolve pages nobody: PagerDuty accepts a resolve for a key it never saw and opens nothing, and
 * a person reading RESOLVED at 3 a.m. is not woken for it.
 */
export function testNotification(channel: Pick<ChannelRow, 'name'>, by: { id: string; shown: string }, id: string, now: Date): Notification {
  const at = now.toISOString();
  const reason = `a test of the channel "${channel.name}", sent by ${by.shown}`;
  return {
    messageId: `test.${id}`,
    event: 'resolved',
    occurredAt: at,
    reason,
    incident: {
      id,
      node_id: id,
      node_name: 'lifeline-test',
      category: 'node_down',
      severity: 'warning',
      status: 'resolved',
      title: 'Test message from Lifeline',
      reason,
      opened_at: at,
      acknowledged_at: null,
      acknowledged_by: null,
      resolved_at: at,
      resolved_by: by.id,
      escalation_level: 0,
      escalation_held: false,
      version: 1,
    },
    node: { id, name: 'lifeline-test', labels: {} },
    shownBy: { acknowledged_by: null, resolved_by: by.shown },
  };
}
