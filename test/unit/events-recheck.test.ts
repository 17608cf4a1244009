import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rechecker, sharedInterval } from '../../src/http/routes/events.ts';

// An open event stream's re-check of its key or session: a definite "no" ends it at once, a check
// that cannot be made (the database blinking) ends it only when the next one fails too.

/** A check answering from `answers` in turn (an Error is thrown), and how often the stream was closed. */
function scripted(answers: (boolean | Error)[]) {
  const state = { closed: 0, asked: 0 };
  const recheck = rechecker(
    async () => {
      const a = answers[state.asked++];
      if (a instanceof Error) throw a;
      return a ?? true;
    },
    () => void (state.closed += 1),
  );
  return { state, recheck };
}

describe('re-checking an open stream', () => {
  it('ends it at once when its credentials no longer hold', async () => {
    const { state, recheck } = scripted([true, false]);
    assert.equal(await recheck(), true);
    assert.equal(state.closed, 0);
    assert.equal(await recheck(), false);
    assert.equal(state.closed, 1);
  });

  it('keeps it through one failed check, and a success forgives the failure', async () => {
    const { state, recheck } = scripted([new Error('connection reset'), true, new Error('connection reset'), true]);
    const verdicts: boolean[] = [];
    for (let i = 0; i < 4; i++) verdicts.push(await recheck());
    assert.deepEqual(state, { closed: 0, asked: 4 });
    // A failed check confirms nothing: a stream holding changes for it ends with them.
    assert.deepEqual(verdicts, [false, true, false, true]);
  });

  it('ends it after two failed checks in a row', async () => {
    const { state, recheck } = scripted([new Error('connection reset'), new Error('connection reset')]);
    await recheck();
    assert.equal(state.closed, 0);
    await recheck();
    assert.equal(state.closed, 1);
  });

  it('checks once more when asked while checking, so a revocation heard mid-check is not missed', async () => {
    let release!: () => void;
    const answers: boolean[] = [true, false];
    let asked = 0;
    let closed = 0;
    const recheck = rechecker(
      async () => {
        const a = answers[asked++]!;
        if (asked === 1) await new Promise<void>((r) => (release = r));
        return a;
      },
      () => void (closed += 1),
    );
    const first = recheck();
    const second = recheck();
    release();
    await Promise.all([first, second]);
    assert.deepEqual({ asked, closed }, { asked: 2, closed: 1 });
  });
});

describe('the keepalive timer open streams share', () => {
  it('does not keep the process up by itself', () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const stop = sharedInterval(20_000)(() => {});
    try {
      assert.equal(timers(), before);
    } finally {
      stop();
    }
  });
});
