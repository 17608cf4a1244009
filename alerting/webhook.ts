// Webhooks per Standard Webhooks (https://www.standardwebhooks.com): the receiver can check that
// a request came from us (HMAC signature), is fresh (timestamp) and is not a duplicate (webhook-id,
// the same on every retry of one incident event).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Channel, WebhookConfig } from './channel.ts';
import { DeliveryError } from './errors.ts';
import type { Notification } from './message.ts';
import { DEFAULT_HTTP_TIMEOUT_MS, postJson, type HttpChannelOptions } from './post-json.ts';

const SECRET_PREFIX = 'whsec_';

/** A new `whsec_` secret: 24 random bytes (192 bits), base64. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the base64-decoded part after `whsec_`. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array): string {
  const mac = createHmac('sha256', webhookKey(secret));
  mac.update(`${id}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * What a receiver runs on an incoming request: true when one of the `webhook-signature` entries
 * matches the raw body and the timestamp is within `toleranceSeconds` of `now` (replay guard).
 * Pass the body exactly as received; re-serialised JSON will not verify. Throws a TypeError
 * when `secret` itself is not a `whsec_<base64>` secret (a receiver misconfiguration).
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  now: Date,
  toleranceSeconds = 300,
): boolean {
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  const seconds = Number(timestamp);
  if (Math.abs(now.getTime() / 1000 - seconds) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, id, seconds, body).slice('v1,'.length), 'base64');
  // Several space-separated signatures may be sent while a secret is being rotated.
  return signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) return false;
    const candidate = Buffer.from(value, 'base64');
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
}

export function createWebhookChannel(options: HttpChannelOptions = {}): Channel<WebhookConfig> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  return {
    type: 'webhook',
    async send(n, config, now) {
      const body = JSON.stringify(webhookPayload(n));
      const timestamp = Math.floor(now.getTime() / 1000);
      let signature: string;
      try {
        signature = signWebhook(config.secret, n.messageId, timestamp, body);
      } catch (err) {
        throw new DeliveryError('webhook secret is not a valid whsec_ secret', { permanent: true, code: 'invalid_secret', cause: err });
      }
      await postJson(
        config.url,
        body,
        { 'webhook-id': n.messageId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
        now,
        timeoutMs,
      );
    },
  };
}

/** The webhook body: `{"type": "incident.<event>", "timestamp", "data": {"incident", "node"}}`. */
function webhookPayload(n: Notification) {
  return { type: `incident.${n.event}`, timestamp: n.occurredAt, data: { incident: n.incident, node: n.node } };
}

function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new TypeError('webhook secret must be "whsec_" followed by base64');
  }
  return Buffer.from(encoded, 'base64');
}

function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}
