// Time helpers and seeded random state logs for the uptime unit tests.

import assert from 'node:assert/strict';
import { intervalsFromLog, type Interval, type Transition } from '../../src/uptime/intervals.ts';
import type { Progress } from '../../src/uptime/model.ts';
import { emptyStateMs, NODE_STATES, type NodeState, type StateMs } from '../../src/uptime/state-time.ts';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export const at = (iso: string): number => Date.parse(iso);
export const stateMs = (partial: Partial<StateMs>): StateMs => ({ ...emptyStateMs(), ...partial });
export const totalMs = (ms: StateMs): number => NODE_STATES.reduce((sum, state) => sum + ms[state], 0);
export const move = (from: NodeState, to: NodeState, iso: string): Transition => ({ from, to, at: at(iso) });

/** A table case's log: a node created at `created`, moved by `transitions`, read at `now`. */
export interface CaseLog {
  created: string;
  transitions: Transition[];
  now: string;
}
export const intervalsOfCase = (c: CaseLog): Interval[] => intervalsFromLog({ createdAt: at(c.created), transitions: c.transitions, until: at(c.now) });

// Deterministic PRNG (mulberry32) so random cases are reproducible from their seed.
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const randomInt = (random: () => number, min: number, max: number): number =>
  min + Math.floor(random() * (max - min + 1));

// A state different from `current`, as the engine records only actual changes.
export function nextState(random: () => number, current: NodeState): NodeState {
  const others = NODE_STATES.filter((state) => state !== current);
  return others[randomInt(random, 0, others.length - 1)]!;
}

/** A progress row with the given stored runs and an end that says nothing more. */
export function progressOf(runs: Pick<Progress, 'stateVersion' | 'closedUntil' | 'hoursFrom' | 'daysFrom'>): Progress {
  return { ...runs, lastAt: null, closedState: 'unknown', today: emptyStateMs(), daysRunning: null };
}

/** A log as the evaluator writes it: times never go back, each transition changes the state. */
export function monotonicLog(random: () => number, createdAt: number, count: number, maxStep = 4 * HOUR): Transition[] {
  const transitions: Transition[] = [];
  let state: NodeState = 'unknown';
  let t = createdAt;
  for (let i = 0; i < count; i++) {
    t += randomInt(random, 0, maxStep);
    const to = nextState(random, state);
    transitions.push({ from: state, to, at: t });
    state = to;
  }
  return transitions;
}

export function assertContiguous(intervals: readonly Interval[], start: number, end: number): void {
  if (end <= start) return assert.deepEqual(intervals, []);
  assert.equal(intervals[0]?.start, start);
  assert.equal(intervals.at(-1)?.end, end);
  intervals.forEach((interval, i) => {
    assert.ok(interval.end > interval.start, `interval ${i} has no length`);
    if (i > 0) assert.equal(interval.start, intervals[i - 1]!.end, `gap before interval ${i}`);
  });
}
