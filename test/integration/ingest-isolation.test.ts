import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { readCoverage } from '../../src/ingest/store.ts';
import { registerNodes } from '../../src/nodes/store.ts';
import type { Checks } from '../../src/health/decide.ts';
import { NODE_DEFAULTS } from '../../src/nodes/model.ts';
import { hashSecret } from '../../src/secrets.ts';
import { createHarness, expectInvalid, expectJson, type Harness } from '../helpers/app.ts';

const GOOD = 40;
const HEALTHY: Checks = { disk: { status: 'ok', message: 'fine' } };
// What Postgres refuses in a jsonb value: U+0000 (22P05) and an unpaired surrogate (22P02).
const REFUSED = {
  nul: { disk: { status: 'ok', message: 'a\u0000b' } },
  surrogate: { disk: { status: 'ok', message: '\ud800' } },
} satisfies Record<string, Checks>;

let h: Harness;
let good: string[];
let bad: Record<keyof typeof REFUSED, string>;

before(async () => {
  h = await createHarness();
  const names = [...Array.from({ length: GOOD }, (_, i) => `good-${i}`), 'bad-nul', 'bad-surrogate'];
  const { refs } = await registerNodes(h.sql, names, names.map((n) => hashSecret(`lln_${n}`)), NODE_DEFAULTS, h.clock.now());
  const id = (name: string) => refs.find((r) => r.name === name)!.id;
  good = names.slice(0, GOOD).map(id);
  bad = { nul: id('bad-nul'), surrogate: id('bad-surrogate') };
  await h.flush(); // coverage starts here
});

after(async () => {
  await h?.close();
});

beforeEach(async () => {
  await h.flush();
});

const beat = (nodeId: string, checks: Checks) => h.buffer.add({ nodeId, at: h.clock.now(), status: 'ok', checks, seq: null });

