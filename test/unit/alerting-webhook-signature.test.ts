import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateWebhookSecret, signWebhook } from '../../alerting/webhook.ts';
import { verifyWebhook } from '../helpers/standard-webhooks.ts';

// The Standard Webhooks specification's published test vector, and its reference library as the
// receiver: what we sign, any receiver using one of that specification's libraries verifies.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const SIGNED_AT = new Date(VECTOR.timestamp * 1000);

function vectorHeaders(signature = VECTOR.signature): Record<string, string> {
  return { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': signature };
}

test('signs like the Standard Webhooks reference', () => {
  assert.equal(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
  assert.equal(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body)), VECTOR.signature);
});

test('the reference library verifies the request from a plain object or a Headers instance', () => {
  assert.equal(verifyWebhook(VECTOR.secret, vectorHeaders(), VECTOR.body, SIGNED_AT), true);
  assert.equal(verifyWebhook(VECTOR.secret, new Headers(vectorHeaders()), Buffer.from(VECTOR.body), SIGNED_AT), true);
});

test('accepts a request when any one of several signatures matches (secret rotation)', () => {
  const other = signWebhook(generateWebhookSecret(), VECTOR.id, VECTOR.timestamp, VECTOR.body);
  assert.equal(verifyWebhook(VECTOR.secret, vectorHeaders(`${other} ${VECTOR.signature}`), VECTOR.body, SIGNED_AT), true);
});

test('rejects a changed body, id or signature, and a foreign signature version', () => {
  assert.equal(verifyWebhook(VECTOR.secret, vectorHeaders(), '{"test": 2432232315}', SIGNED_AT), false);
  assert.equal(verifyWebhook(VECTOR.secret, { ...vectorHeaders(), 'webhook-id': 'msg_other' }, VECTOR.body, SIGNED_AT), false);
  assert.equal(verifyWebhook(VECTOR.secret, vectorHeaders('v1,AAAA'), VECTOR.body, SIGNED_AT), false);
  assert.equal(verifyWebhook(VECTOR.secret, vectorHeaders(VECTOR.signature.replace('v1,', 'v1a,')), VECTOR.body, SIGNED_AT), false);
  const { 'webhook-signature': _, ...unsigned } = vectorHeaders();
  assert.equal(verifyWebhook(VECTOR.secret, unsigned, VECTOR.body, SIGNED_AT), false);
});

test('the reference library rejects timestamps outside its five minutes in either direction', () => {
  const at = (offsetSeconds: number) => new Date((VECTOR.timestamp + offsetSeconds) * 1000);
  assert.equal(verifyWebhook(VECTOR.secret, vectorHeaders(), VECTOR.body, at(300)), true);
  assert.equal(verifyWebhook(VECTOR.secret, vectorHeaders(), VECTOR.body, at(301)), false);
  assert.equal(verifyWebhook(VECTOR.secret, vectorHeaders(), VECTOR.body, at(-301)), false);
});

test('generates distinct whsec_ secrets of 24 random bytes', () => {
  const a = generateWebhookSecret();
  assert.match(a, /^whsec_[A-Za-z0-9+/]{32}$/);
  assert.equal(Buffer.from(a.slice('whsec_'.length), 'base64').length, 24);
  assert.notEqual(a, generateWebhookSecret());
});

test('refuses a secret without the whsec_ prefix rather than signing with a wrong key', () => {
  assert.throws(() => signWebhook('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', VECTOR.id, VECTOR.timestamp, VECTOR.body), TypeError);
});
