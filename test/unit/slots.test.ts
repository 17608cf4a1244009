import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Slots } from '../../alerting/slots.ts';

/** A take, and how it has settled so far: pending, holding a slot (with its free), or cancelled (with the reason). */
function watched(taking: Promise<() => void>) {
  const state: { settled?: 'held' | 'cancelled'; free?: () => void; reason?: unknown } = {};
  taking.then(
    (free) => Object.assign(state, { settled: 'held', free }),
    (reason: unknown) => Object.assign(state, { settled: 'cancelled', reason }),
  );
  return state;
}

// Settling takes a few microtasks; one full turn covers them, with no timer involved.
const settle = () => nextTurn();

describe('slots', () => {
  it('hands slots out in arrival order, and a freed one to the next waiter', async () => {
    const slots = new Slots(1);
    const first = await slots.take();
    const second = watched(slots.take());
    const third = watched(slots.take());
    await settle();
    assert.equal(second.settled, undefined);
    first();
    first(); // a second call frees nothing more
    await settle();
    assert.equal(second.settled, 'held');
    assert.equal(third.settled, undefined);
    second.free!();
    await settle();
    assert.equal(third.settled, 'held');
    third.free!();
    assert.ok(slots.idle);
  });

  it('refuses every waiter at once and every later take, while the slots held stay held until freed', async () => {
    const slots = new Slots(1);
    const held = await slots.take();
    const waiters = [watched(slots.take()), watched(slots.take())];
    await settle();
    const reason = new Error('stopping');
    slots.refuseWaiting(reason);
    await settle();
    for (const w of waiters) assert.deepEqual([w.settled, w.reason], ['cancelled', reason]);
    await assert.rejects(slots.take(), (err) => err === reason);
    assert.equal(slots.idle, false, 'the held slot is still held');
    held();
    assert.ok(slots.idle);
  });

  it('ends a wait when its signal is aborted, holding nothing, and the slot freed later goes back to the pool', async () => {
    const slots = new Slots(1);
    const holder = await slots.take();
    const cancel = new AbortController();
    const waiter = watched(slots.take(cancel.signal));
    await settle();
    assert.equal(waiter.settled, undefined, 'waits while the slot is held');
    const reason = new Error('stopping');
    cancel.abort(reason);
    await settle();
    assert.equal(waiter.settled, 'cancelled', 'gives up while the slot is still held');
    assert.equal(waiter.reason, reason);
    holder();
    assert.ok(slots.idle, 'the cancelled waiter was not handed the slot');
    // The slot is free for the next taker at once.
    const next = watched(slots.take());
    await settle();
    assert.equal(next.settled, 'held');
  });

  it('passes a slot on when its waiter is cancelled in the turn the slot was handed to it', async () => {
    const slots = new Slots(1);
    const holder = await slots.take();
    const cancel = new AbortController();
    const cancelled = watched(slots.take(cancel.signal));
    const after = watched(slots.take());
    await settle();
    holder(); // hands the slot to the first waiter…
    cancel.abort(); // …which is cancelled before it could run
    await settle();
    assert.equal(cancelled.settled, 'cancelled');
    assert.equal(after.settled, 'held', 'the next waiter has the slot');
    after.free!();
    assert.ok(slots.idle, 'no slot leaked');

    // The same race with nobody behind: the slot goes back to the pool.
    const alone = await slots.take();
    const cancel2 = new AbortController();
    const last = watched(slots.take(cancel2.signal));
    await settle();
    alone();
    cancel2.abort();
    await settle();
    assert.equal(last.settled, 'cancelled');
    assert.ok(slots.idle, 'no slot leaked');
  });

  it('takes nothing for a signal already aborted, even with a slot free', async () => {
    const slots = new Slots(2);
    const taking = watched(slots.take(AbortSignal.abort()));
    await settle();
    assert.equal(taking.settled, 'cancelled');
    assert.ok(slots.idle);
  });

  it('cancels only the waiters whose signal is aborted, the others keeping their place', async () => {
    const slots = new Slots(2);
    const held = [await slots.take(), await slots.take()];
    const cancel = new AbortController();
    const waiters = [watched(slots.take()), watched(slots.take(cancel.signal)), watched(slots.take()), watched(slots.take(cancel.signal))];
    cancel.abort();
    await settle();
    assert.deepEqual(
      waiters.map((w) => w.settled),
      [undefined, 'cancelled', undefined, 'cancelled'],
    );
    for (const free of held) free();
    await settle();
    assert.deepEqual(
      waiters.map((w) => w.settled),
      ['held', 'cancelled', 'held', 'cancelled'],
    );
    for (const w of waiters) w.free?.();
    assert.ok(slots.idle);
  });
});
