import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTable, type Column } from '../../src/cli/table.ts';

interface Row {
  name: string;
  n: number;
}
const columns: Column<Row>[] = [
  { header: 'NAME', value: (r) => r.name },
  { header: 'COUNT', value: (r) => String(r.n), align: 'right' },
];

describe('renderTable', () => {
  it('pads each column to its widest cell, numbers to the right, no trailing spaces', () => {
    const text = renderTable(columns, [
      { name: 'web-1', n: 3 },
      { name: 'a-much-longer-name', n: 12345 },
    ]);
    assert.equal(text, ['NAME                COUNT', 'web-1                   3', 'a-much-longer-name  12345'].join('\n'));
  });

  it('prints only the header for no rows', () => {
    assert.equal(renderTable(columns, []), 'NAME  COUNT');
  });

  it('keeps one row per line when a cell holds a line break or tab', () => {
    const text = renderTable(columns, [{ name: 'evil\nname\there', n: 1 }]);
    assert.deepEqual(text.split('\n'), ['NAME            COUNT', 'evil name here      1']);
  });

  it('measures width in characters, so a label with an emoji stays aligned', () => {
    const text = renderTable([{ header: 'L', value: (r: Row) => r.name }, { header: 'X', value: () => 'x' }], [{ name: '🔥🔥', n: 0 }]);
    assert.deepEqual(text.split('\n'), ['L   X', '🔥🔥  x']);
  });

  it('leaves the last column unpadded even when left-aligned', () => {
    const text = renderTable([{ header: 'A', value: (r: Row) => r.name }], [{ name: 'long', n: 0 }, { name: 's', n: 0 }]);
    assert.deepEqual(text.split('\n'), ['A', 'long', 's']);
  });
});
