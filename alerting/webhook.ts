// Webhooks per Standard Webhooks (https://www.standardwebhooks.com): the receiver can check that
// a request came from us (HMAC signature), is fresh (timestamp) and is not a duplicate (webhook-id,
// the same on every retry of one incident event). Receivers verify with that specification's
// libraries (the tests use its reference one), so there is no verifier here. Signing stays ours:
// it is one HMAC with node:crypto, where the reference library computes SHA-256 in JavaScript.

import { createHmac, randomBytes } from 'node:crypto';
import type { Channel, WebhookConfig } from './channel.ts';
import { DeliveryError } from './errors.ts';
import type { Notification } from '../src/notifications/model.ts';
import { jsonPoster, type HttpChannelOptions } from './post-json.ts';
import { noteAuthor } from './render.ts';

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

export function createWebhookChannel(options: HttpChannelOptions = {}): Channel<WebhookConfig> {
  const post = jsonPoster(options);
  return {
    type: 'webhook',
    async send(n, config, now, start) {
      const body = JSON.stringify(webhookPayload(n));
      const timestamp = Math.floor(now.getTime() / 1000);
      let signature: string;
      try {
        signature = signWebhook(config.secret, n.messageId, timestamp, body);
      } catch (err) {
        throw new DeliveryError('webhook secret is not a valid whsec_ secret', { permanent: true, code: 'invalid_secret', cause: err });
      }
      await post(config.url, body, { 'webhook-id': n.messageId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature }, now, start);
    },
  };
}

/**
 * The webhook body: `{"type": "incident.<event>", "timestamp", "data": {"incident", "node", "reason",
 * "links"?, "incident_url"?, "note"?, "note_by"?, "display_names"}}`; `links` holds the `acknowledge`
 * and `resolve` URLs when there are any, `incident_url` the console page the email's "Open in
 * console" opens (both only with LIFELINE_PUBLIC_URL set), `reason` why the node fails as the
 * message says it (Notification.reason: now, where `incident.reason` is the opening's), `note` a resolve's note when it had one
 * and `note_by` who wrote it (as the email's "Note from" names them),
 * `display_names` the incident's `acknowledged_by` and `resolved_by` as the email names them, and
 * on a page (opened, escalated) `paged`: the people its level reached, each `{user_id, name}` with
 * `schedule_id` and `schedule_name` (null once deleted) when a schedule put them on call, and on
 * a page that restarted the levels `acknowledgement_expired`: `{by, at, after_seconds}`, the
 * acknowledgement that timed out (by as display_names names people).
 */
function webhookPayload(n: Notification) {
  // Fields set one by one, in this order, rather than spread from `cond ? {…} : {}`: each absent
  // field's spread built an empty object, five a message.
  const data: Record<string, unknown> = { incident: n.incident, node: n.node, reason: n.reason };
  if (n.links) data.links = n.links;
  if (n.incidentUrl !== undefined) data.incident_url = n.incidentUrl;
  if (n.note !== undefined) {
    data.note = n.note;
    data.note_by = noteAuthor(n);
  }
  data.display_names = n.shownBy;
  if (n.escalation?.expired) data.acknowledgement_expired = n.escalation.expired;
  if (n.paged) data.paged = n.paged.people.map(({ user_id, name, schedule_id, schedule_name }) => ({ user_id, name, ...(schedule_id !== undefined ? { schedule_id, schedule_name } : {}) }));
  return { type: `incident.${n.event}`, timestamp: n.occurredAt, data };
}

function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new TypeError('webhook secret must be "whsec_" followed by base64');
  }
  return Buffer.from(encoded, 'base64');
}
