import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { actionLinkKey, actionLinkUrl, signActionLink, verifyActionLink, type ActionLink } from '../../src/incidents/action-links.ts';

const NOW = new Date('2026-11-21T10:00:00.000Z');
const secretKey = randomBytes(32);
const key = actionLinkKey(secretKey);
const link: ActionLink = {
  incidentId: '6f1c1a8e-3b7e-4c1a-9d2e-0a1b2c3d4e5f',
  action: 'acknowledge',
  recipient: { kind: 'user', id: '0a1b2c3d-4e5f-4a1b-8c2d-3e4f5a6b7c8d' },
  expiresAt: new Date('2026-11-28T10:00:00.000Z'),
};

/** The token with byte `i` of its decoded form XORed with `bits`, re-encoded. */
function flip(token: string, i: number, bits = 1): string {
  const raw = Buffer.from(token, 'base64url');
  raw[i]! ^= bits;
  return raw.toString('base64url');
}

describe('action links', () => {
  const token = signActionLink(key, link);

  it('round-trips everything the link names, in a URL-safe token of fixed length', () => {
    assert.match(token, /^[A-Za-z0-9_-]{98}$/);
    assert.deepEqual(verifyActionLink(key, token, NOW), { ok: true, link });
    const channel = { ...link, action: 'resolve' as const, recipient: { kind: 'channel' as const, id: link.recipient.id } };
    assert.deepEqual(verifyActionLink(key, signActionLink(key, channel), NOW), { ok: true, link: channel });
    assert.equal(actionLinkUrl('https://lifeline.example.com', token), `https://lifeline.example.com/a/${token}`);
  });

  it('derives its key from the secret key, never using the secret key itself', () => {
    assert.deepEqual(actionLinkKey(secretKey), key, 'every engine with the same secret key checks the same links');
    assert.notDeepEqual(key, secretKey);
    assert.deepEqual(verifyActionLink(secretKey, token, NOW), { ok: false, reason: 'invalid' }, 'the raw secret key does not verify');
  });

  it('refuses a link signed with another key (forged)', () => {
    const forged = signActionLink(actionLinkKey(randomBytes(32)), link);
    assert.deepEqual(verifyActionLink(key, forged, NOW), { ok: false, reason: 'invalid' });
  });

  it('refuses any altered byte: the action, the incident, the recipient, the expiry or the signature', () => {
    for (const [what, at, bits] of [
      ['version', 0, 1],
      ['action: acknowledge → resolve', 1, 3],
      ['incident', 5, 1],
      ['recipient kind: user → channel', 18, 3],
      ['recipient', 30, 0x80],
      ['expiry pushed later', 36, 1],
      ['signature', 60, 1],
    ] as const) {
      assert.deepEqual(verifyActionLink(key, flip(token, at, bits), NOW), { ok: false, reason: 'invalid' }, what);
    }
  });

  it('refuses what is not a token: truncated, extended, padded, another alphabet, or a spelling of the same bytes with other spare bits', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBytes = token.slice(0, -1) + alphabet[alphabet.indexOf(token.at(-1)!) ^ 1];
    assert.deepEqual(Buffer.from(sameBytes, 'base64url'), Buffer.from(token, 'base64url'), 'base64 leaves spare bits in the last character');
    for (const bad of ['', token.slice(0, -4), `${token}AAAA`, `${token}=`, token.replace(/[-_]/g, '+'), sameBytes, 'x'.repeat(5000)]) {
      assert.deepEqual(verifyActionLink(key, bad, NOW), { ok: false, reason: 'invalid' }, bad.slice(0, 40));
    }
  });

  it('expires at its expiry, to the second, and still says what it named', () => {
    assert.equal(verifyActionLink(key, token, new Date(link.expiresAt.getTime() - 1)).ok, true);
    assert.deepEqual(verifyActionLink(key, token, link.expiresAt), { ok: false, reason: 'expired', link });
  });
});
