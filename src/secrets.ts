import { createHash, randomBytes } from 'node:crypto';

/**
 * Secrets are 256 bits from the CSPRNG, so a single SHA-256 is enough to store them: there is no
 * low-entropy password to stretch, and the hash is fast enough (~1 µs) to compute per request.
 */
export function generateSecret(prefix: 'llk' | 'lln'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
