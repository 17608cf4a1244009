import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isUnbound, openSecret, openUnbound, sealSecret } from '../../alerting/secret-box.ts';

const key = randomBytes(32);
const ID = '6f1c7c1e-2b0a-4c7e-9d7e-3b1f2a0c9e55';
const OTHER = '0b6f8a52-53f1-4d43-9a4e-4f3f4e0d2a11';

test('a sealed secret opens to the original with the same key', () => {
  for (const plain of ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'https://hooks.slack.com/services/T0/B0/x', '', 'ünïcødé 🔔']) {
    const sealed = sealSecret(plain, key, ID);
    assert.match(sealed, /^v2\.[A-Za-z0-9+/]+=*\.[A-Za-z0-9+/]+=*\.[A-Za-z0-9+/]*=*$/);
    assert.equal(openSecret(sealed, key, ID), plain);
  }
});

test('sealing the same secret twice gives different ciphertexts (fresh IV each time)', () => {
  const a = sealSecret('same', key, ID);
  const b = sealSecret('same', key, ID);
  assert.notEqual(a, b);
  assert.notEqual(a.split('.')[1], b.split('.')[1]);
});

test('the plain secret does not appear in the sealed form', () => {
  assert.ok(!sealSecret('whsec_plainly-visible', key, ID).includes('plainly'));
});

test('any change to a sealed secret is detected', () => {
  const sealed = sealSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', key, ID);
  const [version, iv, tag, ciphertext] = sealed.split('.') as [string, string, string, string];
  const flipFirstByte = (b64: string) => {
    const bytes = Buffer.from(b64, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    return bytes.toString('base64');
  };
  for (const tampered of [
    [version, iv, tag, flipFirstByte(ciphertext)],
    [version, iv, flipFirstByte(tag), ciphertext],
    [version, flipFirstByte(iv), tag, ciphertext],
  ]) {
    assert.throws(() => openSecret(tampered.join('.'), key, ID), /failed authentication/);
  }
});

test('a secret sealed under another key does not open', () => {
  assert.throws(() => openSecret(sealSecret('secret', randomBytes(32), ID), key, ID), /failed authentication/);
});

test('malformed input and wrong key sizes are refused', () => {
  assert.throws(() => openSecret('plain-text-secret', key, ID), /unknown format/);
  assert.throws(() => openSecret('v2.a.b.c', key, ID), /unknown format/);
  assert.throws(() => openSecret('v3.AAAA.AAAA.AAAA', key, ID), /unknown format/);
  assert.throws(() => openSecret(`v1.${Buffer.alloc(4).toString('base64')}.AAAA.AAAA`, key, ID), /unknown format/);
  assert.throws(() => sealSecret('secret', randomBytes(16), ID), RangeError);
  assert.throws(() => openSecret(sealSecret('secret', key, ID), randomBytes(31), ID), RangeError);
});

test('a secret opens only for the channel it was sealed for', () => {
  const sealed = sealSecret('routing-key', key, ID);
  assert.equal(openSecret(sealed, key, ID), 'routing-key');
  assert.throws(() => openSecret(sealed, key, OTHER), /copied from another channel/);
});

test('a secret sealed before binding (v1, no associated data) opens only to be sealed again', () => {
  // The format stored before secrets were bound to their channel.
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update('old-secret', 'utf8'), cipher.final()]);
  const v1 = ['v1', ...[iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64'))].join('.');
  assert.ok(isUnbound(v1));
  assert.equal(openUnbound(v1, key), 'old-secret');
  assert.throws(() => openSecret(v1, key, ID), /unknown format/);
  assert.ok(!isUnbound(sealSecret('x', key, ID)));
});
