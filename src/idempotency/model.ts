// Retries that must not act twice: a POST or PATCH sent with an Idempotency-Key is answered once,
// and a retry with the same key (same credential, within 24 h) gets that first answer back.

import { createHash } from 'node:crypto';
import type { Principal } from '../access/model.ts';

/** How long a key's first answer is kept and replayed: Stripe's and the IETF draft's 24 h. */
export const KEY_LIFETIME_MS = 24 * 3_600_000;

/**
 * A first request still in flight after this long is taken to have died with its process, and a
 * retry may act. Every request is bounded far below it (a body is at most 1 MiB, a channel test
 * waits at most the transports' 10 s timeout).
 */
export const ABANDONED_AFTER_MS = 5 * 60_000;

/** Visible ASCII, 1-255 characters: a UUID or any client's own scheme, never a control character. */
export const isSaneKey = (key: string): boolean => /^[\x21-\x7e]{1,255}$/.test(key);

/** Keys are the credential's own: one key's secret never answers another's retry. */
export const credentialOf = (p: Principal): string => (p.kind === 'key' ? `key:${p.keyId}` : `node:${p.nodeId}`);

/** What a retry must repeat to be the same request: method, path with query, and body. */
export const fingerprintOf = (method: string, url: string, body: string): string =>
  createHash('sha256').update(method).update('\n').update(url).update('\n').update(body).digest('hex');

/** The first answer as it was sent. */
export interface StoredAnswer {
  status: number;
  contentType: string | null;
  body: string;
  /**
   * The version the body is at (a PATCH's ETag), so its replay can be sent back as If-Match;
   * absent from answers kept before it was (gone 24 h after an upgrade).
   */
  etag?: string | null;
}

/** What a request with a key may do. */
export type Claim =
  /** It is the first (or the key expired, or its first died in flight): act, then remember the answer. */
  | { kind: 'first' }
  /** The key answered before: send that answer again. */
  | { kind: 'replay'; answer: StoredAnswer }
  /** The first request with this key is still being answered. */
  | { kind: 'in_flight' }
  /** The key was used for a different request. */
  | { kind: 'mismatch' };

/** A key as one credential sends it for one request: `fingerprint` tells a retry from another request. */
export interface KeyClaim {
  credential: string;
  key: string;
  fingerprint: string;
}

/** A key's row as a retry finds it: `answer` is null while the first request is in flight, else sealed. */
export interface KeyRow {
  fingerprint: string;
  answer: string | null;
}
