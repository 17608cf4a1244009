import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import { FleetWalks, type FleetSelection, type WalkKey } from '../../src/http/fleet-walks.ts';

const selection = (n: number): FleetSelection => ({
  uptime_ratio: 1,
  items: Array.from({ length: n }, (_, i) => ({ node_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `n-${i}`, uptime_ratio: 1, at: i })),
  seconds: new Float64Array(n * 5).fill(60),
});

describe('FleetWalks', () => {
  it('keeps walks within their bounds: a walk too large is served but not kept, and evicts nothing', async () => {
    const clock = new ManualClock('2026-11-22T12:00:00.000Z');
    const loads: string[] = [];
    const sizes: Record<string, number> = { small: 2, other: 2, third: 2, huge: 3, ['x'.repeat(1000)]: 0 };
    const walks = new FleetWalks({
      clock,
      // A two-item walk counts 4: its items, the entry, its key of under 80 characters.
      maxItems: 8,
      maxWalkItems: 4,
      load: async (w: WalkKey) => {
        loads.push(w.labels![0]!.value);
        return selection(sizes[w.labels![0]!.value]!);
      },
    });
    const get = (value: string) => walks.get({ labels: [{ key: 'team', value }], window: { from: 0, to: 1 }, sort: 'name' });

    assert.equal((await get('small')).items.length, 2);
    assert.equal((await get('huge')).items.length, 3);
    await get('huge');
    await get('small');
    assert.deepEqual(loads, ['small', 'huge', 'huge'], 'the huge walk is loaded for each page; the small one kept');

    await get('other');
    await get('third'); // 12 asked for 8: the least recently used walk goes
    await get('other');
    await get('small');
    assert.deepEqual(loads.slice(3), ['other', 'third', 'small']);

    // A label that selects nothing still costs its length: a 1,000-character one is never kept.
    await get('x'.repeat(1000));
    await get('x'.repeat(1000));
    assert.equal(loads.filter((l) => l.length === 1000).length, 2);

    // Nothing is held past a minute.
    clock.advance(59_999);
    await get('other');
    clock.advance(2);
    await get('other');
    assert.deepEqual(loads.slice(8), ['other']);
  });

  it('answers a first page still loading when other walks push its entry out', async () => {
    let finish!: (s: FleetSelection) => void;
    const walks = new FleetWalks({
      clock: new ManualClock('2026-11-22T12:00:00.000Z'),
      maxItems: 8,
      maxWalkItems: 4,
      load: (w: WalkKey) => (w.labels![0]!.value === 'slow' ? new Promise<FleetSelection>((resolve) => (finish = resolve)) : Promise.resolve(selection(2))),
    });
    const get = (value: string) => walks.get({ labels: [{ key: 'team', value }], window: { from: 0, to: 1 }, sort: 'name' });
    const slow = get('slow');
    for (const other of ['a', 'b', 'c']) await get(other); // 12 asked for 8: the slow walk's entry goes
    finish(selection(2));
    assert.equal((await slow).items.length, 2);
  });

  it('forgets a walk on request', async () => {
    let loads = 0;
    const walks = new FleetWalks({ clock: new ManualClock('2026-11-22T12:00:00.000Z'), load: async () => (loads++, selection(1)) });
    const walk: WalkKey = { labels: undefined, window: { from: 0, to: 1 }, sort: 'name' };
    await walks.get(walk);
    walks.forget(walk);
    await walks.get(walk);
    assert.equal(loads, 2);
  });

  it('loads once for concurrent first pages of one walk', async () => {
    let loads = 0;
    const walks = new FleetWalks({ clock: new ManualClock('2026-11-22T12:00:00.000Z'), load: async () => (loads++, selection(1)) });
    const walk: WalkKey = { labels: undefined, window: { from: 0, to: 1 }, sort: 'worst' };
    await Promise.all([walks.get(walk), walks.get(walk), walks.get({ ...walk })]);
    assert.equal(loads, 1);
  });
});
