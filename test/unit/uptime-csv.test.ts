import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvText } from '../../src/uptime/csv.ts';

describe('uptime CSV', () => {
  it('quotes per RFC 4180: a cell with a comma, quote, CR or LF in quotes, its quotes doubled, lines ended by CRLF', () => {
    assert.equal(
      csvText(['name', 'n'], [['plain', 1], ['a,b', 2.5], ['say "hi"', null], ['two\nlines', 0], ['cr\rhere', -1]]),
      'name,n\r\nplain,1\r\n"a,b",2.5\r\n"say ""hi""",\r\n"two\nlines",0\r\n"cr\rhere",-1\r\n',
    );
  });

  it("defuses text a spreadsheet would run as a formula with a leading ', and leaves numbers as they are", () => {
    const names = ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', 'a=1'];
    assert.equal(
      csvText(['name'], names.map((n) => [n])),
      "name\r\n'=1+1\r\n'+1\r\n'-1\r\n'@SUM(A1)\r\n'\tx\r\n\"'\rx\"\r\na=1\r\n",
    );
    assert.equal(csvText(['n'], [[-0.5]]), 'n\r\n-0.5\r\n');
  });
});
