import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, createHarness, expectError, expectInvalid, type Harness } from '../helpers/app.ts';

// Cost is bounded before work: a body's shape and counts are checked before its items, and no
// answer names more than 20 fields, whatever the body holds. Time itself is measured in
// `npm run bench`; here the proof is what was (not) looked at and how much was answered.

let h: Harness;
let node: { id: string; token: string };
let ingestKey: string;

before(async () => {
  h = await createHarness();
  node = await h.createNode('bounded-cost');
  ingestKey = (await h.createKey('ingest')).secret;
});

after(async () => {
  await h?.close();
});

const JSON_TYPE = { 'content-type': 'application/json' };
// Just under 1 MiB of one-character items: 500,000 things to look at if items came first.
const ITEMS = 500_000;
const manyOnes = `{"heartbeats":[${Array<string>(ITEMS).fill('1').join(',')}]}`;

async function refused(method: string, path: string, body: string, token = ADMIN_TOKEN) {
  const res = await h.rejected(() => h.req(method, path, { token, body, headers: JSON_TYPE }));
  const text = await res.clone().text();
  // The answer to a 1 MiB body stays the size of any other refusal.
  assert.ok(text.length < 4096, `an answer of ${text.length} characters`);
  return res;
}

describe('shape and counts before items', () => {
  it('refuses a batch of 500,000 items by its count alone', async () => {
    assert.ok(manyOnes.length < 1024 * 1024);
    const err = await expectInvalid(await refused('POST', '/v1/heartbeats', manyOnes, node.token), ['heartbeats']);
    assert.equal(err.details!.length, 1);
    assert.match(err.details![0]!.message, /at most 1000/);
  });

  it('refuses 50,000 checks, labels or node ids by their count, not member by member', async () => {
    const checks = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`c${i}`, 1]));
    await expectInvalid(await refused('POST', '/v1/heartbeats', JSON.stringify({ checks }), node.token), ['checks']);
    const labels = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 1]));
    await expectInvalid(await refused('POST', '/v1/nodes', JSON.stringify({ name: 'never', labels })), ['labels']);
    const node_ids = Array<number>(200_000).fill(1);
    await expectInvalid(await refused('POST', '/v1/maintenances', JSON.stringify({ node_ids, starts_at: '2026-11-21T10:00:00.000Z' })), ['node_ids']);
    const to = Array<number>(200_000).fill(1);
    await expectInvalid(await refused('POST', '/v1/channels', JSON.stringify({ name: 'x', type: 'email', config: { to } })), ['config.to']);
  });
});

describe('at most 20 details', () => {
  it('names 20 of 1000 bad batch items', async () => {
    const heartbeats = Array.from({ length: 1000 }, () => ({ status: 'bad', seq: -1 }));
    const err = await expectError(await refused('POST', '/v1/heartbeats', JSON.stringify({ heartbeats }), node.token), 400, 'validation_failed');
    assert.equal(err.details!.length, 20);
  });

  it('names 20 of 1000 batch items without a node from an ingest key', async () => {
    const heartbeats = Array.from({ length: 1000 }, () => ({ status: 'ok' }));
    const err = await expectError(await refused('POST', '/v1/heartbeats', JSON.stringify({ heartbeats }), ingestKey), 400, 'validation_failed');
    assert.equal(err.details!.length, 20);
  });

  it('names 20 of 50,000 unknown fields', async () => {
    const body = Object.fromEntries([['name', 'never'], ...Array.from({ length: 50_000 }, (_, i) => [`f${i}`, 1])]);
    const err = await expectError(await refused('POST', '/v1/nodes', JSON.stringify(body)), 400, 'validation_failed');
    assert.equal(err.details!.length, 20);
    assert.ok(err.details!.every((d) => /^f\d+$/.test(d.field)));
  });
});
