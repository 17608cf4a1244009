import type { Clock } from '../../src/clock.ts';

/** A clock that only moves when told to; for tests and the restart-honesty scenarios. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start: Date | string) {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): Date {
    this.t += ms;
    return this.now();
  }
  set(at: Date | string): void {
    this.t = new Date(at).getTime();
  }
}
