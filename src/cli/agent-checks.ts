// The reference agent's checks. evaluateChecks is pure (numbers in, the heartbeat's `checks` out)
// so its thresholds are table-tested and the demo's simulated hosts are judged by the same rules;
// sampleHost is the only part that reads the machine.

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

interface Limits {
  warn: number;
  fail: number;
}

export const THRESHOLDS = {
  /** Free % below which a check warns or fails. */
  diskFreePercent: { warn: 10, fail: 5 },
  memoryFreePercent: { warn: 10, fail: 5 },
  /** 1-minute load per core above which it warns or fails. */
  loadPerCore: { warn: 2, fail: 4 },
} as const satisfies Record<string, Limits>;

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

export function evaluateChecks(s: HostSample): Checks {
  const perCore = s.load1 / Math.max(1, s.cores);
  return {
    disk: freeSpace(s.disk, THRESHOLDS.diskFreePercent),
    load: {
      status: above(perCore, THRESHOLDS.loadPerCore),
      value: round(perCore, 2),
      message: `1-min load ${round(s.load1, 2)} on ${s.cores} cores`,
    },
    memory: freeSpace(s.memory, THRESHOLDS.memoryFreePercent),
  };
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
