import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percent } from '../../src/cli/format.ts';

// The terminal's uptime reads as the pages and badges do: cut, never rounded up, and no float
// error shaving a digit off a ratio that is exact.

describe('uptime in the terminal', () => {
  it('shows an exact ratio exactly, where a plain floor lost the last digit', () => {
    assert.equal(percent(0.57), '57.000%');
    assert.equal(percent(0.29, 2), '29.00%');
  });

  it('never rounds up to 100', () => {
    assert.equal(percent(0.999_996), '99.999%');
    assert.equal(percent(1 - 1e-15), '99.999%');
    assert.equal(percent(1), '100.000%');
  });

  it('says when there is no figure', () => {
    assert.equal(percent(null), 'n/a');
  });
});
