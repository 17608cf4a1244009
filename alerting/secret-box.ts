// Channel secrets (webhook signing keys, Slack URLs, PagerDuty routing keys) are stored sealed
// with AES-256-GCM, so a database dump alone does not let anyone forge or redirect alerts.
// GCM's tag also makes any change to a stored value fail loudly instead of decrypting to junk.
// Each value is bound to the channel it belongs to (its id as GCM's associated data): copied
// into another channel's row, it no longer opens, so a secret cannot be moved to a channel that
// sends somewhere else.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** v2: bound to its channel. v1 (before) was sealed without associated data; see openUnbound. */
const VERSION = 'v2';
const UNBOUND_VERSION = 'v1';
const IV_BYTES = 12; // the GCM standard nonce size; random per seal, so never reused under one key
const TAG_BYTES = 16;

/** `v2.<iv b64>.<tag b64>.<ciphertext b64>`, bound to `boundTo` (a channel id); `key` must be 32 bytes. */
export function sealSecret(plain: string, key: Buffer, boundTo: string): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(boundTo, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, ...[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64'))].join('.');
}

/**
 * The plain secret; throws if `sealed` is malformed, was altered, was sealed under another key, or
 * belongs to another channel than `boundTo`.
 */
export function openSecret(sealed: string, key: Buffer, boundTo: string): string {
  return open(sealed, key, VERSION, boundTo);
}

/** A value sealed before secrets were bound to their channel: only to seal it again, bound. */
export function openUnbound(sealed: string, key: Buffer): string {
  return open(sealed, key, UNBOUND_VERSION, undefined);
}

export const isUnbound = (sealed: string): boolean => sealed.startsWith(`${UNBOUND_VERSION}.`);

function open(sealed: string, key: Buffer, expected: string, boundTo: string | undefined): string {
  assertKey(key);
  const [version, ...encoded] = sealed.split('.');
  const [iv, tag, ciphertext] = encoded.map((part) => Buffer.from(part, 'base64'));
  if (version !== expected || encoded.length !== 3 || !iv || !tag || !ciphertext || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new Error('sealed secret has an unknown format');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (boundTo !== undefined) decipher.setAAD(Buffer.from(boundTo, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new Error('sealed secret failed authentication (altered, sealed under another key, or copied from another channel)', { cause: err });
  }
}

function assertKey(key: Buffer): void {
  if (key.length !== 32) throw new RangeError(`secret key must be 32 bytes, got ${key.length}`);
}
