// How times, durations, sizes and ratios read in a terminal.

import { cutPercent } from '../uptime/percent.ts';

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** `3m 4s`, `2d 5h`: the two largest units, enough to read at a glance. */
export function duration(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000) * 1000);
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (rest >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/*
 * The instants the API's Timestamp takes: from 1970 (a monitoring system has nothing to say
 * before) through 9999 (Date writes a later year with six digits, which Postgres refuses).
 */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(10_000, 0, 1) - 1;

/** A span in one of duration()'s units (`30m`, `12h`, `7d`) in milliseconds; undefined for anything else. */
export function spanMs(raw: string): number | undefined {
  const span = /^(\d{1,6})([dhms])$/.exec(raw);
  return span ? Number(span[1]) * UNITS.find(([unit]) => unit === span[2])![1] : undefined;
}

/** An instant as the API takes it (Date.toISOString()), or undefined outside 1970 to 9999. */
const stored = (ms: number) => (ms >= EARLIEST_MS && ms <= LATEST_MS ? new Date(ms).toISOString() : undefined);

/**
 * An RFC 3339 time as the API takes it: seconds optional and `T`/`Z` of either case (the API's
 * Timestamp wants seconds and capitals); undefined for anything else, a date not on the calendar
 * (2026-02-30), or outside 1970 to 9999.
 */
export function instant(raw: string): string | undefined {
  const given = /^(\d{4})-(\d\d)-(\d\d)T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.exec(raw.toUpperCase());
  // Date.UTC rolls 2026-02-30 over into March instead of refusing it.
  if (!given || new Date(Date.UTC(Number(given[1]), Number(given[2]) - 1, Number(given[3]))).getUTCDate() !== Number(given[3])) return undefined;
  return stored(Date.parse(raw.toUpperCase()));
}

/** A `--since`/`--until` time as the API takes it: an instant(), or a spanMs() before `now`, this machine's clock. */
export function pastTime(raw: string, now: number): string | undefined {
  const span = spanMs(raw);
  return span === undefined ? instant(raw) : stored(now - span);
}

/** How long from one timestamp to the next (`8m`, `1h 12m`); `-` while the second has not come. */
export function after(from: string, to: string | null): string {
  return to === null ? '-' : duration(Date.parse(to) - Date.parse(from));
}

/** `12s ago`; `never` for a null timestamp. */
export function ago(iso: string | null, now: number): string {
  return iso === null ? 'never' : `${duration(now - Date.parse(iso))} ago`;
}

/** `12s ago`, or `in 5m` for a time still to come. */
export function fromNow(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  return ms >= 0 ? `${duration(ms)} ago` : `in ${duration(-ms)}`;
}

/** `2026-11-21 10:00:00Z`: the API's timestamp, shorter. */
export function when(iso: string | null): string {
  return iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Cut like every other uptime figure (cutPercent), so 0.57 reads 57.000 %, not 56.999 %, and 99.9996 % never 100 %. */
export function percent(ratio: number | null, digits = 3): string {
  if (ratio === null) return 'n/a';
  return `${ratio >= 1 ? (100).toFixed(digits) : cutPercent(ratio, digits)}%`;
}

export function bytes(n: number): string {
  const gib = n / 2 ** 30;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`;
}

export function labels(l: Record<string, string>): string {
  return Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',');
}

/** A secret the API shows only once, set apart so it is hard to miss and easy to copy. */
export function secretBlock(what: string, secret: string): string {
  return `\n${what} (shown only this once; store it now):\n\n  ${secret}\n`;
}
