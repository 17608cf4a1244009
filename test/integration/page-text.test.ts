import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { ManualClock } from '../helpers/clock.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createOnCall, incidentsOf, nodeGoingDown, settledDeliveries, type OnCall } from '../helpers/oncall.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// What a page says to whom: the people it reaches and through which schedule, "you" only to that
// person's own contact, times on the reader's clock only where one person reads them, and levels
// counted out of the policy's.

const T0 = new Date('2026-11-21T10:00:00.000Z');
const sec = (s: number) => new Date(T0.getTime() + s * 1000);
const lines = (text: string) => text.split(/\r?\n/);

describe('what a page says to whom', () => {
  let db: TestDatabase;
  let clock: ManualClock;
  let p: ReturnType<typeof createPipeline>;
  let oc: OnCall;
  let sink: SmtpSink;
  let hook: WebhookReceiver;
  const secret = generateWebhookSecret();

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    clock = new ManualClock(T0);
    sink = await startSmtpSink();
    hook = await startWebhookReceiver({ secret });
    p = createPipeline(db, clock);
    // Queues in the test's database: what a message says does not depend on the queue.
    oc = await createOnCall(db, clock, { redisUrl: undefined, smtpUrl: sink.url });
    await p.flush();
  });
  afterEach(async () => {
    await oc.close();
    await p.close();
    await sink.close();
    await hook.close();
  });

  it('names whom each level pages and through which schedule, says "you" only to them, on their clock', async () => {
    const shared = await oc.webhook('ops-hook', hook.url, secret);
    const list = await oc.email('ops-list', ['ops@test.local']);
    const ana = await oc.user('Ana Okafor', 'ana@test.local', [], 'America/New_York');
    const ben = await oc.user('Ben Li', 'ben@test.local', [], 'Europe/Berlin');
    const primary = await oc.schedule('Platform primary', [{ name: 'always', user_ids: [ana.id], starts_at: T0, rotation: 'P7D' }]);
    await oc.policy(
      'default',
      [
        { after_seconds: 0, channel_ids: [shared.id], schedule_ids: [primary.id] },
        { after_seconds: 600, channel_ids: [shared.id, list.id], user_ids: [ben.id] },
      ],
      { isDefault: true },
    );

    const nodeId = await nodeGoingDown({ p, oc, clock }, 'db-1'); // opened at T0 + 20 s
    const [incident] = await incidentsOf(db, nodeId);
    await settledDeliveries(db, incident!.id, 2, ['sent']);

    // Ana's own email: "you", on New York's clock with UTC beside it.
    const anaDown = await sink.waitFor((m) => m.envelopeTo.includes('ana@test.local'));
    assert.ok(lines(anaDown.text).includes('db-1 is down — paging you (on call in Platform primary) and 1 channel, level 1 of 2'), anaDown.text);
    assert.ok(lines(anaDown.text).includes('Opened: 2026-11-21 05:00:20 EST (10:00:20 UTC)'), anaDown.text);
    assert.ok(lines(anaDown.text).includes('Escalation level: 1 of 2'), anaDown.text);
    assert.ok(anaDown.html.includes('db-1 is down — paging you (on call in Platform primary) and 1 channel, level 1 of 2'), anaDown.html);

    // The shared webhook: whom it paged, for machines, beside the 0-based level it always had.
    const opened = JSON.parse((await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.opened')).body);
    assert.deepEqual(opened.data.paged, [{ user_id: ana.id, name: 'Ana Okafor', schedule_id: primary.id, schedule_name: 'Platform primary' }]);
    assert.equal(opened.data.incident.escalation_level, 0);

    await p.runUntil(sec(20 + 600));
    await oc.drain();
    await settledDeliveries(db, incident!.id, 5, ['sent']);

    // The shared list reads whom the level pages by name, and UTC: many read it, in many zones.
    const listMail = await sink.waitFor((m) => m.envelopeTo.includes('ops@test.local'));
    assert.ok(
      lines(listMail.text).includes('Paged: Ana Okafor and 1 channel (level 1 of 2) at 10:00:20 UTC, not acknowledged after 10m; now paging Ben Li and 2 channels, level 2 of 2'),
      listMail.text,
    );
    assert.ok(lines(listMail.text).includes('Opened: 2026-11-21 10:00:20 UTC'), listMail.text);
    assert.ok(!/\byou\b/.test(listMail.text), listMail.text);

    // Ben's own email: "you", on Berlin's clock.
    const benMail = await sink.waitFor((m) => m.envelopeTo.includes('ben@test.local'));
    assert.ok(
      lines(benMail.text).includes('Paged: Ana Okafor and 1 channel (level 1 of 2) at 11:00:20 GMT+1 (10:00:20 UTC), not acknowledged after 10m; now paging you and 2 channels, level 2 of 2'),
      benMail.text,
    );
    assert.ok(lines(benMail.text).includes('Escalation level: 2 of 2'), benMail.text);

    const escalated = JSON.parse((await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.escalated')).body);
    assert.deepEqual(escalated.data.paged, [{ user_id: ben.id, name: 'Ben Li' }]);
    assert.equal(escalated.data.incident.escalation_level, 1, 'the API and webhook keep counting from 0');
  });
});
