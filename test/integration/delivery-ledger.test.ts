import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createChannels } from '../../alerting/index.ts';
import { sealSecret } from '../../alerting/secret-box.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { insertChannel } from '../../src/channels/store.ts';
import { systemClock } from '../../src/clock.ts';
import type { Sql } from '../../src/db/client.ts';
import { deliver, type DeliverDeps } from '../../src/notifications/deliver.ts';
import { DeliveryLedger } from '../../src/notifications/ledger.ts';
import type { DeliveryRow } from '../../src/notifications/model.ts';
import { getDeliveries } from '../../src/notifications/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { LOCAL_RECEIVERS } from '../helpers/local-receivers.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// The notifier's ledger batches the reads and `sent` marks of the sends a process has in flight.
// These hold what batching must not weaken: a job completes only once its own row's `sent` is
// committed, one row's failed write never settles the others wrongly, and a send whose `sent`
// never landed goes out again under the same webhook-id, with still one ledger row.

const T0 = new Date('2026-12-06T00:00:00.000Z');

describe('delivery ledger batches', () => {
  let db: TestDatabase;
  let hook: WebhookReceiver;
  let channelId: string;
  const secretKey = randomBytes(32);
  const secret = generateWebhookSecret();
  const channels = createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@test.local', outboundAllowCidrs: LOCAL_RECEIVERS });

  before(async () => {
    db = await createTestDatabase();
    hook = await startWebhookReceiver({ secret });
    // Refuses the `sent` mark of the rows listed in refused_sent, as a failing write would.
    await db.sql.unsafe(`
      create table refused_sent (id text primary key);
      create function refuse_sent() returns trigger language plpgsql as $$
      begin
        if new.status = 'sent' and exists (select 1 from refused_sent where id = new.id) then
          raise exception 'sent refused for %', new.id;
        end if;
        return new;
      end $$;
      create trigger refuse_sent before update on deliveries for each row execute function refuse_sent();`);
  });
  after(async () => {
    channels.close();
    await hook.close();
    await db.drop();
  });
  beforeEach(async () => {
    await db.sql`truncate incidents, deliveries, channels, refused_sent cascade`;
    hook.requests.length = 0;
    channelId = randomUUID();
    await insertChannel(db.sql, { id: channelId, name: 'ops', type: 'webhook', config: { url: hook.url }, secret_sealed: sealSecret(secret, secretKey, channelId) }, T0);
  });
  afterEach(() => hook.answerAll(200));

  /** `n` open incidents, each with one pending page to the webhook channel; their ledger ids. */
  async function pendingPages(n: number): Promise<string[]> {
    const rows = await db.sql<{ id: string }[]>`
      with i as (
        insert into incidents (node_id, node_name, category, severity, status, title, reason, opened_at)
        select gen_random_uuid(), 'node-' || g, 'node_down', 'critical', 'open', 'node-' || g || ' is down', 'no heartbeat for 90s', ${T0}
        from generate_series(1, ${n}::int) as g
        returning id, opened_at)
      insert into deliveries (id, incident_id, event, event_key, channel_id, channel_type, status, occurred_at, created_at)
      select i.id || '.opened.' || ${channelId}, i.id, 'opened', 'opened', ${channelId}::uuid, 'webhook', 'pending', i.opened_at, i.opened_at from i
      returning id`;
    return rows.map((r) => r.id).sort();
  }

  const rowsOf = async (ids: string[]): Promise<DeliveryRow[]> => {
    const rows = await getDeliveries(db.sql, ids);
    return ids.map((id) => rows.get(id)!);
  };

  /** The pool, counting the ledger's `sent` statements (the update that marks rows sent). */
  function countingSentWrites(sql: Sql) {
    const counter = { writes: 0 };
    const sqlCounting = new Proxy(sql, {
      apply(target, self, args) {
        const [strings] = args as [unknown];
        if (Array.isArray(strings) && strings.join('').includes("update deliveries set status = 'sent'")) counter.writes += 1;
        return Reflect.apply(target, self, args);
      },
    });
    return { sql: sqlCounting, counter };
  }

  // The real clock: the receiver checks each signature's timestamp against its own.
  const deps = (ledger: DeliveryLedger): DeliverDeps => ({ sql: db.sql, clock: systemClock, channels, secretKey, retry: { baseMs: 20, capMs: 200 }, ledger });

  it('marks the sends finished in one turn with one statement, each settling only once its row is committed', async () => {
    const ids = await pendingPages(20);
    const { sql, counter } = countingSentWrites(db.sql);
    const ledger = new DeliveryLedger({ sql, secretKey });
    const rows = await rowsOf(ids);
    // Each caller looks at its own row from another session the moment its promise settles.
    const seen = await Promise.all(rows.map((r) => ledger.markSent(r, T0).then(async () => (await db.sql<{ status: string }[]>`select status from deliveries where id = ${r.id}`)[0]!.status)));
    assert.deepEqual(seen, ids.map(() => 'sent'));
    assert.equal(counter.writes, 1, 'twenty rows, one update');
    const timeline = await db.sql<{ n: number }[]>`select count(*)::int as n from incident_timeline where kind = 'notified'`;
    assert.equal(timeline[0]!.n, 20);
  });

  it('settles the other rows of a batch whose one write fails, and fails only that row', async () => {
    const ids = await pendingPages(6);
    const bad = ids[2]!;
    await db.sql`insert into refused_sent values (${bad})`;
    const ledger = new DeliveryLedger({ sql: db.sql, secretKey });
    const outcomes = await Promise.allSettled((await rowsOf(ids)).map((r) => ledger.markSent(r, T0)));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ids.map((id) => (id === bad ? 'rejected' : 'fulfilled')),
    );
    const statuses = await db.sql<{ id: string; status: string; attempts: number }[]>`select id, status, attempts from deliveries order by id`;
    assert.deepEqual(
      statuses.map((s) => [s.id, s.status, s.attempts]),
      ids.map((id) => [id, id === bad ? 'pending' : 'sent', id === bad ? 0 : 1]),
    );
  });

  it('reads the rows of the sends starting in one turn together, each caller getting its own', async () => {
    const ids = await pendingPages(5);
    await db.sql`update deliveries set status = 'sent' where id = ${ids[0]!}`;
    const ledger = new DeliveryLedger({ sql: db.sql, secretKey });
    const entries = await Promise.all([...ids, 'no-such-delivery'].map((id) => ledger.read(id)));
    assert.deepEqual(
      entries.map((e) => e && [e.row.id, e.final]),
      [[ids[0], true], ...ids.slice(1).map((id) => [id, false]), undefined],
    );
    for (const e of entries.slice(1, -1)) {
      assert.ok(e && !e.final && e.notification?.messageId === e.row.id && !('gone' in e.destination));
    }
  });

  it('sends again under the same webhook-id when a concurrent send’s `sent` never landed, and completes the others', async () => {
    const ids = await pendingPages(5);
    const bad = ids[3]!;
    await db.sql`insert into refused_sent values (${bad})`;
    const ledger = new DeliveryLedger({ sql: db.sql, secretKey });
    const outcomes = await Promise.allSettled(ids.map((id) => deliver(deps(ledger), id)));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ids.map((id) => (id === bad ? 'rejected' : 'fulfilled')),
      'the job whose `sent` never committed fails; the others complete',
    );
    assert.deepEqual(hook.requests.map((r) => r.headers['webhook-id']).sort(), ids, 'each sent once so far');
    const [pending] = await db.sql<{ status: string }[]>`select status from deliveries where id = ${bad}`;
    assert.equal(pending!.status, 'pending', 'not recorded as sent');

    // The job's retry (or another worker, after a crash) finds the row still unsent.
    await db.sql`delete from refused_sent`;
    await deliver(deps(ledger), bad);
    const again = hook.requests.filter((r) => r.headers['webhook-id'] === bad);
    assert.equal(again.length, 2, 'sent again');
    assert.ok(again.every((r) => r.verified), 'both signed');
    const rows = await db.sql<{ status: string; attempts: number }[]>`select status, attempts from deliveries where incident_id = (select incident_id from deliveries where id = ${bad})`;
    assert.deepEqual(
      rows.map((r) => [r.status, r.attempts]),
      [['sent', 1]],
      'one ledger row, sent once',
    );
    // A retry of a completed job sends nothing.
    await deliver(deps(ledger), ids[0]!);
    assert.equal(hook.requests.length, 6);
  });
});
