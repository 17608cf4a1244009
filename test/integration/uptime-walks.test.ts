import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FleetUptime } from '../../src/api/shapes.ts';
import type { Sql } from '../../src/db/client.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { ADMIN_TOKEN, buildApp, createHarness, expectInvalid, send, type App, type Harness } from '../helpers/app.ts';

// Walking GET /v1/uptime page by page: later pages answer over the first page's window (carried in
// the cursor) from the selection the first page computed, on this process or, computed afresh,
// on another.

const HOUR = 3_600_000;
const T0 = '2026-11-22T12:00:00.000Z';
const enc = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

describe('fleet uptime walks', () => {
  let h: Harness;

  before(async () => {
    h = await createHarness();
    h.clock.set(new Date(Date.parse(T0) - 3 * HOUR));
    const nodes = [];
    for (const name of ['walk-a', 'walk-b', 'walk-c', 'walk-d', 'walk-e']) nodes.push(await h.createNode(name, { labels: { walk: 'yes' } }));
    await h.createNode('other-x');
    // Different ratios, so worst first is an order of its own: node i healthy from creation
    // and down for the last i × 20 minutes before T0.
    const created = Date.parse(T0) - 3 * HOUR;
    for (const [i, n] of nodes.entries()) {
      await h.sql`insert into node_state_log (node_id, state_version, from_state, to_state, at, reason)
                  values (${n.id}, 1, 'unknown', 'healthy', ${new Date(created)}, 'test'),
                         (${n.id}, 2, 'healthy', 'down', ${new Date(Date.parse(T0) - i * 20 * 60_000 - 1)}, 'test')`;
    }
    h.clock.set(T0);
  });

  after(() => h.close());

  /** Another api process on the same database, counting the fleet reports it computes. */
  function otherProcess(): { app: App; reports: () => number } {
    let reports = 0;
    const sql = new Proxy(h.sql, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'begin') return value;
        return (...args: unknown[]) => {
          // One report is one repeatable-read snapshot.
          if (typeof args[0] === 'string' && args[0].includes('repeatable read')) reports += 1;
          return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        };
      },
    }) as Sql;
    const { app } = buildApp({ sql, clock: h.clock, buffer: new HeartbeatBuffer() });
    return { app, reports: () => reports };
  }

  async function fleet(path: string, app?: App): Promise<FleetUptime> {
    const res = app ? await send(app, 'GET', path, { token: ADMIN_TOKEN }) : await h.req('GET', path, { token: ADMIN_TOKEN });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as FleetUptime;
  }

  /** Every page of a walk from `first`, each answered by `app`. */
  async function rest(base: string, first: FleetUptime, app?: App): Promise<FleetUptime[]> {
    const pages = [];
    for (let cursor = first.next_cursor; cursor; ) {
      const next = await fleet(`${base}&cursor=${cursor}`, app);
      pages.push(next);
      cursor = next.next_cursor;
    }
    return pages;
  }

  it('answers later pages over the first page window after the clock moved, here or on another process', async () => {
    h.clock.set(T0);
    for (const sort of ['name', 'worst']) {
      const base = `/v1/uptime?window=24h&label=walk:yes&sort=${sort}&limit=2`;
      const first = await fleet(base);
      assert.equal(first.to, T0);
      h.clock.advance(10 * 60_000);
      const here = await rest(base, first);
      for (const p of [first, ...here]) {
        assert.deepEqual([p.from, p.to], ['2026-11-21T12:00:00.000Z', T0], sort);
        assert.equal(p.uptime_ratio, first.uptime_ratio);
      }
      const other = otherProcess();
      const there = await rest(base, first, other.app);
      assert.deepEqual(there, here, 'another process answers the same pages');
      assert.equal(other.reports(), 1, 'computed once there, for the walk, not per page');
      // The same window asked outright, all at once: the walk's items, the same figures.
      const whole = await fleet(`/v1/uptime?from=${first.from}&to=${first.to}&label=walk:yes&sort=${sort}&limit=10`);
      assert.deepEqual([first, ...here].flatMap((p) => p.items), whole.items);
      assert.equal(whole.uptime_ratio, first.uptime_ratio);
      if (sort === 'worst') assert.deepEqual(whole.items.map((i) => i.name), ['walk-e', 'walk-d', 'walk-c', 'walk-b', 'walk-a']);
      h.clock.set(T0);
    }
  });

  it('computes a walk once and keeps it for a minute of the engine clock', async () => {
    h.clock.set(T0);
    const p = otherProcess();
    const base = '/v1/uptime?window=24h&sort=name&limit=2';
    const first = await fleet(base, p.app);
    const second = await fleet(`${base}&cursor=${first.next_cursor}`, p.app);
    assert.equal(p.reports(), 1);
    // A different label is a different selection.
    await fleet(`${base}&label=walk:yes`, p.app);
    assert.equal(p.reports(), 2);
    h.clock.advance(61_000);
    const again = await fleet(`${base}&cursor=${first.next_cursor}`, p.app);
    assert.equal(p.reports(), 3, 'expired after a minute, computed afresh');
    assert.deepEqual(again, second);
    // A walk whose first page is its last is not kept: no cursor will come for it.
    await fleet('/v1/uptime?window=24h&sort=name&limit=500', p.app);
    await fleet('/v1/uptime?window=24h&sort=name&limit=500', p.app);
    assert.equal(p.reports(), 5);
  });

  it('takes a cursor whose window ends a little after this clock (issued on another host)', async () => {
    h.clock.set(T0);
    const from = '2026-11-22T09:00:00.000Z';
    const ahead = '2026-11-22T12:00:02.000Z';
    const page = await fleet(`/v1/uptime?sort=name&label=walk:yes&cursor=${enc([from, ahead, 'walk-c'])}`);
    assert.deepEqual([page.from, page.to, page.items.map((i) => i.name)], [from, ahead, ['walk-d', 'walk-e']]);
  });

  it('takes a cursor window as issued, and refuses a tampered or malformed one', async () => {
    h.clock.set(T0);
    const from = '2026-11-22T09:00:00.000Z';
    const ok = await fleet(`/v1/uptime?sort=name&label=walk:yes&cursor=${enc([from, '2026-11-22T11:00:00.000Z', 'walk-c'])}`);
    assert.deepEqual([ok.from, ok.to, ok.items.map((i) => i.name)], [from, '2026-11-22T11:00:00.000Z', ['walk-d', 'walk-e']]);
    const worst = await fleet(`/v1/uptime?sort=worst&cursor=${enc([from, T0, [0.5, 'walk-a']])}`);
    assert.deepEqual([worst.from, worst.to], [from, T0]);

    const bad: unknown[] = [
      [from, '2026-11-22T12:05:00.001Z', 'walk-c'], // ends more than 5 min after now
      ['2026-11-22T11:00:00.000Z', from, 'walk-c'], // from after to
      ['2023-01-01T00:00:00.000Z', T0, 'walk-c'], // over 3 × 366 days
      ['2026-11-22T09:00:00Z', T0, 'walk-c'], // not a time this server writes
      [from, T0, ['0.5', 'walk-a']], // a worst key under sort=name, and not one either
      [from, T0], // no key
      'walk-c', // the old shape: a key alone
      [from, T0, 'walk-\u0000'],
    ];
    for (const cursor of bad) await expectInvalid(await h.req('GET', `/v1/uptime?sort=name&cursor=${enc(cursor)}`, { token: ADMIN_TOKEN }), ['cursor']);
    await expectInvalid(await h.req('GET', `/v1/uptime?sort=worst&cursor=${enc([from, T0, 'walk-c'])}`, { token: ADMIN_TOKEN }), ['cursor']);
    await expectInvalid(await h.req('GET', '/v1/uptime?cursor=%7B%7D', { token: ADMIN_TOKEN }), ['cursor']);
  });
});
