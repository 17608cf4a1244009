import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createChannels } from '../../alerting/index.ts';
import { ManualClock } from '../helpers/clock.ts';
import { deliver, RetryLater } from '../../src/notifications/deliver.ts';
import { sendDigests } from '../../src/notifications/digest.ts';
import { actionLinkKey, verifyActionLink } from '../../src/incidents/action-links.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../helpers/db.ts';
import { createOnCall } from '../helpers/oncall.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');
const INTERVAL_MS = 1000; // the digest interval, on the test's clock
const OUTAGE_MS = 20 * INTERVAL_MS; // longer than 12 intervals: one attempt per interval would give up

describe('storm digests during an SMTP outage', () => {
  let db: TestDatabase;
  let sink: SmtpSink;

  before(async () => {
    [db, sink] = await Promise.all([createTestDatabase(), startSmtpSink()]);
  });
  after(() => Promise.all([sink.close(), db.drop()]));

  it('retries a digest on the delivery schedule, not every interval, and delivers every update after the outage', async () => {
    const clock = new ManualClock(T0);
    const p = createPipeline(db, clock);
    // Every update to an email channel is held for the digest; the digest loop is driven below.
    const oc = await createOnCall(db, clock, { redisUrl: REDIS_URL, smtpUrl: sink.url, stormThreshold: 0, worker: false });
    const channels = createChannels({ smtpUrl: sink.url, mailFrom: 'lifeline@test.local' });
    try {
      const mail = await oc.email('oncall', ['oncall@test.local']);
      await oc.policy('default', [{ after_seconds: 0, channel_ids: [mail.id] }], { isDefault: true });
      const names = ['mail-1', 'mail-2', 'mail-3', 'mail-4', 'mail-5'];
      const nodes = await Promise.all(names.map((name) => p.addNode(name)));
      for (const id of nodes) p.beat(id);
      await p.tick();
      await p.runUntil(new Date(T0.getTime() + 20_000));
      await p.tick();
      await oc.drain();
      const [held] = await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where digest and status = 'pending'`;
      assert.equal(held!.n, names.length);

      // The digest loop, one pass per interval, through an outage of 20 intervals and beyond.
      sink.refuseAll(451);
      const start = clock.now().getTime();
      const attemptsAt: number[] = [];
      const links = { publicUrl: 'https://lifeline.test', key: actionLinkKey(oc.secretKey), ttlMs: 7 * 86_400_000 };
      const deps = { sql: db.sql, clock, channels, secretKey: oc.secretKey, retry: { baseMs: INTERVAL_MS, capMs: 600_000 }, links };
      for (let t = 0; t <= 40 * INTERVAL_MS && sink.messages.length === 0; t += INTERVAL_MS) {
        clock.set(new Date(start + t));
        if (t === OUTAGE_MS) sink.refuseAll(null);
        const tried = sink.refusals + sink.messages.length;
        await sendDigests(deps);
        if (sink.refusals + sink.messages.length > tried) attemptsAt.push(t / 1000);
      }

      // Retried after 1, 2, 4, 8 and 16 s (as a single delivery would be), not at every pass.
      assert.deepEqual(attemptsAt, [0, 1, 3, 7, 15, 31]);
      assert.equal(sink.refusals, 5);
      assert.equal(sink.messages.length, 1);
      const [digest] = sink.messages;
      assert.equal(digest!.subject, '[Lifeline] 5 incident updates: 5 DOWN');
      for (const name of names) assert.match(digest!.text, new RegExp(`\\b${name}\\b`));
      // It ends with the console's list of what is not resolved, under the engine's public URL.
      assert.match(digest!.text, /\nAll incidents not yet resolved: https:\/\/lifeline\.test\/incidents\r?\n*$/);
      // Each update carries its own incident's links, signed for this channel.
      const tokens = [...digest!.text.matchAll(/Acknowledge: https:\/\/lifeline\.test\/a\/([\w-]+)/g)].map((m) => m[1]!);
      const incidents = await db.sql<{ id: string }[]>`select id from incidents`;
      assert.deepEqual(
        tokens.map((t) => verifyActionLink(links.key, t, clock.now())).map((c) => (c.ok ? [c.link.incidentId, c.link.recipient.id] : c.reason)).sort(),
        incidents.map((i) => [i.id, mail.id]).sort(),
      );
      const rows = await db.sql<{ status: string; attempts: number; next_attempt_at: Date | null }[]>`
        select status, attempts, next_attempt_at from deliveries where digest`;
      assert.deepEqual(
        rows.map((r) => [r.status, r.attempts, r.next_attempt_at]),
        names.map(() => ['sent', 6, null]),
      );
    } finally {
      channels.close();
      await oc.close();
      await p.close();
    }
  });

  it('holds a resolve in the digest while its page, sent alone, waits for a retry', async () => {
    const clock = new ManualClock(T0);
    const p = createPipeline(db, clock);
    // One update a minute goes alone: the page does, the resolve right after it is held for the digest.
    const oc = await createOnCall(db, clock, { redisUrl: REDIS_URL, smtpUrl: sink.url, stormThreshold: 1, worker: false });
    const channels = createChannels({ smtpUrl: sink.url, mailFrom: 'lifeline@test.local' });
    const deps = { sql: db.sql, clock, channels, secretKey: oc.secretKey, retry: { baseMs: 30_000, capMs: 600_000 } };
    const sent = sink.messages.length;
    try {
      const mail = await oc.email('pairs', ['pairs@test.local']);
      await oc.policy('pairs', [{ after_seconds: 0, channel_ids: [mail.id] }], { isDefault: true });
      const node = await p.addNodeGoneDown('pair-1');
      await oc.drain();
      const [page] = await db.sql<{ id: string; digest: boolean }[]>`
        select d.id, d.digest from deliveries d join incidents i on i.id = d.incident_id where i.node_id = ${node}`;
      assert.equal(page!.digest, false);

      // The page is refused once and waits 30 s for its retry; meanwhile the node recovers.
      sink.refuseAll(451);
      await assert.rejects(deliver(deps, page!.id), RetryLater);
      sink.refuseAll(null);
      p.beat(node);
      await p.tick();
      await oc.drain();
      const [resolve] = await db.sql<{ digest: boolean }[]>`
        select d.digest from deliveries d join incidents i on i.id = d.incident_id where i.node_id = ${node} and d.event = 'resolved'`;
      assert.equal(resolve!.digest, true);

      await sendDigests(deps);
      assert.equal(sink.messages.length, sent, 'no RESOLVED before its DOWN');
      clock.set(new Date(clock.now().getTime() + 30_000));
      await deliver(deps, page!.id);
      await sendDigests(deps);
      assert.deepEqual(
        sink.messages.slice(sent).map((m) => m.subject.replace(/ — .*/, '')),
        ['[Lifeline] DOWN: pair-1', '[Lifeline] 1 incident update: 1 RESOLVED'],
      );
    } finally {
      channels.close();
      await oc.close();
      await p.close();
    }
  });
});
