import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LAST_ADMIN_KEY } from '../../src/access/service.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { buildApp, consoleCookie, createHarness, expectError, type Harness } from '../helpers/app.ts';
import { holdOpen } from '../helpers/locks.ts';
import { until } from '../helpers/wait.ts';
import { watchingStatements } from '../helpers/watching-statements.ts';

// The last admin key that works is never revoked, by the API or the console (both call
// revokeKey): without one, only `lifeline admin create-key` against the database could manage
// keys again.

const BOOTSTRAP_KEY_ID = '00000000-0000-4000-8000-000000000001';

describe('API keys: the last admin key', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  const revoke = (id: string, token: string) => h.req('DELETE', `/v1/api-keys/${id}`, { token });
  const working = async () => (await h.sql<{ id: string }[]>`select id from api_keys where scope = 'admin' and revoked_at is null order by id`).map((r) => r.id);
  let alice = { id: '', secret: '' };
  /** The admin key left working after the race below: either of the two. */
  let survivor = '';

  it('refuses with 409 to revoke the last admin key that works, saying what to do instead', async () => {
    alice = await h.createKey('admin', 'alice');
    assert.equal((await revoke(BOOTSTRAP_KEY_ID, alice.secret)).status, 204, 'another admin key still works');
    const refused = await expectError(await revoke(alice.id, alice.secret), 409, 'conflict');
    assert.equal(refused.message, LAST_ADMIN_KEY);
    assert.deepEqual(await working(), [alice.id]);
    // A key of another scope, or one revoked already, is not in its way.
    const reader = (await (await h.req('POST', '/v1/api-keys', { token: alice.secret, json: { name: 'reader', scope: 'read' } })).json()) as { id: string };
    assert.equal((await revoke(reader.id, alice.secret)).status, 204);
    assert.equal((await revoke(BOOTSTRAP_KEY_ID, alice.secret)).status, 204);
  });

  it('lets only one of two concurrent revocations of the last two admin keys through', async () => {
    const made = await h.req('POST', '/v1/api-keys', { token: alice.secret, json: { name: 'bob', scope: 'admin' } });
    const bob = (await made.json()) as { id: string; secret: string };
    assert.deepEqual(await working(), [alice.id, bob.id].sort());

    // Each key revokes the other. Both requests get past anything read before the keys' rows are
    // locked, then wait on this transaction's locks; released, they race for what is left.
    const blocker = await holdOpen(h.db, (tx) => tx`select id from api_keys where id in (${alice.id}, ${bob.id}) for update`);
    const both = Promise.all([revoke(alice.id, bob.secret), revoke(bob.id, alice.secret)]);
    await until('both revocations to wait on the keys', async () => {
      const [row] = await h.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      return row!.n >= 2;
    });
    await blocker.release();
    const answers = await both;
    assert.deepEqual(answers.map((r) => r.status).sort(), [204, 409]);
    await expectError(answers.find((r) => r.status === 409)!, 409, 'conflict');
    assert.equal((await working()).length, 1, 'one admin key still works');
    survivor = answers[0]!.status === 204 ? bob.secret : alice.secret;
  });

  it('reads the key once to ask whether to revoke it, the last-admin check included', async () => {
    const made = (await (await h.req('POST', '/v1/api-keys', { token: survivor, json: { name: 'carol', scope: 'admin' } })).json()) as { id: string };
    let reads = 0;
    const watched = watchingStatements(h.sql, (text, values) => {
      if (/from api_keys where id =/.test(text) && values[0] === made.id) reads++;
    });
    const { app } = buildApp({ sql: watched, clock: h.clock, buffer: new HeartbeatBuffer() });
    const cookie = await consoleCookie({ ...h, app }, 'http://localhost', survivor);
    const res = await app.request(`/keys/${made.id}/revoke`, { headers: { cookie } });
    assert.equal(res.status, 200, await res.text());
    assert.equal(reads, 1);
  });
});
