// The reference agent's checks. evaluateChecks is pure (numbers, the checks chosen and their limits
// in, the heartbeat's `checks` out) so its thresholds are table-tested and the demo's simulated
// hosts are judged by the same rules; sampleHost is the only part that reads the machine.

import { statfs } from 'node:fs/promises';
import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';
import { bytes } from './format.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  status: CheckStatus;
  value?: number;
  message?: string;
}

export type Checks = Record<string, Check>;

export interface Capacity {
  freeBytes: number;
  totalBytes: number;
}

export interface HostSample {
  /** The filesystem holding the working directory, or why it could not be read. */
  disk: Capacity | { error: string };
  load1: number;
  cores: number;
  memory: Capacity;
}

export interface Limits {
  warn: number;
  fail: number;
}

export interface CheckLimits {
  /** Free % below which a check warns or fails. */
  diskFreePercent: Limits;
  memoryFreePercent: Limits;
  /** 1-minute load per core above which it warns or fails. */
  loadPerCore: Limits;
}

/** The defaults; `lifeline agent --disk-free`, `--memory-free` and `--load-per-core` change them. */
export const THRESHOLDS: Readonly<CheckLimits> = {
  diskFreePercent: { warn: 10, fail: 5 },
  memoryFreePercent: { warn: 10, fail: 5 },
  loadPerCore: { warn: 2, fail: 4 },
};

export const CHECK_NAMES = ['disk', 'memory', 'load'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** Which checks a heartbeat carries and the limits they are judged on: none is a plain "alive". */
export interface CheckConfig {
  checks: readonly CheckName[];
  limits: CheckLimits;
}

export const ALL_CHECKS: CheckConfig = { checks: CHECK_NAMES, limits: THRESHOLDS };

const below = (value: number, l: Limits): CheckStatus => (value < l.fail ? 'fail' : value < l.warn ? 'warn' : 'ok');
const above = (value: number, l: Limits): CheckStatus => (value > l.fail ? 'fail' : value > l.warn ? 'warn' : 'ok');
const round = (n: number, digits: number) => Number(n.toFixed(digits));

function freeSpace(c: Capacity | { error: string }, limits: Limits): Check {
  if ('error' in c) return { status: 'warn', message: `could not be read: ${c.error}` };
  if (c.totalBytes <= 0) return { status: 'warn', message: 'reports no size' };
  const pct = (100 * c.freeBytes) / c.totalBytes;
  // Judged on the exact figure; the rounded one is for people.
  return { status: below(pct, limits), value: round(pct, 1), message: `${round(pct, 1)}% free of ${bytes(c.totalBytes)}` };
}

export function evaluateChecks(s: HostSample, { checks, limits }: CheckConfig): Checks {
  const perCore = s.load1 / Math.max(1, s.cores);
  const judge: Record<CheckName, () => Check> = {
    disk: () => freeSpace(s.disk, limits.diskFreePercent),
    load: () => ({
      status: above(perCore, limits.loadPerCore),
      value: round(perCore, 2),
      message: `1-min load ${round(s.load1, 2)} on ${s.cores} cores`,
    }),
    memory: () => freeSpace(s.memory, limits.memoryFreePercent),
  };
  // Always in this order, whatever the order asked for: one line reads alike on every host.
  const order: CheckName[] = ['disk', 'load', 'memory'];
  return Object.fromEntries(order.filter((name) => checks.includes(name)).map((name) => [name, judge[name]()]));
}

/** `--checks`: some of disk, memory, load, comma-separated, or `none` for heartbeats with no checks. */
export function parseCheckList(raw: string): CheckName[] | { problem: string } {
  if (raw.trim() === 'none') return [];
  const names = raw.split(',').map((n) => n.trim());
  const seen: CheckName[] = [];
  for (const name of names) {
    if (name === 'none') return { problem: `none stands alone, got "${raw}"` };
    if (!(CHECK_NAMES as readonly string[]).includes(name)) {
      return { problem: `must be a comma-separated list of ${CHECK_NAMES.join(', ')}, or none; "${name}" is no check` };
    }
    if (seen.includes(name as CheckName)) return { problem: `names ${name} twice, got "${raw}"` };
    seen.push(name as CheckName);
  }
  return seen;
}

/**
 * `WARN:FAIL` for a check judged on a figure going `above` its limits (load) or `below` them (free
 * %): warn comes first in the figure's way, so a limit pair the wrong way round would never warn.
 */
export function parseLimits(raw: string, direction: 'above' | 'below'): Limits | { problem: string } {
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(raw.trim());
  const example = direction === 'above' ? `${THRESHOLDS.loadPerCore.warn}:${THRESHOLDS.loadPerCore.fail}` : `${THRESHOLDS.diskFreePercent.warn}:${THRESHOLDS.diskFreePercent.fail}`;
  if (!m) return { problem: `must be WARN:FAIL, two numbers such as ${example}, got "${raw}"` };
  const [warn, fail] = [Number(m[1]), Number(m[2])];
  if (direction === 'above' && !(warn < fail)) {
    return { problem: `warn must be below fail (load above the warn figure warns, above the fail figure fails), got "${raw}"` };
  }
  if (direction === 'below') {
    if (warn > 100) return { problem: `percentages run from 0 to 100, got "${raw}"` };
    if (!(warn > fail)) return { problem: `warn must be above fail (free space below the warn figure warns, below the fail figure fails), got "${raw}"` };
  }
  return { warn, fail };
}

export async function sampleHost(dir = process.cwd()): Promise<HostSample> {
  let disk: HostSample['disk'];
  try {
    const fs = await statfs(dir);
    // bavail, not bfree: the blocks reserved for root are not free to the services we watch.
    disk = { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize };
  } catch (err) {
    disk = { error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
  // freemem() is MemAvailable on Linux (page cache counts as free), which is what "free" should mean.
  return { disk, load1: loadavg()[0]!, cores: availableParallelism(), memory: { freeBytes: freemem(), totalBytes: totalmem() } };
}
