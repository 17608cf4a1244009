import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { activeMaintenance, insertMaintenance, maintenanceExits, nextMaintenanceStart } from '../../src/maintenance/store.ts';
import { ADMIN_TOKEN, START, createHarness, expectError, expectInvalid, expectJson, type Harness } from '../helpers/app.ts';
import type { List as Page, Maintenance as WindowBody } from '../../src/api/shapes.ts';
import { holdOpen } from '../helpers/locks.ts';
import { until } from '../helpers/wait.ts';

let h: Harness;
let keys: Record<'write' | 'read' | 'ingest', string>;
const nodes: Record<string, string> = {};

before(async () => {
  h = await createHarness();
  keys = {
    write: (await h.createKey('write', 'maint-write')).secret,
    read: (await h.createKey('read', 'maint-read')).secret,
    ingest: (await h.createKey('ingest', 'maint-ingest')).secret,
  };
  const spec: Record<string, Record<string, string>> = {
    'web-1': { role: 'web', env: 'prod' },
    'web-2': { role: 'web', env: 'staging' },
    'db-1': { role: 'db', env: 'prod' },
    'lone-1': {},
  };
  for (const [name, labels] of Object.entries(spec)) nodes[name] = (await h.createNode(name, { labels })).id;
});

after(async () => {
  await h?.close();
});

const at = (offsetMs: number) => new Date(h.clock.now().getTime() + offsetMs);
const iso = (offsetMs: number) => at(offsetMs).toISOString();
const HOUR = 3_600_000;

interface Due {
  node_id: string;
  /** null = nothing due ('infinity', which JavaScript cannot hold as a Date). */
  due_at: Date | null;
  wake: number;
}

async function dueRows(): Promise<Map<string, Due>> {
  const rows = await h.sql<Due[]>`
    select node_id, case when due_at = 'infinity' then null else due_at end as due_at, wake::int as wake from node_due`;
  return new Map(rows.map((r) => [r.node_id, r]));
}

/** Puts every node back to "nothing due" so a wake-up shows as an exact due time. */
const settleDue = () => h.sql`update node_due set due_at = 'infinity'`;

/** h.rejected, plus: no node was woken. */
async function rejected(run: () => Promise<Response>): Promise<Response> {
  const before = await dueRows();
  const res = await h.rejected(run);
  assert.deepEqual(await dueRows(), before, 'a rejected request woke a node');
  return res;
}

/** The nodes whose wake counter moved, with their due time now. */
async function woken(before: Map<string, Due>): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  for (const [id, row] of await dueRows()) {
    if (row.wake !== before.get(id)!.wake) out.set(id, row.due_at?.toISOString());
  }
  return out;
}

const create = async (json: Record<string, unknown>) => expectJson<WindowBody>(await h.admin('POST', '/v1/maintenances', json), 201);

