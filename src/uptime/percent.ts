// Uptime as people read it on a page or a badge.

/**
 * A ratio below 1 as a percentage with `decimals` decimals, cut rather than rounded, so 99.996 %
 * never shows as a 100 % the node did not have. The cut is taken on whole units of the last
 * decimal: ratio × 10^(decimals+2) carries float error (0.57 × 10,000 = 5699.999999999999, which
 * a plain floor cut to 56.99), so it is first rounded to 10⁻⁶ of a unit. That error is below
 * 10⁻¹¹ here while a millisecond of even a 7-day window is 1.6·10⁻⁹ of it, so the rounding moves
 * no ratio the data can produce across a boundary; what it would carry to 100 stays just below.
 */
export function cutPercent(ratio: number, decimals: number): string {
  const units = 10 ** (decimals + 2);
  const cut = Math.min(Math.floor(Math.round(ratio * units * 1e6) / 1e6), units - 1);
  return (cut / 10 ** decimals).toFixed(decimals);
}

/** Two decimals, cut (cutPercent): "99.99%"; 100 % only when the node was up all along. `null` (nothing monitored) is "no data". */
export function percent(ratio: number | null): string {
  if (ratio === null) return 'no data';
  if (ratio >= 1) return '100%';
  return `${cutPercent(ratio, 2)}%`;
}