const rejectedRows = async (reason: string) =>
  (await h.metrics.ingestRowsRejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

/** Each node's stored last heartbeat time, in the order of `ids`. */
async function lastBeats(ids: string[]): Promise<(string | null)[]> {
  const rows = await h.sql<{ node_id: string; at: Date | null }[]>`
    select node_id, last_heartbeat_at as at from node_heartbeats where node_id = any(${ids}::uuid[])`;
  const at = new Map(rows.map((r) => [r.node_id, r.at?.toISOString() ?? null]));
  return ids.map((id) => at.get(id) ?? null);
}

const watermark = async () => (await readCoverage(h.sql, h.clock.now(), 60_000))!.seenAt.toISOString();

describe('a heartbeat row Postgres refuses, past the HTTP edge', () => {
  it('is set aside alone: every other node is stored and the watermark advances in the same flush', async () => {
    const at = h.clock.advance(1000).toISOString();
    // The refused rows sit among the good ones, not at an end of the batch.
    good.slice(0, 13).forEach((id) => beat(id, HEALTHY));
    beat(bad.nul, REFUSED.nul);
    good.slice(13, 29).forEach((id) => beat(id, HEALTHY));
    beat(bad.surrogate, REFUSED.surrogate);
    good.slice(29).forEach((id) => beat(id, HEALTHY));
    const counted = await rejectedRows('invalid_data');

    assert.equal(await h.flush(), GOOD);

    assert.deepEqual(await lastBeats(good), good.map(() => at), 'every good row is stored');
    assert.deepEqual(await lastBeats(Object.values(bad)), [null, null], 'neither refused row is stored');
    assert.equal(h.buffer.size, 0, 'the refused rows are not put back to fail the next flush');
    assert.equal(await watermark(), at);
    assert.equal(await rejectedRows('invalid_data'), counted + 2);

    // The next flush is a healthy one, and the refused nodes' next heartbeats count as usual.
    const next = h.clock.advance(1000).toISOString();
    [...good, ...Object.values(bad)].forEach((id) => beat(id, HEALTHY));
    assert.equal(await h.flush(), GOOD + 2);
    assert.deepEqual(await lastBeats([...good, ...Object.values(bad)]), [...good, ...Object.values(bad)].map(() => next));
    assert.equal(await watermark(), next);
    assert.equal(await rejectedRows('invalid_data'), counted + 2);
  });

  it('sets aside a batch made only of a refused row, so the watermark still advances', async () => {
    const at = h.clock.advance(1000).toISOString();
    beat(bad.nul, REFUSED.nul);
    const counted = await rejectedRows('invalid_data');
    assert.equal(await h.flush(), 0);
    assert.equal(h.buffer.size, 0);
    assert.equal(await watermark(), at);
    assert.equal(await rejectedRows('invalid_data'), counted + 1);
  });

  it('puts the whole batch back and sets nothing aside when the failure is not the rows’ fault', async () => {
    const before = await watermark();
    h.clock.advance(1000);
    good.forEach((id) => beat(id, HEALTHY));
    beat(bad.nul, REFUSED.nul);
    const counted = await rejectedRows('invalid_data');
    // Every row fails alike: the statement, not a row, is broken. Dropping the fleet's heartbeats
    // and advancing the watermark would claim they were stored.
    await h.sql`alter table node_heartbeats rename to node_heartbeats_hidden`;
    try {
      await assert.rejects(h.flush(), { code: '42P01' });
    } finally {
      await h.sql`alter table node_heartbeats_hidden rename to node_heartbeats`;
    }
    assert.equal(h.buffer.size, GOOD + 1, 'the batch is back in the buffer');
    assert.equal(await watermark(), before);
    assert.equal(await rejectedRows('invalid_data'), counted);

    const at = h.clock.now().toISOString();
    assert.equal(await h.flush(), GOOD, 'once the table is back the good rows go through and the bad one is set aside');
    assert.deepEqual(await lastBeats(good), good.map(() => at));
    assert.equal(await rejectedRows('invalid_data'), counted + 1);
  });
});

describe('a heartbeat Postgres would refuse, sent over HTTP', () => {
  it('is a 400 naming the field, and the other nodes’ heartbeats keep being stored', async () => {
    const a = await h.createNode('edge-a');
    const b = await h.createNode('edge-b');
    for (const checks of Object.values(REFUSED)) {
      const res = await h.req('POST', '/v1/heartbeats', { token: a.token, json: { checks } });
      await expectInvalid(res, ['checks.disk.message']);
      const batch = await h.req('POST', '/v1/heartbeats', { token: a.token, json: { heartbeats: [{ status: 'ok' }, { checks }] } });
      await expectInvalid(batch, ['heartbeats.1.checks.disk.message']);
    }
    assert.equal(h.buffer.size, 0, 'nothing of the refused requests was buffered');
    await expectJson(await h.req('POST', '/v1/heartbeats', { token: b.token, json: { checks: HEALTHY } }), 202);
    const at = h.clock.advance(1000).toISOString();
    await expectJson(await h.req('POST', '/v1/heartbeats', { token: b.token, json: { checks: HEALTHY } }), 202);

    assert.equal(await h.flush(), 1);
    assert.deepEqual(await lastBeats([a.id, b.id]), [null, at]);
    assert.equal(await watermark(), at);
  });
});

describe('pings whose runs Postgres refuses, in a flush that fails after them', () => {
  it('are counted once, by the flush that commits, not also by the one rolled back', async () => {
    const node = await h.createNode('cron-refused');
    h.buffer.addPing({ nodeId: node.id, at: h.clock.advance(1000), kind: 'failure', exitCode: null, output: null, rid: null });
    const counted = await rejectedRows('constraint');
    // Every run is refused (a broken rule: 23514), and the first flush fails at its commit after
    // setting the pings aside (a serialization failure, 40001), so it is rolled back and retried.
    await h.sql`alter table node_runs add constraint refuse_runs check (false) not valid`;
    await h.sql`create function fail_flush() returns trigger language plpgsql as $$ begin raise exception 'flush fails at commit' using errcode = '40001'; end $$`;
    await h.sql`create constraint trigger fail_flush after insert or update on ingest_presence deferrable initially deferred for each row execute function fail_flush()`;
    try {
      await assert.rejects(h.flush(), { code: '40001' });
    } finally {
      await h.sql`drop trigger fail_flush on ingest_presence`;
      await h.sql`drop function fail_flush()`;
    }
    assert.equal(h.buffer.size, 1, 'the ping is back in the buffer');
    assert.equal(await rejectedRows('constraint'), counted, 'a flush rolled back set nothing aside');
    try {
      await h.flush();
    } finally {
      await h.sql`alter table node_runs drop constraint refuse_runs`;
    }
    assert.equal(h.buffer.size, 0);
    assert.equal(await rejectedRows('constraint'), counted + 1);
  });
});
