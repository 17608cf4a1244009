import type { State } from '../health/decide.ts';

export type Category = 'node_down' | 'node_degraded';
export type Severity = 'critical' | 'warning';

export const CATEGORIES: Record<Category, { severity: Severity; word: string }> = {
  node_down: { severity: 'critical', word: 'down' },
  node_degraded: { severity: 'warning', word: 'degraded' },
};

/** The incident a state calls for, if any: down → node_down, degraded → node_degraded. */
export function categoryFor(state: State): Category | null {
  if (state === 'down') return 'node_down';
  if (state === 'degraded') return 'node_degraded';
  return null;
}

export function incidentTitle(category: Category, nodeName: string): string {
  return `${nodeName} is ${CATEGORIES[category].word}`;
}