describe('creating windows', () => {
  it('creates a window by node names and ids, resolved to ids, and wakes those nodes at its start', async () => {
    await settleDue();
    const before = await dueRows();
    const w = await create({
      node_ids: ['web-1', nodes['db-1'], 'web-1'],
      starts_at: iso(HOUR),
      ends_at: iso(2 * HOUR),
      reason: 'kernel upgrade',
    });
    assert.deepEqual(w, {
      id: w.id,
      node_ids: [nodes['web-1'], nodes['db-1']],
      labels: {},
      starts_at: iso(HOUR),
      ends_at: iso(2 * HOUR),
      reason: 'kernel upgrade',
      time_zone: null,
      created_at: START,
      active: false,
    });
    assert.deepEqual(
      await woken(before),
      new Map([
        [nodes['web-1']!, iso(HOUR)],
        [nodes['db-1']!, iso(HOUR)],
      ]),
    );
    assert.deepEqual(await expectJson(await h.req('GET', `/v1/maintenances/${w.id}`, { token: keys.read }), 200), w);
  });

  it('creates a window by labels that wakes every matching node, open-ended and active at once', async () => {
    await settleDue();
    const before = await dueRows();
    const w = await create({ labels: { role: 'web' }, starts_at: iso(-60_000) });
    assert.equal(w.active, true);
    assert.equal(w.ends_at, null);
    assert.equal(w.reason, null);
    assert.deepEqual(w.node_ids, []);
    assert.deepEqual(
      await woken(before),
      new Map([
        [nodes['web-1']!, iso(-60_000)],
        [nodes['web-2']!, iso(-60_000)],
      ]),
    );
    await expectJson(await h.admin('DELETE', `/v1/maintenances/${w.id}`), 200);
  });

  it('starts a window now when starts_at is left out', async () => {
    await settleDue();
    const before = await dueRows();
    const w = await create({ node_ids: ['lone-1'], ends_at: iso(HOUR), reason: 'deploy' });
    assert.deepEqual([w.starts_at, w.ends_at, w.active], [iso(0), iso(HOUR), true]);
    assert.deepEqual(await woken(before), new Map([[nodes['lone-1']!, iso(0)]]));
    await expectJson(await h.admin('DELETE', `/v1/maintenances/${w.id}`), 200);
  });

  it('ends a window duration_seconds after its start, now by the engine clock, so a retried body with its key gets the first window', async () => {
    const w = await create({ node_ids: ['lone-1'], duration_seconds: 1800, reason: 'deploy' });
    assert.deepEqual([w.starts_at, w.ends_at, w.active], [iso(0), iso(30 * 60_000), true]);
    const later = await create({ node_ids: ['lone-1'], starts_at: iso(HOUR), duration_seconds: 60 });
    assert.deepEqual([later.starts_at, later.ends_at], [iso(HOUR), iso(HOUR + 60_000)]);

    // A deploy step retried a minute on: the same bytes under the same key name the first window.
    const json = { node_ids: ['lone-1'], duration_seconds: 1800, reason: 'deploy 4.2' };
    const send = () => h.req('POST', '/v1/maintenances', { token: ADMIN_TOKEN, json, headers: { 'idempotency-key': 'deploy-4.2-1' } });
    const first = await expectJson<WindowBody>(await send(), 201);
    h.clock.advance(60_000);
    const again = await send();
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await expectJson<WindowBody>(again, 201), first);
    for (const id of [w.id, later.id, first.id]) await expectJson(await h.admin('DELETE', `/v1/maintenances/${id}`), 200);
  });

  it('keeps the zone a window was typed in, only for showing it: the times stay the instants given', async () => {
    const w = await create({ node_ids: ['lone-1'], starts_at: iso(HOUR), ends_at: iso(2 * HOUR), time_zone: 'Europe/Berlin' });
    assert.deepEqual([w.starts_at, w.ends_at, w.time_zone], [iso(HOUR), iso(2 * HOUR), 'Europe/Berlin']);
    assert.equal((await expectJson<WindowBody>(await h.admin('GET', `/v1/maintenances/${w.id}`), 200)).time_zone, 'Europe/Berlin');
    await expectJson(await h.admin('DELETE', `/v1/maintenances/${w.id}`), 200);
    // Kept as Intl spells it, whatever the case or alias typed.
    for (const [typed, kept] of [['europe/berlin', 'Europe/Berlin'], ['etc/utc', 'UTC']] as const) {
      const z = await create({ node_ids: ['lone-1'], starts_at: iso(HOUR), ends_at: iso(2 * HOUR), time_zone: typed });
      assert.equal(z.time_zone, kept);
      await expectJson(await h.admin('DELETE', `/v1/maintenances/${z.id}`), 200);
    }
  });

  it('never pushes a due time back: a node already due sooner keeps its time', async () => {
    await settleDue();
    await h.sql`update node_due set due_at = ${at(1_000)} where node_id = ${nodes['lone-1']!}`;
    const before = await dueRows();
    const w = await create({ node_ids: ['lone-1'], starts_at: iso(HOUR) });
    assert.deepEqual(await woken(before), new Map([[nodes['lone-1']!, iso(1_000)]]));
    await expectJson(await h.admin('DELETE', `/v1/maintenances/${w.id}`), 200);
  });
});

