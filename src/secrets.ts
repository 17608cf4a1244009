import * as crypto from 'node:crypto';

/**
 * Secrets are 256 bits from the CSPRNG, so a single SHA-256 is enough to store them: there is no
 * low-entropy password to stretch, and the hash is fast enough (~1 µs) to compute per request.
 */
export function generateSecret(prefix: 'llk' | 'lln'): string {
  return `${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256 in hex. The one-shot crypto.hash (Node 20.12+) makes no Hash object: ~0.25 µs against
 * ~1.1 µs, and every single heartbeat hashes its Bearer secret to find it in the identity cache.
 */
export const hashSecret: (secret: string) => string = crypto.hash
  ? (secret) => crypto.hash('sha256', secret, 'hex')
  : (secret) => crypto.createHash('sha256').update(secret).digest('hex');

/** 32 bytes written as 64 hex characters or as base64 (standard or url-safe); undefined otherwise. */
export function decodeSecretKey(raw: string): Buffer | undefined {
  const text = raw.trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return Buffer.from(text, 'base64');
  return undefined;
}
