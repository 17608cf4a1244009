import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Coalescer, type Batching } from '../../src/coalescer.ts';

// The Coalescer's promises to its callers: each gets its own output, a failed batch fails each of
// its callers once, and batches keep to their size and to how many may be out at once.

/**
 * A Coalescer doubling numbers, recording each batch it runs; `fail` decides which runs throw, with
 * `code` (a lost connection unless said otherwise: a blip worth a retry).
 */
function doubling(batching: Batching, fail: (items: number[], run: number) => boolean = () => false, code: string | null = '08006') {
  const runs: number[][] = [];
  let running = 0;
  let mostInFlight = 0;
  const gates: (() => void)[] = [];
  let gated = false;
  const c = new Coalescer<number, number>(async (items) => {
    runs.push(items);
    running += 1;
    mostInFlight = Math.max(mostInFlight, running);
    try {
      if (gated) await new Promise<void>((r) => gates.push(r));
      if (fail(items, runs.length)) throw Object.assign(new Error(`run ${runs.length} failed`), { code });
      return items.map((i) => i * 2);
    } finally {
      running -= 1;
    }
  }, batching);
  return {
    c,
    runs,
    mostInFlight: () => mostInFlight,
    /** Holds every run until released, so batches pile up to `inFlight`. */
    gate: () => void (gated = true),
    release: () => gates.splice(0).forEach((r) => r()),
    waitingRuns: () => gates.length,
  };
}

/** How each promise settled: its value, or its error's message. */
function outcomes<T>(ps: Promise<T>[]) {
  return Promise.all(ps.map((p) => p.then((v) => ({ ok: v }), (e: Error) => ({ err: e.message }))));
}

/** Lets setImmediate callbacks and what they start run, until `done` holds. */
async function turnsUntil(done: () => boolean) {
  while (!done()) await new Promise((r) => setImmediate(r));
}

describe('Coalescer', () => {
  it("gives each caller its own item's output, in one batch per turn", async () => {
    const d = doubling({ size: 1_000, inFlight: 4 });
    const got = await Promise.all([3, 1, 2].map((i) => d.c.add(i)));
    assert.deepEqual(got, [6, 2, 4]);
    assert.deepEqual(d.runs, [[3, 1, 2]]);
  });

  it('runs 2,500 items as 1,000, 1,000 and 500, with at most inFlight out at once', async () => {
    const d = doubling({ size: 1_000, inFlight: 2 });
    d.gate();
    const items = Array.from({ length: 2_500 }, (_, i) => i);
    const all = Promise.all(items.map((i) => d.c.add(i)));
    await turnsUntil(() => d.waitingRuns() === 2);
    assert.deepEqual(d.runs.map((r) => r.length), [1_000, 1_000]);
    d.release();
    await turnsUntil(() => d.waitingRuns() === 1);
    d.release();
    assert.deepEqual(await all, items.map((i) => i * 2));
    assert.deepEqual(d.runs.map((r) => r.length), [1_000, 1_000, 500]);
    assert.deepEqual(d.runs.flat(), items);
    assert.equal(d.mostInFlight(), 2);
  });

  it('with retryAlone false, fails each caller of a failed batch once, after one run', async () => {
    const d = doubling({ size: 1_000, inFlight: 4, retryAlone: false }, () => true);
    const got = await outcomes([1, 2, 3].map((i) => d.c.add(i)));
    assert.deepEqual(got, [{ err: 'run 1 failed' }, { err: 'run 1 failed' }, { err: 'run 1 failed' }]);
    assert.deepEqual(d.runs, [[1, 2, 3]]);
  });

  it('with retryBatchAfterMs, runs a failed batch once more whole, then fails each caller once', async () => {
    const d = doubling({ size: 1_000, inFlight: 4, retryAlone: false, retryBatchAfterMs: 0 }, () => true);
    const got = await outcomes([1, 2, 3].map((i) => d.c.add(i)));
    assert.deepEqual(got, [{ err: 'run 2 failed' }, { err: 'run 2 failed' }, { err: 'run 2 failed' }]);
    assert.deepEqual(d.runs, [[1, 2, 3], [1, 2, 3]]);
  });

  it('with retryBatchAfterMs, answers every caller when the second run succeeds', async () => {
    const d = doubling({ size: 1_000, inFlight: 4, retryAlone: false, retryBatchAfterMs: 0 }, (_, run) => run === 1);
    assert.deepEqual(await outcomes([1, 2, 3].map((i) => d.c.add(i))), [{ ok: 2 }, { ok: 4 }, { ok: 6 }]);
    assert.deepEqual(d.runs, [[1, 2, 3], [1, 2, 3]]);
  });

  for (const [what, code] of [
    ['a statement timeout (the server shedding load)', '57014'],
    ['too many connections', '53300'],
    ['a connect that already timed out', 'CONNECT_TIMEOUT'],
    ['a bug (no error code)', null],
  ] as const) {
    it(`with retryBatchAfterMs, does not run a batch again after ${what}`, async () => {
      const d = doubling({ size: 1_000, inFlight: 4, retryAlone: false, retryBatchAfterMs: 0 }, () => true, code);
      assert.deepEqual(await outcomes([1, 2, 3].map((i) => d.c.add(i))), [{ err: 'run 1 failed' }, { err: 'run 1 failed' }, { err: 'run 1 failed' }]);
      assert.deepEqual(d.runs, [[1, 2, 3]]);
    });
  }

  it('with retryBatchAfterMs and items run alone, runs each item once alone after the batch’s two runs', async () => {
    const d = doubling({ size: 1_000, inFlight: 4, retryBatchAfterMs: 0 }, (items) => items.includes(2));
    const got = await outcomes([1, 2, 3].map((i) => d.c.add(i)));
    assert.deepEqual(got, [{ ok: 2 }, { err: 'run 4 failed' }, { ok: 6 }]);
    assert.deepEqual(d.runs, [[1, 2, 3], [1, 2, 3], [1], [2], [3]]);
  });

  it('by default runs the items of a failed batch alone, so only the bad one fails', async () => {
    const d = doubling({ size: 1_000, inFlight: 4 }, (items) => items.includes(2));
    const got = await outcomes([1, 2, 3].map((i) => d.c.add(i)));
    assert.deepEqual(got, [{ ok: 2 }, { err: 'run 3 failed' }, { ok: 6 }]);
    assert.deepEqual(d.runs, [[1, 2, 3], [1], [2], [3]]);
  });
});
