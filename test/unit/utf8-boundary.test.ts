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

  it('an offset past the bytes is left as it is, and one below them brought to the start', () => {
    const bytes = Buffer.from('€', 'utf8');
    assert.equal(boundaryAtOrBefore(bytes, 0), 0);
    assert.equal(boundaryAtOrBefore(bytes, 5), 5);
    assert.equal(boundaryAtOrAfter(bytes, -4), 0);
    assert.equal(boundaryAtOrAfter(bytes, 9), 9);
    assert.equal(boundaryAtOrAfter(new Uint8Array(0), 0), 0);
  });

  it('walks at most 3 continuation bytes, as no character has more: in a longer run (invalid bytes) the cut is where asked', () => {
    const run = new Uint8Array(64 * 1024).fill(0x80);
    assert.equal(boundaryAtOrBefore(run, 40_000), 40_000, 'a chunk of 0x80 bytes is not dropped whole');
    assert.equal(boundaryAtOrAfter(run, 10), 10, 'nor skipped whole');
    // A 4-byte lead, then 5 continuation bytes: the first 3 are its character's, the 2 after invalid.
    const long = Uint8Array.from([0xf0, 0x80, 0x80, 0x80, 0x80, 0x80]);
    assert.equal(boundaryAtOrBefore(long, 3), 0);
    assert.equal(boundaryAtOrBefore(long, 4), 4, 'its lead 4 back: no character reaches that far');
    assert.equal(boundaryAtOrBefore(long, 5), 5);
    assert.equal(boundaryAtOrAfter(long, 1), 1, '4 on before a byte that is no continuation');
    assert.equal(boundaryAtOrAfter(long, 3), 6, 'the end of the bytes, 3 on');
    // Lone continuation bytes and a lead cut short between characters: each cut as a valid one would be.
    const invalid = Uint8Array.from([0x61, 0x80, 0x62, 0xe2, 0x82, 0x63, 0xbf, 0xbf]);
    assert.deepEqual([...Array(invalid.length + 1).keys()].map((at) => boundaryAtOrBefore(invalid, at)), [0, 0, 2, 3, 3, 5, 5, 5, 8]);
    assert.deepEqual([...Array(invalid.length + 1).keys()].map((at) => boundaryAtOrAfter(invalid, at)), [0, 2, 2, 3, 5, 5, 8, 8, 8]);
  });
});
