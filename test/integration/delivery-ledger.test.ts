import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createChannels } from '../../alerting/index.ts';
import { CONNECTIONS_PER_RECEIVER } from '../../alerting/post-json.ts';
import { sealSecret } from '../../alerting/secret-box.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { insertChannel } from '../../src/channels/store.ts';
import { systemClock } from '../../src/clock.ts';
import type { Sql } from '../../src/db/client.ts';
import { deliver, PutBack, type DeliverDeps } from '../../src/notifications/deliver.ts';
import { DeliveryLedger } from '../../src/notifications/ledger.ts';
import type { DeliveryRow } from '../../src/notifications/model.ts';
import { recordAttempts } from '../../src/notifications/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { LOCAL_RECEIVERS } from '../helpers/local-receivers.ts';
import { pendingPages as pendingRows } from '../helpers/pending-pages.ts';
import { PATIENCE_MS, until, withPatience } from '../helpers/wait.ts';
import { watchingStatements } from '../helpers/watching-statements.ts';
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
  // For exchanges a test holds at the receiver: the default 10 s timeout could end them on a busy machine.
  const patientChannels = () => createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@test.local', outboundAllowCidrs: LOCAL_RECEIVERS, httpTimeoutMs: PATIENCE_MS });

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

  /** One pending page whose first run holds its lease and waits at a receiver that does not answer. */
  async function firstRunBlockedAtReceiver(): Promise<{ id: string; first: Promise<void> }> {
    const [id] = await pendingPages(1);
    hook.answerAll('hang');
    const first = deliver(deps(new DeliveryLedger({ sql: db.sql, secretKey })), id!);
    await until('the first run blocked at the receiver', async () => hook.hanging.length === 1);
    return { id: id!, first };
  }

  const pendingPages = (n: number) => pendingRows(db.sql, channelId, n, T0);

  const rowsOf = async (ids: string[]): Promise<DeliveryRow[]> => {
    const rows = new Map((await db.sql<DeliveryRow[]>`select * from deliveries where id = any(${ids}::text[])`).map((r) => [r.id, r]));
    return ids.map((id) => rows.get(id)!);
  };

  /** The pool, counting the statements whose text includes `fragment`. */
  function counting(sql: Sql, fragment: string) {
    const counter = { statements: 0 };
    const watched = watchingStatements(sql, (text) => {
      if (text.includes(fragment)) counter.statements += 1;
    });
    return { sql: watched, counter };
  }

  /** The pool, failing the statements whose text includes `fragment` and whose values include `value`. */
  const failing = (sql: Sql, fragment: string, value: string) =>
    watchingStatements(sql, (text, values) => {
      if (text.includes(fragment) && values.some((v) => v === value || (Array.isArray(v) && v.includes(value)))) throw new Error(`cannot read ${value}`);
    });

  /**
   * The pool, losing the reply of the first statement whose text includes `fragment`: the
   * statement runs and commits, and its caller sees the error a dropped connection gives.
   */
  function losingFirstReply(sql: Sql, fragment: string): Sql {
    let lost = false;
    return new Proxy(sql, {
      apply(target, self, args) {
        const [strings] = args as [unknown];
        const statement = Reflect.apply(target, self, args) as Promise<unknown>;
        if (lost || !Array.isArray(strings) || !strings.join('').includes(fragment)) return statement;
        lost = true;
        return statement.then(() => {
          throw Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });
        });
      },
    });
  }

  // The real clock: the receiver checks each signature's timestamp against its own.
  const deps = (ledger: DeliveryLedger): DeliverDeps => ({ sql: db.sql, clock: systemClock, channels, secretKey, retry: { baseMs: 20, capMs: 200 }, ledger });

  it('marks the sends finished in one turn with one statement, each settling only once its row is committed', async () => {
    const ids = await pendingPages(20);
    const { sql, counter } = counting(db.sql, "update deliveries set status = 'sent'");
    const ledger = new DeliveryLedger({ sql, secretKey });
    const rows = await rowsOf(ids);
    // Each caller looks at its own row from another session the moment its promise settles.
    const seen = await Promise.all(rows.map((r) => ledger.markSent(r, T0).then(async () => (await db.sql<{ status: string }[]>`select status from deliveries where id = ${r.id}`)[0]!.status)));
    assert.deepEqual(seen, ids.map(() => 'sent'));
    assert.equal(counter.statements, 1, 'twenty rows, one update');
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
      entries.map((e) => e && 'row' in e && [e.row.id, e.final]),
      [[ids[0], true], ...ids.slice(1).map((id) => [id, false]), undefined],
    );
    for (const e of entries.slice(1, -1)) {
      assert.ok(e && 'row' in e && !e.final && e.lease && e.notification?.messageId === e.row.id && !('gone' in e.destination));
    }
  });

  it('sends again under the same webhook-id when a concurrent send’s `sent` never landed, and completes the others', async () => {
    const ids = await pendingPages(5);
    const bad = ids[3]!;
    await db.sql`insert into refused_sent values (${bad})`;
    // A lease shorter than the `sent` mark's ~6 s of retries: the row stays leased to the send whose
    // mark failed until it lapses. Its whole length to start in, so a slow read is no NotStarted.
    const ledger = new DeliveryLedger({ sql: db.sql, secretKey, lease: { ms: 3000, startWithinMs: 3000 } });
    const outcomes = await Promise.allSettled(ids.map((id) => deliver(deps(ledger), id)));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ids.map((id) => (id === bad ? 'rejected' : 'fulfilled')),
      'the job whose `sent` never committed fails; the others complete',
    );
    assert.deepEqual(hook.requests.map((r) => r.headers['webhook-id']).sort(), ids, 'each sent once so far');
    const [pending] = await db.sql<{ status: string }[]>`select status from deliveries where id = ${bad}`;
    assert.equal(pending!.status, 'pending', 'not recorded as sent');

    // The job's retry (or another worker, after a crash) finds the row still unsent, its lease
    // lapsed while the mark was retried for ~6 s.
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
  const leaseOf = async (id: string) =>
    (await db.sql<{ status: string; attempts: number; leased: boolean }[]>`select status, attempts, lease_token is not null as leased from deliveries where id = ${id}`)[0]!;

  it('sends a row once when two senders deliver it at once, in one process or two', async () => {
    const [id, other] = await pendingPages(2);
    // Two processes: each its own ledger and batches; one process: a job run twice in one batch.
    for (const ledgers of [[new DeliveryLedger({ sql: db.sql, secretKey }), new DeliveryLedger({ sql: db.sql, secretKey })], [new DeliveryLedger({ sql: db.sql, secretKey })]]) {
      const row = ledgers.length === 2 ? id! : other!;
      const outcomes = await Promise.allSettled([0, 1].map((i) => deliver(deps(ledgers[i % ledgers.length]!), row)));
      const putBack = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof PutBack);
      assert.equal(putBack.length, 1, 'the sender that found the row leased is put back');
      assert.equal(hook.requests.filter((r) => r.headers['webhook-id'] === row).length, 1, 'sent once');
      assert.deepEqual(await leaseOf(row), { status: 'sent', attempts: 1, leased: false });
    }
  });

  it('gives up a send whose start window closed while it waited for a connection, without waiting for one, and spends no attempt', async () => {
    const [late, ...busy] = await pendingPages(CONNECTIONS_PER_RECEIVER + 1);
    hook.answerAll('hang');
    const busyLedger = new DeliveryLedger({ sql: db.sql, secretKey });
    const busySends = Promise.allSettled(busy.map((id) => deliver(deps(busyLedger), id)));
    await until('every connection to the receiver taken', async () => hook.hanging.length === CONNECTIONS_PER_RECEIVER);
    // The start window ends 1 s after the read, well inside the lease: the send is put back then,
    // while every connection is still held.
    const lateLedger = new DeliveryLedger({ sql: db.sql, secretKey, lease: { ms: 10_000, startWithinMs: 1000 } });
    await withPatience('the late send put back', assert.rejects(deliver(deps(lateLedger), late!), PutBack));
    assert.equal(hook.hanging.length, CONNECTIONS_PER_RECEIVER, 'no connection came free meanwhile');
    assert.deepEqual(await leaseOf(late!), { status: 'pending', attempts: 0, leased: false }, 'no attempt, and its lease given back');
    hook.answerAll(200);
    hook.release(200);
    await busySends;
    assert.equal(hook.requests.filter((r) => r.headers['webhook-id'] === late).length, 0, 'nothing of it reached the receiver');
    // Its job run again sends it, with the usual lease: on a busy machine a read alone can outlast
    // the 1 s start window above.
    await deliver(deps(new DeliveryLedger({ sql: db.sql, secretKey })), late!);
    assert.deepEqual(await leaseOf(late!), { status: 'sent', attempts: 1, leased: false });
  });

  it('gives back at once, when it stops, the leases of the sends waiting for a connection, spending no attempt', async () => {
    const waiting = 3;
    const ids = await pendingPages(CONNECTIONS_PER_RECEIVER + waiting);
    hook.answerAll('hang');
    // The channel counts the sends handed to it: each is at its connection wait once the call
    // returns.
    const patient = patientChannels();
    let handed = 0;
    const counted = { ...patient, webhook: { type: 'webhook' as const, send: (...a: Parameters<typeof patient.webhook.send>) => ((handed += 1), patient.webhook.send(...a)) } };
    const ledger = new DeliveryLedger({ sql: db.sql, secretKey });
    const sends = ids.map((id) => deliver({ ...deps(ledger), channels: counted }, id));
    const outcomes = Promise.allSettled(sends);
    await until('every connection to the receiver taken and the rest waiting for one', async () => hook.hanging.length === CONNECTIONS_PER_RECEIVER && handed === ids.length);
    const started = new Set(hook.requests.map((r) => r.headers['webhook-id'] as string));
    const waiters = ids.filter((id) => !started.has(id));
    assert.equal(waiters.length, waiting);

    ledger.stop();
    const waited = await withPatience(
      'the waiting sends put back',
      Promise.allSettled(waiters.map((id) => sends[ids.indexOf(id)]!)),
    );
    assert.ok(
      waited.every((o) => o.status === 'rejected' && o.reason instanceof PutBack),
      'each waiting send put back',
    );
    assert.equal(hook.hanging.length, CONNECTIONS_PER_RECEIVER, 'while every connection is still held');
    for (const id of waiters) assert.deepEqual(await leaseOf(id), { status: 'pending', attempts: 0, leased: false }, 'no attempt, and its lease given back');
    // Another process's ledger takes them at once, not after the stopped one's leases lapse.
    const other = new DeliveryLedger({ sql: db.sql, secretKey });
    for (const entry of await Promise.all(waiters.map((id) => other.read(id)))) {
      assert.ok(entry && 'lease' in entry && entry.lease, 'leased to the other ledger');
      await other.release(entry.row.id, entry.lease);
    }

    // The sends that had started before the stop finish and are recorded.
    hook.answerAll(200);
    hook.release(200);
    await outcomes;
    assert.equal(hook.requests.filter((r) => waiters.includes(r.headers['webhook-id'] as string)).length, 0, 'nothing of the waiting ones reached the receiver');
    const [sent] = await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where status = 'sent'`;
    assert.equal(sent!.n, CONNECTIONS_PER_RECEIVER);
  });

  it('forgets a read batch’s start window once each of its sends has started or ended, so a stop finds nothing of it to abort', async () => {
    const [early, ...started] = await pendingPages(4);
    // One run of the batch ends before its send: its row's retry is not due yet.
    await db.sql`update deliveries set status = 'failed', attempts = 1, next_attempt_at = ${new Date(Date.now() + 60_000)} where id = ${early!}`;
    hook.answerAll('hang');
    // The channel shows the start window each send is handed.
    const windows = new Set<AbortSignal>();
    // The held exchanges must outlast the test, however busy the machine.
    const patient = patientChannels();
    const seeing = { ...patient, webhook: { type: 'webhook' as const, send: (...a: Parameters<typeof patient.webhook.send>) => (windows.add(a[3]!.closed!), patient.webhook.send(...a)) } };
    const ledger = new DeliveryLedger({ sql: db.sql, secretKey });
    const runs = [early!, ...started].map((id) => deliver({ ...deps(ledger), channels: seeing }, id));
    await assert.rejects(runs[0]!, PutBack);
    await until('every other send of the batch started, its exchange held by the receiver', async () => hook.hanging.length === started.length);
    assert.equal(windows.size, 1, 'one batch, one window');
    ledger.stop();
    assert.equal([...windows][0]!.aborted, false, 'forgotten before the stop, which had nothing of it to abort');
    hook.answerAll(200);
    hook.release(200);
    await Promise.all(runs.slice(1));
    for (const id of started) assert.deepEqual(await leaseOf(id), { status: 'sent', attempts: 1, leased: false });
  });

  it('puts back a job run again while its first run still holds the lease, which then sends it once', async () => {
    const { id, first } = await firstRunBlockedAtReceiver();
    // The sweeper revived the job (or its lock lapsed): another worker runs it.
    await assert.rejects(deliver(deps(new DeliveryLedger({ sql: db.sql, secretKey })), id!), PutBack);
    hook.answerAll(200);
    hook.release(200);
    await first;
    assert.equal(hook.requests.length, 1, 'sent once');
    assert.deepEqual(await leaseOf(id!), { status: 'sent', attempts: 1, leased: false });
  });

  it('starts no send and takes no lease once the ledger is stopped', async () => {
    const [id] = await pendingPages(1);
    const { sql, counter } = counting(db.sql, 'update deliveries set lease_until = now()');
    const ledger = new DeliveryLedger({ sql, secretKey });
    ledger.stop();
    await assert.rejects(deliver(deps(ledger), id!), PutBack);
    assert.equal(hook.requests.length, 0);
    assert.equal(counter.statements, 0, 'no lease taken');
    assert.deepEqual(await leaseOf(id!), { status: 'pending', attempts: 0, leased: false });
  });

  it('gives back the leases of a read batch that failed: each row is read again alone, and only the unreadable one fails', async () => {
    const ids = await pendingPages(3);
    const [bad] = await db.sql<{ id: string; incident_id: string }[]>`select id, incident_id from deliveries where id = ${ids[1]!}`;
    // Reading the bad row's incident fails, in whatever batch it is read.
    const ledger = new DeliveryLedger({ sql: failing(db.sql, 'from incidents where id = any(', bad!.incident_id), secretKey });
    const outcomes = await Promise.allSettled(ids.map((id) => deliver(deps(ledger), id)));
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : o.status)),
      ids.map((id) => (id === bad!.id ? `cannot read ${bad!.incident_id}` : 'fulfilled')),
      'the good rows sent at once, the bad one failing its job rather than waiting on a lost lease',
    );
    assert.deepEqual(hook.requests.map((r) => r.headers['webhook-id']).sort(), ids.filter((id) => id !== bad!.id));
    assert.deepEqual(await leaseOf(bad!.id), { status: 'pending', attempts: 0, leased: false });
  });

  it('gives back the leases of a read whose statement committed but whose reply was lost, so its rows are sent at once', async () => {
    const ids = await pendingPages(3);
    const ledger = new DeliveryLedger({ sql: losingFirstReply(db.sql, 'update deliveries set lease_until = now()'), secretKey });
    const outcomes = await Promise.allSettled(ids.map((id) => deliver(deps(ledger), id)));
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : o.status)),
      ids.map(() => 'fulfilled'),
      'each row read again alone and sent, none found held by the lost read',
    );
    assert.deepEqual(hook.requests.map((r) => r.headers['webhook-id']).sort(), [...ids].sort());
    for (const id of ids) assert.deepEqual(await leaseOf(id), { status: 'sent', attempts: 1, leased: false });
    // A read of one row alone whose reply is lost fails its run, and leaves the row free at once.
    const [alone] = await pendingPages(1);
    const lonely = new DeliveryLedger({ sql: losingFirstReply(db.sql, 'update deliveries set lease_until = now()'), secretKey });
    await assert.rejects(deliver(deps(lonely), alone!), /CONNECTION_CLOSED/);
    assert.deepEqual(await leaseOf(alone!), { status: 'pending', attempts: 0, leased: false });
  });

  it('gives the lease back when a run fails before its send starts', async () => {
    const [id] = await pendingPages(1);
    await db.sql`update deliveries set event = 'resolved' where id = ${id!}`;
    // The check for an earlier page in flight fails (the database went away between the statements).
    const sql = failing(db.sql, "event in ('opened', 'escalated')", id!);
    await assert.rejects(deliver({ ...deps(new DeliveryLedger({ sql: db.sql, secretKey })), sql }, id!), /cannot read/);
    assert.equal(hook.requests.length, 0);
    assert.deepEqual(await leaseOf(id!), { status: 'pending', attempts: 0, leased: false });
  });

  it('records nothing of a failed send whose lease another sender took meanwhile', async () => {
    const { id, first } = await firstRunBlockedAtReceiver();
    // Its lease runs out while it waits for the receiver (a send started at the last moment).
    await db.sql`update deliveries set lease_until = now() where id = ${id!}`;
    const other = new DeliveryLedger({ sql: db.sql, secretKey });
    const taken = await until('another sender takes the lapsed lease', async () => {
      const e = await other.read(id!);
      return e && 'lease' in e && e.lease;
    });
    hook.release(500);
    await first; // ends quietly: the row is the other sender's now
    const [failed] = await db.sql<{ n: number }[]>`select count(*)::int as n from incident_timeline where kind = 'delivery_failed'`;
    assert.equal(failed!.n, 0, 'no failure on the timeline');
    assert.deepEqual(await leaseOf(id!), { status: 'pending', attempts: 0, leased: true }, 'still the other sender’s, no attempt spent');
    await other.release(id!, taken);
  });

  it('puts back a run that comes before the row’s recorded next attempt, spending nothing', async () => {
    const [id] = await pendingPages(1);
    // The first sender's 429 asked for a minute (Retry-After); this run was put back for a lease.
    const retryAt = new Date(Date.now() + 60_000);
    await db.sql`update deliveries set status = 'failed', attempts = 1, next_attempt_at = ${retryAt} where id = ${id!}`;
    await assert.rejects(deliver(deps(new DeliveryLedger({ sql: db.sql, secretKey })), id!), (err) => err instanceof PutBack && err.retryAt?.getTime() === retryAt.getTime());
    assert.equal(hook.requests.length, 0);
    assert.deepEqual(await leaseOf(id!), { status: 'failed', attempts: 1, leased: false });
  });

  it('marks a row dead without its lease only while no sender holds it', async () => {
    const [id] = await pendingPages(1);
    const ledger = new DeliveryLedger({ sql: db.sql, secretKey });
    const entry = await ledger.read(id!);
    assert.ok(entry && 'lease' in entry && entry.lease);
    const gaveUp = { status: 'dead', error: 'gave up: database unreachable', at: new Date() } as const;
    assert.equal(await recordAttempts(db.sql, [id!], gaveUp), 0, 'the holder’s outcome counts');
    assert.deepEqual(await leaseOf(id!), { status: 'pending', attempts: 0, leased: true });
    await ledger.release(id!, entry.lease);
    assert.equal(await recordAttempts(db.sql, [id!], gaveUp), 1);
    assert.deepEqual(await leaseOf(id!), { status: 'dead', attempts: 1, leased: false });
  });
});