describe('ending windows', () => {
  it('ends an active window now and wakes its nodes now', async () => {
    const w = await create({ node_ids: ['db-1'], labels: { env: 'staging' }, starts_at: iso(0) });
    h.clock.advance(10 * 60_000);
    await settleDue();
    const before = await dueRows();
    const ended = await expectJson<WindowBody>(await h.req('DELETE', `/v1/maintenances/${w.id}`, { token: keys.write }), 200);
    assert.equal(ended.ends_at, iso(0));
    assert.equal(ended.active, false);
    assert.deepEqual(
      await woken(before),
      new Map([
        [nodes['db-1']!, iso(0)],
        [nodes['web-2']!, iso(0)],
      ]),
    );
  });

  it('cancels a window that has not started: it ends where it starts', async () => {
    const w = await create({ node_ids: ['lone-1'], starts_at: iso(HOUR), ends_at: iso(3 * HOUR) });
    const ended = await expectJson<WindowBody>(await h.admin('DELETE', `/v1/maintenances/${w.id}`), 200);
    assert.equal(ended.ends_at, w.starts_at);
    assert.equal(ended.active, false);
    const next = await nextMaintenanceStart(h.sql, [nodes['lone-1']!], h.clock.now());
    assert.equal(next.has(nodes['lone-1']!), false, 'a cancelled window is never next');
  });

  it('leaves a window that already ended, or was cancelled, as it was: its nodes not woken again', async () => {
    const w = await create({ node_ids: ['lone-1'], starts_at: iso(0), ends_at: iso(60_000) });
    const c = await create({ node_ids: ['lone-1'], starts_at: iso(HOUR), ends_at: iso(2 * HOUR) });
    await expectJson(await h.admin('DELETE', `/v1/maintenances/${c.id}`), 200);
    h.clock.advance(5 * 60_000);
    const before = await dueRows();
    const ended = await expectJson<WindowBody>(await h.admin('DELETE', `/v1/maintenances/${w.id}`), 200);
    assert.equal(ended.ends_at, w.ends_at);
    assert.equal((await expectJson<WindowBody>(await h.admin('DELETE', `/v1/maintenances/${c.id}`), 200)).ends_at, c.starts_at);
    assert.deepEqual(await woken(before), new Map());
  });
  it('of two ends sent at once, ends the window once: one audit entry and one wake, both answered with its end', async () => {
    const w = await create({ node_ids: ['lone-1'], starts_at: iso(0) });
    h.clock.advance(60_000);
    const before = await dueRows();
    // Both requests reach the window's row while this transaction holds it; released, they race.
    const blocker = await holdOpen(h.db, (tx) => tx`select id from maintenances where id = ${w.id} for update`);
    const both = Promise.all([0, 1].map(() => h.admin('DELETE', `/v1/maintenances/${w.id}`)));
    await until('both ends to wait on the window', async () => {
      const [row] = await h.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike ${'%maintenances%'}`;
      return row!.n >= 2;
    });
    await blocker.release();
    const answers = await Promise.all((await both).map((r) => expectJson<WindowBody>(r, 200)));
    assert.deepEqual(answers.map((a) => [a.ends_at, a.active]), [[iso(0), false], [iso(0), false]]);
    const [audited] = await h.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'maintenance.end' and target_id = ${w.id}`;
    assert.equal(audited!.n, 1);
    assert.equal((await dueRows()).get(nodes['lone-1']!)!.wake, before.get(nodes['lone-1']!)!.wake + 1);
  });
});

describe('listing windows', () => {
  it('lists newest first across pages, and filters by active', async () => {
    await h.sql`delete from maintenances`;
    h.clock.advance(HOUR);
    const made: WindowBody[] = [];
    for (let i = 0; i < 3; i++) {
      made.push(await create({ node_ids: ['lone-1'], starts_at: iso(i === 1 ? HOUR : 0) }));
      h.clock.advance(1_000);
    }
    const all = (await h.sql<{ id: string }[]>`select id from maintenances order by created_at desc, id desc`).map((r) => r.id);
    assert.deepEqual(all.slice(0, 3), made.map((m) => m.id).reverse());
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/maintenances?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Page<WindowBody> = await expectJson<Page<WindowBody>>(await h.req('GET', path, { token: keys.read }), 200);
      seen.push(...page.items.map((m) => m.id));
      cursor = page.next_cursor;
      assert.ok(seen.length <= all.length, 'pagination must terminate');
    } while (cursor !== null);
    assert.deepEqual(seen, all);

    const active = await expectJson<Page<WindowBody>>(await h.admin('GET', '/v1/maintenances?active=true&limit=500'), 200);
    assert.deepEqual(active.items.map((m) => m.id), [made[2]!.id, made[0]!.id]);
    assert.ok(active.items.every((m) => m.active));
    const inactive = await expectJson<Page<WindowBody>>(await h.admin('GET', '/v1/maintenances?active=false&limit=500'), 200);
    assert.ok(inactive.items.some((m) => m.id === made[1]!.id));
    assert.ok(inactive.items.every((m) => !m.active));
    assert.equal(active.items.length + inactive.items.length, all.length);
    for (const m of made) await expectJson(await h.admin('DELETE', `/v1/maintenances/${m.id}`), 200);
  });
});

describe('activeMaintenance, nextMaintenanceStart and maintenanceExits', () => {
  it('answer by id and by labels, with open-ended, overlapping, past and cancelled windows', async () => {
    await h.sql`delete from maintenances`;
    const t0 = h.clock.now();
    const t = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
    const add = (w: { node_ids?: string[]; labels?: Record<string, string>; from: number; until: number | null }) =>
      insertMaintenance(h.sql, { node_ids: w.node_ids ?? [], labels: w.labels ?? {}, starts_at: t(w.from), ends_at: w.until === null ? null : t(w.until), reason: null }, t0);
    const web1 = nodes['web-1']!;
    const web2 = nodes['web-2']!;
    const db1 = nodes['db-1']!;
    const lone = nodes['lone-1']!;

    await add({ node_ids: [web1], from: -30, until: 30 }); // covers web-1 now
    await add({ labels: { role: 'web' }, from: -10, until: 60 }); // web-1 and web-2 now
    await add({ labels: { role: 'web', env: 'prod' }, from: 20, until: 40 }); // web-1, later
    await add({ node_ids: [db1], from: -120, until: -60 }); // db-1, past
    await add({ node_ids: [db1], from: 90, until: 90 }); // db-1, cancelled before it began
    await add({ node_ids: [db1], from: 120, until: null }); // db-1, later and open-ended
    await add({ labels: { env: 'prod' }, from: -5, until: null }); // web-1 and db-1 now, open-ended
    await add({ labels: { env: 'nowhere' }, from: -5, until: null }); // matches nobody

    const ids = [web1, web2, db1, lone, '00000000-0000-4000-8000-0000000000ff'];
    const active = await activeMaintenance(h.sql, ids, t0);
    assert.deepEqual(
      active,
      new Map([
        [web1, { from: t(-30), until: null }],
        [web2, { from: t(-10), until: t(60) }],
        [db1, { from: t(-5), until: null }],
      ]),
    );
    const next = await nextMaintenanceStart(h.sql, ids, t0);
    assert.deepEqual(
      next,
      new Map([
        [web1, t(20)],
        [db1, t(120)],
      ]),
    );

    // An hour and a half later: only the open-ended prod window and db-1's own are left.
    const later = t(130);
    assert.deepEqual(
      await activeMaintenance(h.sql, ids, later),
      new Map([
        [web1, { from: t(-5), until: null }],
        [db1, { from: t(-5), until: null }],
      ]),
    );
    assert.deepEqual(await nextMaintenanceStart(h.sql, ids, later), new Map());

    // A window's end is exclusive and its start inclusive.
    assert.deepEqual((await activeMaintenance(h.sql, [web2], t(60))).get(web2), undefined);
    assert.deepEqual((await activeMaintenance(h.sql, [web2], t(-10))).get(web2), { from: t(-10), until: t(60) });

    // Only the nodes asked about are answered, and a batch the evaluator's size takes one query.
    assert.deepEqual(await activeMaintenance(h.sql, [lone], t0), new Map());
    assert.deepEqual(await activeMaintenance(h.sql, [], t0), new Map());
    const batch = [...Array.from({ length: 4_996 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`), web1, web2, db1, lone];
    assert.equal((await activeMaintenance(h.sql, batch, t0)).size, 3);
    assert.equal((await nextMaintenanceStart(h.sql, batch, t0)).size, 2);

    // When each node can have left maintenance, by `now`: the last end of a window that covered it
    // (web-1's own at 30, then the web window's at 60; db-1's past window, not the cancelled one,
    // which never covered it, nor the open-ended ones), or its last edit when that is later.
    const edited = new Map((await h.sql<{ id: string; updated_at: Date }[]>`select id, updated_at from nodes`).map((r) => [r.id, r.updated_at]));
    const orEdit = (a: Date, id: string) => (edited.get(id)! > a ? edited.get(id)! : a);
    assert.deepEqual(
      await maintenanceExits(h.sql, ids, t(100)),
      new Map([[web1, orEdit(t(60), web1)], [web2, orEdit(t(60), web2)], [db1, orEdit(t(-60), db1)], [lone, edited.get(lone)!]]),
    );
    assert.deepEqual((await maintenanceExits(h.sql, [web1, web2], t(45))).get(web1), orEdit(t(40), web1));
    // A node edited after its window ended (its labels moved it out of one still open, say).
    await h.sql`update nodes set updated_at = ${t(70)} where id = ${db1}`;
    assert.deepEqual((await maintenanceExits(h.sql, [db1], t(100))).get(db1), t(70));
    await h.sql`delete from maintenances`;
  });
});

describe('bad requests change nothing', () => {
  let existing: WindowBody;
  before(async () => {
    existing = await create({ node_ids: ['lone-1'], starts_at: iso(HOUR) });
  });

  const good = () => ({ node_ids: ['web-1'], starts_at: iso(HOUR) });
  const routes = () => [
    { method: 'POST', path: '/v1/maintenances', json: good(), scope: 'write' },
    { method: 'GET', path: '/v1/maintenances', scope: 'read' },
    { method: 'GET', path: `/v1/maintenances/${existing.id}`, scope: 'read' },
    { method: 'DELETE', path: `/v1/maintenances/${existing.id}`, scope: 'write' },
  ];

  it('401 without a valid secret and 403 without the scope, on every route', async () => {
    const node = await h.createNode('maint-node');
    for (const r of routes()) {
      await expectError(await rejected(() => h.req(r.method, r.path, { json: r.json })), 401, 'unauthorized');
      if (r.scope === 'write') await expectError(await rejected(() => h.req(r.method, r.path, { json: r.json, token: keys.read })), 403, 'forbidden');
      await expectError(await rejected(() => h.req(r.method, r.path, { json: r.json, token: keys.ingest })), 403, 'forbidden');
      await expectError(await rejected(() => h.req(r.method, r.path, { json: r.json, token: node.token })), 403, 'forbidden');
    }
  });

  it('404 for an unknown or malformed id', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'tuesday']) {
      await expectError(await rejected(() => h.admin('GET', `/v1/maintenances/${id}`)), 404, 'not_found');
      await expectError(await rejected(() => h.admin('DELETE', `/v1/maintenances/${id}`)), 404, 'not_found');
    }
  });

  it('415 and invalid_json on create', async () => {
    const text = JSON.stringify(good());
    await expectError(
      await rejected(() => h.req('POST', '/v1/maintenances', { token: ADMIN_TOKEN, body: text, headers: { 'content-type': 'text/plain' } })),
      415,
      'unsupported_media_type',
    );
    for (const body of [text.slice(0, -1), '', 'null,']) {
      await expectError(
        await rejected(() => h.req('POST', '/v1/maintenances', { token: ADMIN_TOKEN, body, headers: { 'content-type': 'application/json' } })),
        400,
        'invalid_json',
      );
    }
  });

  it('400 naming each bad field', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{}, ['node_ids', 'labels']],
      [{ node_ids: ['web-1'], ends_at: iso(-60_000) }, ['ends_at']],
      [{ starts_at: iso(0) }, ['node_ids', 'labels']],
      [{ node_ids: [], labels: {}, starts_at: iso(0) }, ['node_ids', 'labels']],
      [{ node_ids: ['web-1', 'db-1', 'no-such-node', nodes['web-2'], '00000000-0000-4000-8000-000000000000'], starts_at: iso(0) }, ['node_ids.2', 'node_ids.4']],
      [{ node_ids: ['web 1'], starts_at: iso(0) }, ['node_ids.0']],
      [{ node_ids: 'web-1', starts_at: iso(0) }, ['node_ids']],
      [{ labels: { 'bad key!': 'x' }, starts_at: iso(0) }, ['labels.bad key!']],
      [{ labels: { role: 1 }, starts_at: iso(0) }, ['labels.role']],
      [{ labels: ['role'], starts_at: iso(0) }, ['labels']],
      [{ ...good(), starts_at: '2026-11-21 10:00' }, ['starts_at']],
      [{ ...good(), starts_at: '2026-02-30T10:00:00Z' }, ['starts_at']],
      [{ ...good(), starts_at: 1763719200000 }, ['starts_at']],
      [{ ...good(), ends_at: iso(HOUR) }, ['ends_at']],
      [{ ...good(), ends_at: iso(30 * 60_000) }, ['ends_at']],
      [{ ...good(), starts_at: iso(-2 * HOUR), ends_at: iso(-HOUR) }, ['ends_at']],
      [{ labels: {}, starts_at: iso(0), ends_at: iso(-HOUR), node_ids: ['nope'] }, ['ends_at', 'node_ids.0']],
      [{ ...good(), reason: 7 }, ['reason']],
      [{ ...good(), reason: 'x'.repeat(1025) }, ['reason']],
      [{ ...good(), until: iso(2 * HOUR) }, ['until']],
      [{ ...good(), time_zone: 'Europe/Atlantis' }, ['time_zone']],
      [{ ...good(), ends_at: iso(2 * HOUR), duration_seconds: 60 }, ['duration_seconds']],
      [{ ...good(), ends_at: null, duration_seconds: 60 }, ['duration_seconds']],
      [{ ...good(), duration_seconds: 0 }, ['duration_seconds']],
      [{ ...good(), duration_seconds: 1.5 }, ['duration_seconds']],
      [{ ...good(), duration_seconds: '30m' }, ['duration_seconds']],
      [{ ...good(), duration_seconds: 315_576_000_001 }, ['duration_seconds']],
      [{ ...good(), starts_at: iso(-2 * HOUR), duration_seconds: 3600 }, ['duration_seconds']],
      [{ ...good(), starts_at: '9999-12-31T00:00:00.000Z', duration_seconds: 86_400 }, ['duration_seconds']],
    ];
    for (const [json, fields] of cases) {
      await expectInvalid(await rejected(() => h.admin('POST', '/v1/maintenances', json)), fields);
    }
    await expectInvalid(await rejected(() => h.admin('GET', '/v1/maintenances?active=yes')), ['active']);
    await expectInvalid(await rejected(() => h.admin('GET', '/v1/maintenances?cursor=WzFd')), ['cursor']);
  });
});
