// The escalation schedule of a policy, pure: which level is paged how long after opening.

export interface LevelTiming {
  after_seconds: number;
}

export interface EscalationStep {
  /** 1-based position in the schedule (step 0 is the page at opening). */
  step: number;
  level: number;
  afterSeconds: number;
}

/** Cycle length for a single-level policy that repeats: re-page every 5 minutes. */
const SINGLE_LEVEL_CYCLE_SECONDS = 300;

/**
 * The length of one pass through the levels. After the last level the schedule waits as long as
 * the last escalation took (its gap from the level before) and starts again at level 0, so a
 * policy [0 s, 300 s] repeated pages at 0, 300, 600, 900 s: the same rhythm, never two at once.
 */
export function cycleSeconds(levels: LevelTiming[]): number {
  const n = levels.length;
  if (n < 2) return SINGLE_LEVEL_CYCLE_SECONDS;
  const last = levels[n - 1]!.after_seconds;
  return last + Math.max(1, last - levels[n - 2]!.after_seconds);
}

/** Every step after the opening page, in time order: levels × (repeat + 1) passes, minus step 0. */
export function escalationSteps(levels: LevelTiming[], repeat: number): EscalationStep[] {
  const cycle = cycleSeconds(levels);
  const steps: EscalationStep[] = [];
  for (let pass = 0; pass <= repeat; pass++) {
    levels.forEach((l, level) => {
      if (pass === 0 && level === 0) return;
      steps.push({ step: steps.length + 1, level, afterSeconds: pass * cycle + l.after_seconds });
    });
  }
  return steps;
}
