import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percent as consolePercent } from '../../src/console/format.ts';
import { percent as publicPercent } from '../../src/uptime/percent.ts';

// Uptime figures are cut, never rounded: float error in ratio × 10^n must not cut a whole figure
// (0.57 × 10,000 = 5699.999999999999) one unit short, nor carry a figure just below 100 up to it.

describe('uptime percentages', () => {
  const DAY_MS = 86_400_000;
  // [ratio, badges and status pages, console]
  const cases: Array<[number, string, string]> = [
    [0.29, '29.00%', '29.00 %'],
    [0.57, '57.00%', '57.00 %'],
    [0.58, '58.00%', '58.00 %'],
    [0.9995, '99.95%', '99.950 %'],
    [0.999, '99.90%', '99.900 %'],
    [0.99996, '99.99%', '99.996 %'],
    [(DAY_MS - 1) / DAY_MS, '99.99%', '99.999 %'],
    [1 - 1e-12, '99.99%', '99.999 %'],
    [1 - Number.EPSILON, '99.99%', '99.999 %'],
    [0.123456, '12.34%', '12.34 %'],
    [0, '0.00%', '0.00 %'],
    [1, '100%', '100 %'],
  ];
  for (const [ratio, badge, console] of cases) {
    it(`${ratio} → ${badge}, ${console}`, () => {
      assert.equal(publicPercent(ratio), badge);
      assert.equal(consolePercent(ratio), console);
    });
  }

  it('cuts every whole ratio of hundredths exactly', () => {
    for (let i = 0; i < 10_000; i++) {
      const ratio = i / 10_000;
      assert.equal(publicPercent(ratio), `${(i / 100).toFixed(2)}%`, String(ratio));
    }
  });
});
