import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundaryAtOrAfter, boundaryAtOrBefore } from '../../src/utf8-boundary.ts';

// Characters of 1 to 4 bytes, side by side and each alone, so every offset in every one is cut.
const TEXTS = ['a', 'é', '€', '😀', 'aé€😀z', '😀😀', '€é€', 'ü😀a'];

/** Where each character of `text` starts in its UTF-8 bytes, found by encoding, and the length. */
function starts(text: string): number[] {
  const at = [0];
  for (const char of text) at.push(at.at(-1)! + Buffer.byteLength(char));
  return at;
}

const decodes = (bytes: Uint8Array) => !Buffer.from(bytes).toString('utf8').includes('\uFFFD');

describe('UTF-8 boundaries', () => {
  for (const text of TEXTS) {
    const bytes = Buffer.from(text, 'utf8');
    const boundaries = starts(text);

    it(`${JSON.stringify(text)}: back to the start of the character cut at every offset`, () => {
      for (let at = 0; at <= bytes.length; at += 1) {
        const cut = boundaryAtOrBefore(bytes, at);
        assert.equal(cut, boundaries.filter((b) => b <= at).at(-1), `offset ${at}`);
        assert.ok(decodes(bytes.subarray(0, cut)) && decodes(bytes.subarray(cut)), `offset ${at}`);
      }
    });

    it(`${JSON.stringify(text)}: on to the start of the next character from every offset`, () => {
      for (let at = 0; at <= bytes.length; at += 1) {
        const cut = boundaryAtOrAfter(bytes, at);
        assert.equal(cut, boundaries.find((b) => b >= at), `offset ${at}`);
        assert.ok(decodes(bytes.subarray(cut)), `offset ${at}`);
      }
    });

    it(`${JSON.stringify(text)}: bytes held from inside a character start at the next one`, () => {
      for (let cut = 0; cut <= bytes.length; cut += 1) {
        const held = bytes.subarray(cut);
        const from = boundaryAtOrAfter(held, 0);
        assert.equal(cut + from, boundaries.find((b) => b >= cut), `held from ${cut}`);
        assert.ok(decodes(held.subarray(from)), `held from ${cut}`);
      }
    });
  }

  it('an offset outside the bytes is left as it is, or brought to the start', () => {
    const bytes = Buffer.from('€', 'utf8');
    assert.equal(boundaryAtOrBefore(bytes, 0), 0);
    assert.equal(boundaryAtOrBefore(bytes, 5), 5);
    assert.equal(boundaryAtOrAfter(bytes, -4), 0);
    assert.equal(boundaryAtOrAfter(bytes, 9), 9);
    assert.equal(boundaryAtOrAfter(new Uint8Array(0), 0), 0);
  });
});
