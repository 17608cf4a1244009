import { progress } from './log.ts';

/**
 * Cleanup steps registered as resources are acquired and run in reverse order, whatever happened:
 * each section gets one scope, so a section that throws still stops its children and drops its
 * databases before the next section starts.
 */
export class Scope {
  private readonly steps: Array<{ what: string; fn: () => Promise<void> | void }> = [];

  defer(what: string, fn: () => Promise<void> | void): void {
    this.steps.push({ what, fn });
  }

  async close(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.fn();
      } catch (err) {
        progress(`cleanup "${step.what}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** Resolves after `ms`; the one place the benchmark sleeps. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown by a waitFor probe when waiting longer cannot help (e.g. the process it polls died). */
export class GiveUp extends Error {}

/**
 * Polls `probe` every `everyMs` until it returns a value other than undefined, or throws after
 * `timeoutMs` naming what it was waiting for. Every wait in the benchmark is bounded this way.
 * A probe that throws is retried (the thing may not be up yet), unless it throws GiveUp.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (performance.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}
