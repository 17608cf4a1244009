import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IntArrayReader } from '../../src/db/int-array-reader.ts';

const all = (r: IntArrayReader, text: string, n: number) => {
  r.read(text);
  return Array.from({ length: n }, () => r.next());
};

describe('IntArrayReader', () => {
  it('reads an int8[] as Postgres prints it, NULLs and signs included, one array after another', () => {
    const r = new IntArrayReader();
    assert.deepEqual(all(r, '{30,0,NULL,-5,1796553073544,NULL}', 6), [30, 0, null, -5, 1796553073544, null]);
    assert.deepEqual(all(r, '{NULL,1796553073544972,-1}', 3), [null, 1796553073544972, -1]);
    assert.deepEqual(all(r, '{7}', 1), [7]);
  });

  it('is exact up to 2^53', () => {
    const r = new IntArrayReader();
    assert.deepEqual(all(r, `{${Number.MAX_SAFE_INTEGER},-${Number.MAX_SAFE_INTEGER}}`, 2), [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]);
  });
});
