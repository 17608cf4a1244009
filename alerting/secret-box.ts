// Channel secrets (webhook signing keys, Slack URLs, PagerDuty routing keys) are stored sealed
// with AES-256-GCM, so a database dump alone does not let anyone forge or redirect alerts.
// GCM's tag also makes any change to a stored value fail loudly instead of decrypting to junk.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12; // the GCM standard nonce size; random per seal, so never reused under one key
const TAG_BYTES = 16;

/** `v1.<iv b64>.<tag b64>.<ciphertext b64>`; `key` must be 32 bytes. */
export function sealSecret(plain: string, key: Buffer): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, ...[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64'))].join('.');
}

/** The plain secret; throws if `sealed` is malformed, was altered, or was sealed under another key. */
export function openSecret(sealed: string, key: Buffer): string {
  assertKey(key);
  const [version, ...encoded] = sealed.split('.');
  const [iv, tag, ciphertext] = encoded.map((part) => Buffer.from(part, 'base64'));
  if (version !== VERSION || encoded.length !== 3 || !iv || !tag || !ciphertext || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new Error('sealed secret has an unknown format');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new Error('sealed secret failed authentication (altered, or sealed under another key)', { cause: err });
  }
}

function assertKey(key: Buffer): void {
  if (key.length !== 32) throw new RangeError(`secret key must be 32 bytes, got ${key.length}`);
}
