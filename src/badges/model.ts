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
  /** The message's background, as #rrggbb (shields' endpoint badges take CSS colours too). */
  color: string;
}

// The message is 11 px white text (badge-maker's flat style), so each background gives it at least
// 4.5:1 (WCAG 1.4.3): shields' own named colours give it 1.95-4.38:1. These: green 5.08, amber 5.81, red 5.36, blue 5.19, grey 5.25.
const GREEN = '#1a7f37';
const RED = '#cf222e';
const GREY = '#656d76';

const STATE: Record<State, Pick<Badge, 'message' | 'color'>> = {
  healthy: { message: 'up', color: GREEN },
  degraded: { message: 'degraded', color: '#8a5c00' },
  down: { message: 'down', color: RED },
  maintenance: { message: 'maintenance', color: '#0969da' },
  unknown: { message: 'unknown', color: GREY },
};

export function stateBadge(state: State, label = 'status'): Badge {
  return { label, ...STATE[state] };
}

// Thresholds in the spirit of shields' own uptime badges: green only for three nines, then from
// green to red as shields goes (green, yellowgreen, yellow, orange), each dark enough for white
// text (5.03-5.81:1).
const UPTIME_COLORS: Array<[number, string]> = [
  [0.999, GREEN],
  [0.99, '#3c7a00'],
  [0.98, '#5c6e00'],
  [0.95, '#8a5c00'],
  [0.9, '#bc4c00'],
];

/** `ratio` null (nothing monitored in the window) says "no data", in grey. */
export function uptimeBadge(ratio: number | null, window: BadgeWindow, label = `uptime ${window}`): Badge {
  if (ratio === null) return { label, message: 'no data', color: GREY };
  const color = UPTIME_COLORS.find(([least]) => ratio >= least)?.[1] ?? RED;
  return { label, message: percent(ratio), color };
}

export function badgeSvg(b: Badge): string {
  return makeBadge({ label: b.label, message: b.message, color: b.color, style: 'flat' });
}

/** shields.io's endpoint schema: https://shields.io/badges/endpoint-badge */
export function badgeJson(b: Badge) {
  return { schemaVersion: 1 as const, label: b.label, message: b.message, color: b.color };
}
