import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineReader } from '../../src/backup/model.ts';

// The backup's line reader: lines however the gunzipped text is cut into chunks, each refused
// past the length its caller allows, without reading further.

async function* chunksOf(...chunks: string[]): AsyncGenerator<string> {
  yield* chunks;
}

const refuse = (why: string) => new Error(why);

async function all(reader: LineReader, maxChars: number): Promise<string[]> {
  const lines: string[] = [];
  for (let line = await reader.next(maxChars); line !== undefined; line = await reader.next(maxChars)) lines.push(line);
  return lines;
}

describe('LineReader', () => {
  it('reads the same lines however the text is cut, a last one without "\\n" included', async () => {
    const text = 'header\n\nrow\twith tabs\n' + 'x'.repeat(1000) + '\n\\.\nlast, cut short';
    const expected = text.split('\n');
    for (const size of [1, 2, 7, 64, 999, 1001, text.length]) {
      const chunks: string[] = [];
      for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size));
      assert.deepEqual(await all(new LineReader(chunksOf(...chunks), refuse), 1000), expected, `chunks of ${size}`);
    }
    assert.deepEqual(await all(new LineReader(chunksOf('a\n', '', 'b\n'), refuse), 10), ['a', 'b'], 'an empty chunk, and no line after the last "\\n"');
    assert.deepEqual(await all(new LineReader(chunksOf(), refuse), 10), []);
  });

  it('refuses a line one character over its maximum, cut in many chunks or not, and takes one at it', async () => {
    const line = 'y'.repeat(300);
    for (const chunks of [[line + '\n'], line.match(/.{1,7}/g)!.concat('\n'), [line]]) {
      await assert.rejects(new LineReader(chunksOf(...chunks), refuse).next(299), { message: 'line 1 is longer than 299 characters' });
      assert.deepEqual(await all(new LineReader(chunksOf(...chunks), refuse), 300), [line]);
    }
    // Each call gives its own maximum: a short line for a header, a long one for rows.
    const reader = new LineReader(chunksOf('short\n', 'a much longer line\n'), refuse);
    assert.equal(await reader.next(5), 'short');
    await assert.rejects(reader.next(5), { message: 'line 2 is longer than 5 characters' });
  });

  it('stops reading an endless line at its maximum', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<string> {
      for (;;) {
        pulled += 1;
        yield 'a'.repeat(16 * 1024);
      }
    }
    await assert.rejects(new LineReader(endless(), refuse).next(1024 * 1024), /line 1 is longer than 1048576 characters/);
    assert.equal(pulled, 65, 'one chunk past 1 MiB, and no more');
  });
});
