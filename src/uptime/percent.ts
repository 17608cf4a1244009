// Uptime as people read it on a page or a badge.

/**
 * A ratio as a percentage with two decimals, cut rather than rounded: 99.996 % shows as 99.99 %,
 * never as a 100 % the node did not have. `null` (nothing monitored) is "no data".
 */
export function percent(ratio: number | null): string {
  if (ratio === null) return 'no data';
  if (ratio >= 1) return '100%';
  return `${(Math.floor(ratio * 10_000) / 100).toFixed(2)}%`;
}
