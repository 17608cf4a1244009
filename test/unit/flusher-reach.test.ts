import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sql } from '../../src/db/client.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { IngestFlusher } from '../../src/ingest/flusher.ts';
import { ManualClock } from '../helpers/clock.ts';
import { testLog } from '../helpers/log.ts';

const failure = (code: string) => Object.assign(new Error(code), { code });

/**
 * A flusher over a fake sql whose transactions fail with the queued errors, then commit (writing
 * nothing, no node recovering); the clock moves 250 ms (one default flush interval) per flush.
 */
function flusherFailing() {
  const clock = new ManualClock('2026-12-07T10:00:00.000Z');
  const buffer = new HeartbeatBuffer();
  const errors: Error[] = [];
  const sql = { begin: async () => { const err = errors.shift(); if (err) throw err; return { written: 0, recovering: [] }; } } as unknown as Sql;
  const flusher = new IngestFlusher({ sql, buffer, clock, log: testLog, gapMs: 5_000 });
  const flush = async (err?: Error) => {
    clock.advance(250);
    if (err) errors.push(err);
    await flusher.runOnce().catch((e: unknown) => assert.equal(e, err));
    return buffer.writable;
  };
  return { flush, clock };
}

describe('IngestFlusher: when the intake refuses heartbeats', () => {
  it('keeps taking them through one lost connection, and a deadlock after it', async () => {
    for (const code of ['57P01', 'ECONNRESET', 'EPIPE']) {
      const { flush } = flusherFailing();
      assert.equal(await flush(failure(code)), true, code);
      assert.equal(await flush(failure('40P01')), true, `${code} then a deadlock`);
      assert.equal(await flush(), true);
    }
  });

  it('never refuses for errors Postgres answers with', async () => {
    const { flush } = flusherFailing();
    for (const code of ['40P01', '57014', '22P02', '40P01', '57014']) assert.equal(await flush(failure(code)), true, code);
  });

  it('refuses after three connection failures in a row, and takes again once a flush reaches Postgres', async () => {
    const { flush } = flusherFailing();
    assert.equal(await flush(failure('ECONNREFUSED')), true);
    assert.equal(await flush(failure('ECONNREFUSED')), true);
    assert.equal(await flush(failure('ECONNREFUSED')), false);
    assert.equal(await flush(failure('40P01')), true, 'a deadlock is Postgres answering');
    assert.equal(await flush(failure('ECONNREFUSED')), true);
  });

  it('refuses when the last flush that reached Postgres is more than a second old', async () => {
    const { flush, clock } = flusherFailing();
    assert.equal(await flush(), true);
    clock.advance(10_000); // a connect that timed out (connect_timeout 10 s)
    assert.equal(await flush(failure('CONNECT_TIMEOUT')), false);
    assert.equal(await flush(), true);
  });
});

// A flush held by a lock keeps answering 202 and takes its batch with it: the buffer alone read 0
// while every heartbeat it took waited, and nothing said when a flush last committed.
describe('IngestFlusher: what it holds, for the metrics', () => {
  it('counts a held flush\'s batch as buffered, and moves the last flush only when one commits', async () => {
    const clock = new ManualClock('2026-12-07T10:00:00.000Z');
    const buffer = new HeartbeatBuffer();
    let commit: (() => void) | undefined;
    const sql = { begin: () => new Promise((resolve) => (commit = () => resolve({ written: 2, recovering: [], woken: 0 }))) } as unknown as Sql;
    const flusher = new IngestFlusher({ sql, buffer, clock, log: testLog, gapMs: 5_000 });
    const beat = (nodeId: string) => buffer.add({ nodeId, at: clock.now(), status: 'ok', checks: null, seq: null });
    beat('a');
    beat('b');
    clock.advance(250);
    const held = flusher.runOnce();
    beat('c');
    clock.advance(240_000);
    assert.deepEqual(flusher.state(), { buffered: 3, lastFlushAt: new Date('2026-12-07T10:00:00.000Z') });
    commit!();
    await held;
    assert.deepEqual(flusher.state(), { buffered: 1, lastFlushAt: new Date('2026-12-07T10:04:00.250Z') });
  });
});
