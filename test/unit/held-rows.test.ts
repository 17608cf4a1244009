import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeldRows } from '../../src/notifications/held-rows.ts';

describe('rows held by a notifier process', () => {
  it('takes groups only while their rows fit under the cap, and one more as each group’s worth of rows settles', () => {
    const held = new HeldRows(1024, 64, 256);
    assert.equal(held.concurrency, 16, 'sixteen groups of 64 before any size is known');
    for (let i = 0; i < 16; i++) held.started(64);
    assert.equal(held.concurrency, 16, 'no job beyond the 1,024 rows held');
    for (let i = 0; i < 63; i++) held.settled();
    assert.equal(held.concurrency, 16, '63 rows settled inside running jobs: still no room for a group');
    held.settled();
    assert.equal(held.concurrency, 17, 'a group’s worth settled: one more job, while its own job still runs');
    held.ended();
    assert.equal(held.concurrency, 16, 'the job that ended leaves its place to the one taken');
  });

  it('counts a job of one row as one row, up to the jobs bound', () => {
    const held = new HeldRows(1024, 64, 256);
    for (let i = 0; i < 200; i++) held.started(1);
    assert.equal(held.concurrency, 200 + Math.floor(824 / 64));
    for (let i = 0; i < 56; i++) held.started(1);
    assert.equal(held.concurrency, 256, 'never beyond the sends in flight');
  });

  it('keeps one job while rows exceed the cap, as BullMQ needs at least one', () => {
    const held = new HeldRows(64, 64, 16);
    assert.equal(held.concurrency, 1);
    held.started(64);
    assert.equal(held.concurrency, 1);
    held.settled();
    held.ended();
    assert.equal(held.concurrency, 1);
  });
});
