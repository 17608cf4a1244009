import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { openSecret, sealSecret } from '../../alerting/secret-box.ts';

const key = randomBytes(32);

test('a sealed secret opens to the original with the same key', () => {
  for (const plain of ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'https://hooks.slack.com/services/T0/B0/x', '', 'ünïcødé 🔔']) {
    const sealed = sealSecret(plain, key);
    assert.match(sealed, /^v1\.[A-Za-z0-9+/]+=*\.[A-Za-z0-9+/]+=*\.[A-Za-z0-9+/]*=*$/);
    assert.equal(openSecret(sealed, key), plain);
  }
});

test('sealing the same secret twice gives different ciphertexts (fresh IV each time)', () => {
  const a = sealSecret('same', key);
  const b = sealSecret('same', key);
  assert.notEqual(a, b);
  assert.notEqual(a.split('.')[1], b.split('.')[1]);
});

test('the plain secret does not appear in the sealed form', () => {
  assert.ok(!sealSecret('whsec_plainly-visible', key).includes('plainly'));
});

test('any change to a sealed secret is detected', () => {
  const sealed = sealSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', key);
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
    assert.throws(() => openSecret(tampered.join('.'), key), /failed authentication/);
  }
});

test('a secret sealed under another key does not open', () => {
  assert.throws(() => openSecret(sealSecret('secret', randomBytes(32)), key), /failed authentication/);
});

test('malformed input and wrong key sizes are refused', () => {
  assert.throws(() => openSecret('plain-text-secret', key), /unknown format/);
  assert.throws(() => openSecret('v2.a.b.c', key), /unknown format/);
  assert.throws(() => openSecret(`v1.${Buffer.alloc(4).toString('base64')}.AAAA.AAAA`, key), /unknown format/);
  assert.throws(() => sealSecret('secret', randomBytes(16)), RangeError);
  assert.throws(() => openSecret(sealSecret('secret', key), randomBytes(31)), RangeError);
});
