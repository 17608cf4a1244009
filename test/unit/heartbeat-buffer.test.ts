import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import type { Heartbeat } from '../../src/ingest/model.ts';

const hb = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  nodeId: 'n1',
  at: new Date('2026-11-21T10:00:00.000Z'),
  status: 'ok',
  checks: null,
  seq: null,
  ...over,
});

describe('HeartbeatBuffer', () => {
  it('coalesces a node to one entry carrying the latest report and the counts', () => {
    const b = new HeartbeatBuffer();
    b.add(hb({ at: new Date('2026-11-21T10:00:01.000Z') }));
    b.add(hb({ at: new Date('2026-11-21T10:00:02.000Z'), status: 'degraded' }));
    b.add(hb({ at: new Date('2026-11-21T10:00:03.000Z') }));
    const [entry, ...rest] = b.take();
    assert.equal(rest.length, 0);
    assert.equal(entry!.at.toISOString(), '2026-11-21T10:00:03.000Z');
    assert.equal(entry!.status, 'ok');
    assert.equal(entry!.count, 3);
    assert.equal(entry!.okRun, 1, 'the degraded report broke the run');
    assert.equal(entry!.reset, true);
    assert.equal(b.size, 0);
  });

  it('extends the stored streak when every buffered report was ok', () => {
    const b = new HeartbeatBuffer();
    b.add(hb());
    b.add(hb());
    const [entry] = b.take();
    assert.deepEqual([entry!.okRun, entry!.reset, entry!.failure], [2, false, null]);
  });

  it('keeps the first failure a later report replaced, beside the latest report', () => {
    const b = new HeartbeatBuffer();
    b.add(hb({ at: new Date('2026-11-21T10:00:00.100Z') }));
    b.add(hb({ at: new Date('2026-11-21T10:00:00.200Z'), status: 'failing' }));
    b.add(hb({ at: new Date('2026-11-21T10:00:00.300Z'), status: 'degraded', checks: { disk: { status: 'warn' } } }));
    b.add(hb({ at: new Date('2026-11-21T10:00:00.400Z') }));
    const [entry] = b.take();
    assert.deepEqual(entry!.failure, { at: new Date('2026-11-21T10:00:00.200Z'), status: 'failing', checks: null });
    assert.deepEqual([entry!.at.toISOString(), entry!.status, entry!.okRun, entry!.reset], ['2026-11-21T10:00:00.400Z', 'ok', 1, true]);
  });

  it('keeps the worst failure a later report replaced, the first among equals', () => {
    const t = (ms: number) => new Date(`2026-11-21T10:00:00.${ms}Z`);
    const kept = (...reports: Partial<Heartbeat>[]) => {
      const b = new HeartbeatBuffer();
      for (const r of reports) b.add(hb(r));
      b.add(hb({ at: t(900) }));
      return b.take()[0]!.failure;
    };
    const warn = { disk: { status: 'warn' as const } };
    assert.deepEqual(kept({ at: t(100), status: 'degraded' }, { at: t(200), status: 'failing' }), { at: t(200), status: 'failing', checks: null }, 'the down is paged');
    assert.deepEqual(kept({ at: t(100), checks: warn }, { at: t(200), status: 'degraded' }, { at: t(300), status: 'failing' }), { at: t(300), status: 'failing', checks: null });
    assert.deepEqual(kept({ at: t(100), checks: warn }, { at: t(200), status: 'degraded' }), { at: t(200), status: 'degraded', checks: null });
    assert.deepEqual(kept({ at: t(100), status: 'failing' }, { at: t(200), status: 'failing' }), { at: t(100), status: 'failing', checks: null });
    assert.deepEqual(kept({ at: t(100), status: 'failing' }, { at: t(200), status: 'degraded' }), { at: t(100), status: 'failing', checks: null });
  });

  it('keeps the worst failure when restoring a batch', () => {
    const b = new HeartbeatBuffer();
    b.add(hb({ status: 'degraded' }));
    const failed = b.take();
    b.add(hb({ at: new Date('2026-11-21T10:00:05.000Z'), status: 'failing' }));
    b.add(hb({ at: new Date('2026-11-21T10:00:06.000Z') }));
    b.restore(failed);
    assert.deepEqual(b.take()[0]!.failure, { at: new Date('2026-11-21T10:00:05.000Z'), status: 'failing', checks: null });
  });

  it('gives the failure the last flush stored as latest to the next flush when its reports are ok', () => {
    const b = new HeartbeatBuffer();
    b.add(hb({ status: 'failing' }));
    b.add(hb({ nodeId: 'n2', status: 'failing' }));
    b.take();
    b.add(hb({ at: new Date('2026-11-21T10:00:00.300Z') }));
    b.add(hb({ nodeId: 'n2', at: new Date('2026-11-21T10:00:00.300Z'), status: 'degraded' }));
    const byNode = new Map(b.take().map((e) => [e.nodeId, e]));
    assert.deepEqual(byNode.get('n1')!.failure, { at: new Date('2026-11-21T10:00:00.000Z'), status: 'failing', checks: null });
    assert.equal(byNode.get('n2')!.failure, null, 'a non-ok report is stored and judged as the latest');
    b.add(hb({ at: new Date('2026-11-21T10:00:00.600Z') }));
    assert.equal(b.take()[0]!.failure, null, 'only the flush right after');
  });

  it('carries a failure on into the flushes of the nodes the store says are still recovering, until one says otherwise', () => {
    const b = new HeartbeatBuffer();
    const failing = { at: new Date('2026-11-21T10:00:00.000Z'), status: 'failing', checks: null };
    b.add(hb({ status: 'failing' }));
    b.take();
    const next = (ms: number) => {
      b.add(hb({ at: new Date(Date.parse('2026-11-21T10:00:00.000Z') + ms) }));
      return b.take();
    };
    const second = next(300);
    b.carryOn(second, ['n1'], new Date('2026-11-21T10:00:00.400Z'));
    // A flush without the node keeps it carried; the node's next flush carries the failure.
    assert.deepEqual(b.take(), []);
    const third = next(600);
    assert.deepEqual(third[0]!.failure, failing);
    b.carryOn(third, [], new Date('2026-11-21T10:00:00.700Z'));
    assert.equal(next(900)[0]!.failure, null, 'the streak met: carried no further');
  });

  it('keeps carrying the failure when a report arrives while the flush that carries it is committing', () => {
    const b = new HeartbeatBuffer();
    const failing = { at: new Date('2026-11-21T10:00:00.000Z'), status: 'failing', checks: null };
    const at = (ms: number) => new Date(Date.parse('2026-11-21T10:00:00.000Z') + ms);
    b.add(hb({ status: 'failing' }));
    b.add(hb({ at: at(100) }));
    const first = b.take();
    b.carryOn(first, ['n1'], at(250));
    b.add(hb({ at: at(300) }));
    const second = b.take();
    assert.deepEqual(second[0]!.failure, failing);
    // Heard while the second flush commits: before the store names the node as still recovering.
    b.add(hb({ at: at(400) }));
    b.carryOn(second, ['n1'], at(500));
    assert.deepEqual(b.take()[0]!.failure, failing, 'the third flush still carries the failure');
  });

  it('forgets a kept failure once its node has been silent longer than any interval and grace allow', () => {
    const b = new HeartbeatBuffer();
    const at = (ms: number) => new Date(Date.parse('2026-11-21T10:00:00.000Z') + ms);
    const failing = { at: at(0), status: 'failing', checks: null };
    for (const nodeId of ['n1', 'n2']) {
      b.add(hb({ nodeId, status: 'failing' }));
      b.add(hb({ nodeId, at: at(100) }));
    }
    b.carryOn(b.take(), ['n1', 'n2'], at(250));
    // n2 goes on reporting, still short of its streak; n1 falls silent (its host scaled away).
    const day = 86_400_000;
    for (const ms of [day, 2 * day, 2 * day + 1000]) {
      b.add(hb({ nodeId: 'n2', at: at(ms) }));
      b.carryOn(b.take(), ['n2'], at(ms + 250));
    }
    b.add(hb({ at: at(2 * day + 2000) }));
    b.add(hb({ nodeId: 'n2', at: at(2 * day + 2000) }));
    const byNode = new Map(b.take().map((e) => [e.nodeId, e]));
    assert.equal(byNode.get('n1')!.failure, null, 'n1 silent for over two days: no longer kept');
    assert.deepEqual(byNode.get('n2')!.failure, failing, 'n2 reported all along: still carried');
  });

  it('forgets the kept failure of a deleted node', () => {
    const b = new HeartbeatBuffer();
    b.add(hb({ status: 'failing' }));
    b.add(hb({ at: new Date('2026-11-21T10:00:00.100Z') }));
    b.carryOn(b.take(), ['n1'], new Date('2026-11-21T10:00:00.250Z'));
    b.forget('n1');
    b.add(hb({ at: new Date('2026-11-21T10:00:00.300Z') }));
    assert.equal(b.take()[0]!.failure, null);
  });

  it('keeps no failure when the only one is the latest report', () => {
    const b = new HeartbeatBuffer();
    b.add(hb());
    b.add(hb({ status: 'failing' }));
    const [entry] = b.take();
    assert.deepEqual([entry!.status, entry!.failure], ['failing', null]);
  });

  it('counts a warn check as not ok', () => {
    const b = new HeartbeatBuffer();
    b.add(hb({ checks: { disk: { status: 'warn' } } }));
    const [entry] = b.take();
    assert.deepEqual([entry!.okRun, entry!.reset], [0, true]);
  });

  it('ignores a seq not above the buffered one', () => {
    const b = new HeartbeatBuffer();
    assert.equal(b.add(hb({ seq: 5 })), true);
    assert.equal(b.add(hb({ seq: 4, status: 'failing' })), false);
    assert.equal(b.add(hb({ seq: 5 })), false);
    assert.equal(b.add(hb({ seq: 6 })), true);
    const [entry] = b.take();
    assert.deepEqual([entry!.seq, entry!.count, entry!.status], [6, 2, 'ok']);
  });

  it('restores a failed batch under newer arrivals without losing counts', () => {
    const b = new HeartbeatBuffer();
    b.add(hb({ status: 'failing' }));
    const failed = b.take();
    b.add(hb({ at: new Date('2026-11-21T10:00:05.000Z') }));
    b.add(hb({ nodeId: 'n2' }));
    b.restore(failed);
    const byNode = new Map(b.take().map((e) => [e.nodeId, e]));
    const n1 = byNode.get('n1')!;
    assert.equal(n1.at.toISOString(), '2026-11-21T10:00:05.000Z', 'the newer report wins');
    assert.equal(n1.count, 2);
    assert.equal(n1.reset, true, 'the failing report is not forgotten');
    assert.equal(n1.okRun, 1);
    assert.deepEqual(n1.failure, { at: new Date('2026-11-21T10:00:00.000Z'), status: 'failing', checks: null }, 'the newer report replaced it');
    assert.equal(byNode.get('n2')!.count, 1);
  });
});
