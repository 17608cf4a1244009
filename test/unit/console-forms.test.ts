import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spanTimes } from '../../src/console/forms.ts';

// How a time the clocks skip is named under its field: a jump at night by its hours, one into
// another day or at midnight by its dates.

const skipped = (zone: string, at: string) => spanTimes({ starts_at: at, ends_at: '' }, zone, 'starts_at', 'ends_at').problems.map((p) => p.message);

describe('a skipped time under its field', () => {
  it('names a night jump by its hours, and a day-long or midnight one by its dates', () => {
    assert.deepEqual(skipped('Europe/Berlin', '2027-03-28T02:30'), ['2027-03-28 02:30 does not happen in Europe/Berlin: clocks jump from 02:00 to 03:00 that night']);
    assert.deepEqual(skipped('Pacific/Apia', '2011-12-30T12:00'), ['2011-12-30 12:00 does not happen in Pacific/Apia: clocks jump from 2011-12-30 00:00 to 2011-12-31 00:00']);
    assert.deepEqual(skipped('America/Havana', '2027-03-14T00:30'), ['2027-03-14 00:30 does not happen in America/Havana: clocks jump from 2027-03-14 00:00 to 2027-03-14 01:00']);
  });
});
