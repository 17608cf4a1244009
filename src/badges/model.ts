// A node's badge: what it says (state, or uptime over a window) and how it looks — the shields.io
// "flat" style, drawn by shields' own badge-maker, and the JSON of shields' endpoint badges.

import { makeBadge } from 'badge-maker';
import type { State } from '../health/decide.ts';
import { percent } from '../uptime/percent.ts';

export const BADGE_METRICS = ['state', 'uptime'] as const;
export type BadgeMetric = (typeof BADGE_METRICS)[number];
export const BADGE_WINDOWS = ['24h', '7d', '30d', '90d'] as const;
export type BadgeWindow = (typeof BADGE_WINDOWS)[number];

// 43 characters of base64url (32 random bytes): anything else is no badge id, asked of no database.
export const BADGE_ID = /^[A-Za-z0-9_-]{43}$/;

export interface Badge {
  label: string;
  message: string;
  /** A shields.io colour name. */
  color: string;
}

const STATE: Record<State, Pick<Badge, 'message' | 'color'>> = {
  healthy: { message: 'up', color: 'brightgreen' },
  degraded: { message: 'degraded', color: 'yellow' },
  down: { message: 'down', color: 'red' },
  maintenance: { message: 'maintenance', color: 'blue' },
  unknown: { message: 'unknown', color: 'lightgrey' },
};

export function stateBadge(state: State, label = 'status'): Badge {
  return { label, ...STATE[state] };
}

// Thresholds in the spirit of shields' own uptime badges: green only for three nines.
const UPTIME_COLORS: Array<[number, string]> = [
  [0.999, 'brightgreen'],
  [0.99, 'green'],
  [0.98, 'yellowgreen'],
  [0.95, 'yellow'],
  [0.9, 'orange'],
];

/** `ratio` null (nothing monitored in the window) says "no data", in grey. */
export function uptimeBadge(ratio: number | null, window: BadgeWindow, label = `uptime ${window}`): Badge {
  if (ratio === null) return { label, message: 'no data', color: 'lightgrey' };
  const color = UPTIME_COLORS.find(([least]) => ratio >= least)?.[1] ?? 'red';
  return { label, message: percent(ratio), color };
}

export function badgeSvg(b: Badge): string {
  return makeBadge({ label: b.label, message: b.message, color: b.color, style: 'flat' });
}

/** shields.io's endpoint schema: https://shields.io/badges/endpoint-badge */
export function badgeJson(b: Badge) {
  return { schemaVersion: 1 as const, label: b.label, message: b.message, color: b.color };
}
