// Links that acknowledge or resolve an incident from a notification, as the person or channel it
// was sent to. A link carries everything needed to check it: the incident, the action, the
// recipient and an expiry, signed with an HMAC under a key derived from the engine's secret key.
// Nothing is stored per link; a link acts at most once because its action can happen to an
// incident only once (see ARCHITECTURE.md, "Acknowledging from the notification").
//
// Token: base64url of 41 bytes of payload and their 32-byte HMAC-SHA256 (98 characters):
//   version (1) | action (1) | incident id (16) | recipient kind (1) | recipient id (16) | expiry, Unix seconds (6)
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const LINK_ACTIONS = ['acknowledge', 'resolve'] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

export interface LinkRecipient {
  kind: 'user' | 'channel';
  id: string;
}

export interface ActionLink {
  incidentId: string;
  action: LinkAction;
  recipient: LinkRecipient;
  expiresAt: Date;
}

const VERSION = 1;
const PAYLOAD_BYTES = 41;
const MAC_BYTES = 32;
const KINDS = ['user', 'channel'] as const;

/**
 * The signing key: HKDF-SHA256 of the engine's secret key under its own label, so a link's MAC
 * can never be confused with anything else the secret key protects (sealed channel secrets), and
 * every engine sharing the secret key checks the links any of them signed.
 */
export function actionLinkKey(secretKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'lifeline action links v1', 32));
}

const uuidBytes = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const uuidOf = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const mac = (key: Buffer, payload: Buffer) => createHmac('sha256', key).update(payload).digest();

export function signActionLink(key: Buffer, link: ActionLink): string {
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload[0] = VERSION;
  payload[1] = LINK_ACTIONS.indexOf(link.action) + 1;
  uuidBytes(link.incidentId).copy(payload, 2);
  payload[18] = KINDS.indexOf(link.recipient.kind) + 1;
  uuidBytes(link.recipient.id).copy(payload, 19);
  payload.writeUIntBE(Math.floor(link.expiresAt.getTime() / 1000), 35, 6);
  return Buffer.concat([payload, mac(key, payload)]).toString('base64url');
}

export type LinkCheck =
  | { ok: true; link: ActionLink }
  /** Not a token this engine signed, or one altered since: nothing in it can be believed. */
  | { ok: false; reason: 'invalid' }
  /** Signed by this engine, but past its expiry: what it names is true, it just may not act. */
  | { ok: false; reason: 'expired'; link: ActionLink };

/** Checks a token's signature first, then its fields, then its expiry against `now`. */
export function verifyActionLink(key: Buffer, token: string, now: Date): LinkCheck {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(token)) return { ok: false, reason: 'invalid' };
  const raw = Buffer.from(token, 'base64url');
  // The canonical spelling only: base64 leaves spare bits in the last character, and a token that
  // differs from a valid one must not be valid too.
  if (raw.length !== PAYLOAD_BYTES + MAC_BYTES || raw.toString('base64url') !== token) return { ok: false, reason: 'invalid' };
  const payload = raw.subarray(0, PAYLOAD_BYTES);
  if (!timingSafeEqual(raw.subarray(PAYLOAD_BYTES), mac(key, payload))) return { ok: false, reason: 'invalid' };
  const action = LINK_ACTIONS[payload[1]! - 1];
  const kind = KINDS[payload[18]! - 1];
  if (payload[0] !== VERSION || action === undefined || kind === undefined) return { ok: false, reason: 'invalid' };
  const link: ActionLink = {
    incidentId: uuidOf(payload.subarray(2, 18)),
    action,
    recipient: { kind, id: uuidOf(payload.subarray(19, 35)) },
    expiresAt: new Date(payload.readUIntBE(35, 6) * 1000),
  };
  return now < link.expiresAt ? { ok: true, link } : { ok: false, reason: 'expired', link };
}

/** Where a token is opened: `{public URL}/a/{token}`. */
export const actionLinkUrl = (publicUrl: string, token: string): string => `${publicUrl}/a/${token}`;

/** The incident's console page, for whoever has a console session (others sign in first, then land on it). */
export const incidentPageUrl = (publicUrl: string, incidentId: string): string => `${publicUrl}/incidents/${incidentId}`;

/**
 * The console's incident list as it opens, without a `status`: every incident not resolved, open
 * and acknowledged alike. Under `?status=open` alone, an incident acknowledged from the list leaves
 * it, while its node is still down.
 */
export const incidentListUrl = (publicUrl: string): string => `${publicUrl}/incidents`;
