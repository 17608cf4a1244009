// Every channel delivers to a real local receiver (an SMTP server, an HTTP server) and is judged
// on what arrived there and on how its failures are classified.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { createEmailChannel, SMTP_CONNECTIONS, type EmailChannel } from '../../alerting/email.ts';
import { DeliveryError } from '../../alerting/errors.ts';
import { createChannels } from '../../alerting/index.ts';
import { localReceivers } from '../helpers/local-receivers.ts';
import type { IncidentView } from '../../src/api/shapes.ts';
import type { Notification, NotifiedNode as NodeView } from '../../src/notifications/model.ts';
import { createPagerDutyChannel } from '../../alerting/pagerduty.ts';
import { formatDuration, incidentFacts, leadLine, subjectLine, truncate } from '../../alerting/render.ts';
import { emailText } from '../../alerting/email-body.ts';
import { createSlackChannel } from '../../alerting/slack.ts';
import { NotStarted } from '../../alerting/errors.ts';
import { CONNECTIONS_PER_RECEIVER } from '../../alerting/post-json.ts';
import { createWebhookChannel, generateWebhookSecret } from '../../alerting/webhook.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { verifyWebhook } from '../helpers/standard-webhooks.ts';
import { PATIENCE_MS, until, withPatience } from '../helpers/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const OPENED_AT = '2026-11-21T10:00:00.000Z';
const RESOLVED_AT = '2026-11-21T10:04:10.000Z';
const NOW = new Date('2026-11-21T10:05:00.000Z');

interface NotificationOverrides {
  messageId?: string;
  occurredAt?: string;
  links?: Notification['links'];
  incidentUrl?: string;
  note?: string;
  shownBy?: Notification['shownBy'];
  event?: Notification['event'];
  reason?: string | null;
  incident?: Partial<IncidentView>;
  node?: Partial<NodeView>;
  nodeState?: string | null;
  scheduled?: boolean;
  escalation?: Notification['escalation'];
  paged?: Notification['paged'];
  reader?: Notification['reader'];
  levels?: number;
}

/** db-1 went down for lack of heartbeats; overrides turn it into the other events. */
function notification(overrides: NotificationOverrides = {}): Notification {
  const node: NodeView = { id: 'node-1', name: 'db-1', labels: { env: 'prod' }, ...overrides.node };
  const reason = overrides.reason === undefined ? 'no heartbeat for 90s' : overrides.reason;
  return {
    messageId: overrides.messageId ?? 'inc-1:opened:chan-1',
    event: overrides.event ?? 'opened',
    occurredAt: overrides.occurredAt ?? OPENED_AT,
    reason,
    node,
    ...(overrides.links ? { links: overrides.links } : {}),
    ...(overrides.incidentUrl ? { incidentUrl: overrides.incidentUrl } : {}),
    ...(overrides.note !== undefined ? { note: overrides.note } : {}),
    ...(overrides.nodeState !== undefined ? { nodeState: overrides.nodeState } : {}),
    ...(overrides.scheduled !== undefined ? { scheduled: overrides.scheduled } : {}),
    ...(overrides.escalation ? { escalation: overrides.escalation } : {}),
    ...(overrides.paged ? { paged: overrides.paged } : {}),
    ...(overrides.reader ? { reader: overrides.reader } : {}),
    ...(overrides.levels !== undefined ? { levels: overrides.levels } : {}),
    // Never the stored ids copied: a renderer reading incident.acknowledged_by would pass unseen.
    shownBy: overrides.shownBy ?? { acknowledged_by: null, resolved_by: null },
    incident: {
      id: 'inc-1',
      node_id: node.id,
      node_name: node.name,
      category: 'node_down',
      severity: 'critical',
      status: 'open',
      title: `${node.name} is down`,
      reason,
      opened_at: OPENED_AT,
      acknowledged_at: null,
      acknowledged_by: null,
      resolved_at: null,
      resolved_by: null,
      escalation_level: 0,
      escalation_held: false,
      version: 1,
      ...overrides.incident,
    },
  };
}

function resolvedNotification(overrides: NotificationOverrides = {}): Notification {
  return notification({
    messageId: 'inc-1:resolved:chan-1',
    event: 'resolved',
    reason: 'heartbeat received',
    shownBy: { acknowledged_by: null, resolved_by: 'Lifeline' },
    ...overrides,
    incident: { status: 'resolved', resolved_at: RESOLVED_AT, resolved_by: 'auto', version: 2, ...overrides.incident },
  });
}

/** `ms` after the incidents opened. */
const later = (ms: number): string => new Date(Date.parse(OPENED_AT) + ms).toISOString();

/** A 300-node outage: `count` nodes DOWN within its first 300 ms, `node-0` first. */
const nodesDown = (count: number, reason?: string): Notification[] =>
  Array.from({ length: count }, (_, i) =>
    notification({ messageId: `node-${i}:opened`, occurredAt: later(i), node: { id: `node-${i}`, name: `node-${i}` }, incident: { id: `inc-node-${i}` }, ...(reason ? { reason } : {}) }),
  );

/** The same nodes' resolves, 4 s later. */
const nodesResolved = (count: number): Notification[] =>
  Array.from({ length: count }, (_, i) =>
    resolvedNotification({ messageId: `node-${i}:resolved`, occurredAt: later(4_000 + i), node: { id: `node-${i}`, name: `node-${i}` }, incident: { id: `inc-node-${i}` } }),
  );

/** Three jobs failing (`job-1` to `job-3`) `ms` after the outage began, as DOWN or, when `degraded`, DEGRADED. */
const jobsFailing = (ms: number, degraded = false): Notification[] =>
  [1, 2, 3].map((i) =>
    notification({
      messageId: `job-${i}:opened`,
      occurredAt: later(ms),
      node: { id: `job-${i}`, name: `job-${i}` },
      reason: 'exit code 1',
      incident: { id: `inc-job-${i}`, ...(degraded ? { category: 'node_degraded' as const } : {}) },
    }),
  );

/** The updates a digest's text lists, as `WORD: node`, and its `… and N more` lines, in order. */
const digestListing = (text: string): string[] =>
  [...text.replace(/\r/g, '').matchAll(/^(?:\S+ \S+ UTC {2}(\w+): ([\w-]+) .*|(… and \d+ more.*))$/gm)].map((m) => m[3] ?? `${m[1]}: ${m[2]}`);

function isDeliveryError(expected: { permanent: boolean; code: string; retryAfterMs?: number; message?: RegExp }) {
  return (err: unknown) => {
    assert.ok(err instanceof DeliveryError, `expected a DeliveryError, got ${String(err)}`);
    assert.equal(err.permanent, expected.permanent, `permanent (${err.message})`);
    assert.equal(err.code, expected.code, `code (${err.message})`);
    assert.equal(err.retryAfterMs, expected.retryAfterMs);
    if (expected.message) assert.match(err.message, expected.message);
    return true;
  };
}

/** A local port with nothing listening on it: connecting is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('rendering', () => {
  test('formats durations with the two largest units', () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [999, '0s'],
      [-5_000, '0s'],
      [45_000, '45s'],
      [250_000, '4m 10s'],
      [3_600_000, '1h'],
      [3_605_000, '1h'],
      [7_500_000, '2h 5m'],
      [90_061_000, '1d 1h'],
    ];
    for (const [ms, expected] of cases) assert.equal(formatDuration(ms), expected, `${ms} ms`);
  });

  test('names the node, the event and the reason in the subject', () => {
    const cases: [Notification, string][] = [
      [notification(), '[Lifeline] DOWN: db-1 — no heartbeat for 90s'],
      [
        notification({ reason: 'error rate 12%', incident: { category: 'node_degraded', severity: 'warning' } }),
        '[Lifeline] DEGRADED: db-1 — error rate 12%',
      ],
      [notification({ event: 'escalated' }), '[Lifeline] ESCALATED: db-1 — no heartbeat for 90s'],
      [notification({ event: 'acknowledged', reason: null }), '[Lifeline] ACKNOWLEDGED: db-1 — db-1 is down'],
      [resolvedNotification(), '[Lifeline] RESOLVED: db-1 — heartbeat received'],
    ];
    for (const [n, expected] of cases) assert.equal(subjectLine(n), expected);
  });

  test('cuts text between characters, never between the two halves of an emoji', () => {
    const cut = truncate(`${'‹'.repeat(600)}${'😀'.repeat(700)}`, 602);
    assert.equal(cut, `${'‹'.repeat(600)}…`);
    assert.equal(Buffer.from(cut).toString(), cut, 'well-formed UTF-16: no lone surrogate');
    assert.equal(truncate('ab😀cd', 5), 'ab😀…');
    assert.equal(truncate('ab😀cd', 6), 'ab😀cd');
  });

  test("gives an escalation's level as its page went out, not the incident's when the message is sent", () => {
    // The level-2 page (index 1) delivered late or retried after the third level (index 2) fired.
    const late = notification({ event: 'escalated', incident: { escalation_level: 2 }, escalation: { level: 1, before: [] }, levels: 3 });
    assert.deepEqual(incidentFacts(late).find((f) => f.label === 'Escalation level'), { label: 'Escalation level', value: '2 of 3' });
  });

  test("gives an opening page level 1, even sent late after level 2 fired", () => {
    const late = notification({ event: 'opened', incident: { escalation_level: 1 }, levels: 3 });
    assert.deepEqual(incidentFacts(late).find((f) => f.label === 'Escalation level'), { label: 'Escalation level', value: '1 of 3' });
  });

  test("says a scheduled job's recovery was a run that succeeded, not heartbeats resuming (it sends none)", () => {
    const job = resolvedNotification({ nodeState: 'healthy', scheduled: true, node: { name: 'nightly-backup' }, reason: 'exited with status 3: rsync: write failed' });
    assert.equal(leadLine(job), 'nightly-backup recovered (a run succeeded at 10:04:10 UTC after 4m 10s)');
    assert.equal(subjectLine(job), '[Lifeline] RESOLVED: nightly-backup recovered after 4m 10s');
    assert.ok(emailText(job).includes('a run succeeded at 10:04:10 UTC'), emailText(job));
    assert.ok(!emailText(job).includes('heartbeat'), emailText(job));
    // A heartbeat node's words are unchanged.
    assert.equal(leadLine(resolvedNotification({ nodeState: 'healthy' })), 'db-1 recovered (heartbeats resumed at 10:04:10 UTC after 4m 10s)');
  });

  test('keeps the subject on one line whatever the node name holds', () => {
    const subject = subjectLine(notification({ node: { name: 'db-1\r\nBcc: victim@example.com' } }));
    assert.equal(subject, '[Lifeline] DOWN: db-1 Bcc: victim@example.com — no heartbeat for 90s');
  });
});

describe('email channel', () => {
  let sink: SmtpSink;
  let channel: EmailChannel;
  const config = { to: ['oncall@example.com', 'ops@example.com'] };

  before(async () => {
    sink = await startSmtpSink();
    channel = createEmailChannel({ smtpUrl: sink.url, from: 'Lifeline <alerts@lifeline.test>' });
  });
  after(async () => {
    channel.close();
    await sink.close();
  });

  test('delivers a DOWN email with the facts in both bodies', async () => {
    const n = notification({ messageId: 'down-1' });
    await channel.send(n, config, NOW);
    const mail = await sink.waitFor((m) => m.headers.get('message-id') === '<down-1@lifeline.test>');

    assert.equal(mail.subject, '[Lifeline] DOWN: db-1 — no heartbeat for 90s');
    assert.deepEqual(mail.envelopeTo, config.to);
    assert.equal(mail.envelopeFrom, 'alerts@lifeline.test');
    assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
    for (const line of ['Node: db-1', 'Reason: no heartbeat for 90s', 'Opened: 2026-11-21 10:00:00 UTC', 'Escalation level: 1']) {
      assert.ok(mail.text.includes(line), `text body lacks "${line}":\n${mail.text}`);
    }
    assert.ok(mail.html.includes('<td style="padding:4px 0">no heartbeat for 90s</td>'), mail.html);
    assert.ok(!mail.text.includes('Resolved'), 'an open incident has no resolve time');
  });

  test('puts the acknowledge and resolve links in both bodies, escaped in the HTML one', async () => {
    const links = { acknowledge: 'https://lifeline.test/a/ack-token', resolve: 'https://lifeline.test/a/res"token' };
    await channel.send(notification({ messageId: 'links-1', links }), config, NOW);
    const mail = await sink.waitFor((m) => m.headers.get('message-id') === '<links-1@lifeline.test>');
    assert.match(mail.text, /^Acknowledge: https:\/\/lifeline\.test\/a\/ack-token\r?\nResolve: https:\/\/lifeline\.test\/a\/res"token\r?$/m);
    assert.ok(mail.html.includes('href="https://lifeline.test/a/ack-token"'), mail.html);
    assert.ok(mail.html.includes('href="https://lifeline.test/a/res&quot;token"'), mail.html);
    await channel.send(notification({ messageId: 'no-links-1' }), config, NOW);
    const plain = await sink.waitFor((m) => m.headers.get('message-id') === '<no-links-1@lifeline.test>');
    assert.ok(!plain.text.includes('Acknowledge:') && !plain.html.includes('<a '), 'no links without a public URL');
  });

  test("links the incident's console page after the action links, and alone once none are left", async () => {
    const incidentUrl = 'https://lifeline.test/incidents/inc-1';
    await channel.send(notification({ messageId: 'console-1', links: { acknowledge: 'https://lifeline.test/a/ack' }, incidentUrl }), config, NOW);
    const page = await sink.waitFor((m) => m.headers.get('message-id') === '<console-1@lifeline.test>');
    assert.match(page.text, /^Acknowledge: https:\/\/lifeline\.test\/a\/ack\r?\nOpen in console: https:\/\/lifeline\.test\/incidents\/inc-1\r?$/m);
    assert.ok(page.html.includes(`href="${incidentUrl}"`), page.html);
    await channel.send(resolvedNotification({ messageId: 'console-2', incidentUrl }), config, NOW);
    const resolved = await sink.waitFor((m) => m.headers.get('message-id') === '<console-2@lifeline.test>');
    assert.match(resolved.text, /^Open in console: https:\/\/lifeline\.test\/incidents\/inc-1\r?$/m);
    assert.equal([...resolved.html.matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]).join(), incidentUrl);
  });

  test("carries a resolve's note under the facts, its lines kept, escaped in the HTML body", async () => {
    const note = 'Disk full on /var.\nRotated logs <and> restarted.';
    // Signed by whoever resolved, as people read them: a Resolve link lets its holder write to everyone paged.
    const shownBy = { acknowledged_by: null, resolved_by: 'Bob <ops>' };
    await channel.send(resolvedNotification({ messageId: 'note-1', note, shownBy, incident: { resolved_by: 'user:00000000-0000-4000-8000-000000000002' } }), config, NOW);
    const mail = await sink.waitFor((m) => m.headers.get('message-id') === '<note-1@lifeline.test>');
    assert.match(mail.text.replace(/\r/g, ''), /\nNote from Bob <ops>:\nDisk full on \/var\.\nRotated logs <and> restarted\.\n/);
    assert.ok(mail.html.includes('<p style="margin:16px 0 4px;color:#555">Note from Bob &lt;ops&gt;</p>'), mail.html);
    assert.ok(mail.html.replace(/\r/g, '').includes('<p style="margin:0;white-space:pre-wrap">Disk full on /var.\nRotated logs &lt;and&gt; restarted.</p>'), mail.html);
    await channel.send(resolvedNotification({ messageId: 'note-2' }), config, NOW);
    assert.ok(!(await sink.waitFor((m) => m.headers.get('message-id') === '<note-2@lifeline.test>')).text.includes('Note from'), 'none without a note');
  });

  test('names who acknowledged as people read them, not by the stored id', async () => {
    const id = 'api-key:00000000-0000-4000-8000-000000000001';
    const incident = { status: 'acknowledged' as const, acknowledged_at: RESOLVED_AT, acknowledged_by: id };
    await channel.send(notification({ messageId: 'ack-1', event: 'acknowledged', incident, shownBy: { acknowledged_by: 'key ops-bot', resolved_by: null } }), config, NOW);
    const mail = await sink.waitFor((m) => m.headers.get('message-id') === '<ack-1@lifeline.test>');
    assert.match(mail.text.replace(/\r/g, ''), /^Acknowledged: 2026-11-21 10:04:10 UTC by key ops-bot$/m);
    assert.ok(!mail.text.includes(id) && !mail.html.includes(id), 'the id is for machines');
  });

  test('puts each update of a storm digest with its own links, escaped in the HTML body', async () => {
    const links = (id: string) => ({ acknowledge: `https://lifeline.test/a/ack-${id}`, resolve: `https://lifeline.test/a/res"${id}` });
    const ns = [
      notification({ messageId: 'storm-1', node: { name: 'db-1' }, links: links('1') }),
      notification({ messageId: 'storm-2', node: { name: 'db-2' }, links: { resolve: links('2').resolve } }),
      resolvedNotification({ messageId: 'storm-3', node: { name: 'db-3' } }),
    ];
    await channel.sendDigest(ns, config, NOW);
    const mail = await sink.waitFor((m) => m.subject === '[Lifeline] 3 incident updates: 2 DOWN, 1 RESOLVED');
    const text = mail.text.replace(/\r/g, '');
    assert.match(text, /DOWN: db-1 — no heartbeat for 90s\n {4}Acknowledge: https:\/\/lifeline\.test\/a\/ack-1\n {4}Resolve: https:\/\/lifeline\.test\/a\/res"1\n/);
    assert.match(text, /DOWN: db-2 — no heartbeat for 90s\n {4}Resolve: https:\/\/lifeline\.test\/a\/res"2\n/);
    assert.match(text, /RESOLVED: db-3 — heartbeat received\n*$/, 'a resolved incident has nothing to act on');
    assert.ok(mail.html.includes('href="https://lifeline.test/a/ack-1"'), mail.html);
    assert.ok(mail.html.includes('href="https://lifeline.test/a/res&quot;2"'), mail.html);
    assert.equal((mail.html.match(/<a /g) ?? []).length, 3);
  });

  test("names every kind of a storm's updates and keeps its newest pages when it cuts the list", async () => {
    // 283 nodes DOWN, then 3 jobs failing 3 s later: listed oldest first, the jobs were cut.
    await channel.sendDigest([...nodesDown(283), ...jobsFailing(3_000, true)], config, NOW);
    const mail = await sink.waitFor((m) => m.subject === '[Lifeline] 286 incident updates: 283 DOWN, 3 DEGRADED');
    const listing = digestListing(mail.text);
    const down = Array.from({ length: 197 }, (_, i) => `DOWN: node-${282 - i}`);
    assert.deepEqual(listing, [...down, '… and 86 more DOWN', 'DEGRADED: job-1', 'DEGRADED: job-2', 'DEGRADED: job-3']);
    assert.ok(mail.html.includes('<li style="margin:2px 0">… and 86 more DOWN</li>'), mail.html);
    assert.ok(mail.html.includes('DEGRADED: job-3 — exit code 1'), mail.html);
  });

  test('lists the pages of a storm before its resolves, however many resolves came first', async () => {
    await channel.sendDigest([...nodesResolved(283), ...jobsFailing(5_000)], config, NOW);
    const mail = await sink.waitFor((m) => m.subject === '[Lifeline] 286 incident updates: 3 DOWN, 283 RESOLVED');
    const listing = digestListing(mail.text);
    assert.deepEqual(listing.slice(0, 4), ['DOWN: job-1', 'DOWN: job-2', 'DOWN: job-3', 'RESOLVED: node-282']);
    assert.equal(listing.length, 3 + 197 + 1);
    assert.equal(listing.at(-1), '… and 86 more RESOLVED');
  });

  test('lists the pages still standing before those whose incident was resolved since', async () => {
    // node-0 went down first and is still down; node-1 went down later and has recovered since.
    const [stillDown, recovered] = nodesDown(2);
    const ns = [stillDown!, { ...recovered!, incident: { ...recovered!.incident, status: 'resolved' as const } }, ...nodesResolved(2).slice(1)];
    await channel.sendDigest(ns, config, NOW);
    const mail = await sink.waitFor((m) => m.subject === '[Lifeline] 3 incident updates: 2 DOWN, 1 RESOLVED' && m.text.includes('node-0'));
    assert.deepEqual(digestListing(mail.text), ['DOWN: node-0', 'DOWN: node-1', 'RESOLVED: node-1']);
  });

  test("ends a digest with the console's incident list when the engine knows its public URL", async () => {
    const ns = [...nodesDown(2), ...jobsFailing(1_000)];
    await channel.sendDigest(ns, config, NOW, 'https://lifeline.test/incidents');
    const linked = await sink.waitFor((m) => m.subject === '[Lifeline] 5 incident updates: 5 DOWN');
    assert.match(linked.text.replace(/\r/g, ''), /\n\nAll incidents not yet resolved: https:\/\/lifeline\.test\/incidents\n*$/);
    assert.ok(linked.html.includes('<a href="https://lifeline.test/incidents" style="color:#2471a3">All incidents not yet resolved</a>'), linked.html);
    await channel.sendDigest(ns.slice(1), config, NOW);
    const plain = await sink.waitFor((m) => m.subject === '[Lifeline] 4 incident updates: 4 DOWN');
    assert.ok(!plain.text.includes('All incidents') && !plain.html.includes('All incidents'), 'no link without a public URL');
  });

  test('delivers a RESOLVED email with the outage duration, HTML-escaped', async () => {
    const n = resolvedNotification({ messageId: 'resolved-1', node: { name: 'db-<b>1</b>' }, reason: 'heartbeat "ok" & fast' });
    await channel.send(n, config, NOW);
    const mail = await sink.waitFor((m) => m.headers.get('message-id') === '<resolved-1@lifeline.test>');

    assert.equal(mail.subject, '[Lifeline] RESOLVED: db-<b>1</b> — heartbeat "ok" & fast');
    assert.ok(mail.text.includes('Duration: 4m 10s'), mail.text);
    assert.ok(mail.text.includes('Resolved: 2026-11-21 10:04:10 UTC by Lifeline'), mail.text);
    assert.ok(mail.html.includes('4m 10s'), mail.html);
    assert.ok(mail.html.includes('db-&lt;b&gt;1&lt;/b&gt;'), mail.html);
    assert.ok(mail.html.includes('heartbeat &quot;ok&quot; &amp; fast'), mail.html);
    assert.ok(!mail.html.includes('<b>'), 'agent-supplied markup must not reach the HTML body');
  });

  test('a resent notification keeps its Message-ID, so the duplicate is recognisable', async () => {
    const n = notification({ messageId: 'inc-7:opened:chan 9' });
    await channel.send(n, config, NOW);
    await channel.send(n, config, new Date(NOW.getTime() + 60_000));
    const expected = '<inc-7=3Aopened=3Achan=209@lifeline.test>';
    await sink.waitFor((m) => m.headers.get('message-id') === expected);
    assert.equal(sink.messages.filter((m) => m.headers.get('message-id') === expected).length, 2);
  });

  test('a 550 rejection is permanent', async () => {
    sink.rejectNext(1, 550);
    await assert.rejects(channel.send(notification({ messageId: 'rejected-550' }), config, NOW), isDeliveryError({ permanent: true, code: 'smtp_rejected' }));
    assert.ok(!sink.messages.some((m) => m.headers.get('message-id') === '<rejected-550@lifeline.test>'));
  });

  test('a 451 deferral is retryable, and the retry is delivered', async () => {
    const n = notification({ messageId: 'deferred-451' });
    sink.rejectNext(1, 451);
    await assert.rejects(channel.send(n, config, NOW), isDeliveryError({ permanent: false, code: 'smtp_deferred' }));
    await channel.send(n, config, NOW);
    await sink.waitFor((m) => m.headers.get('message-id') === '<deferred-451@lifeline.test>');
  });

  test('an unreachable SMTP server is retryable, and its failure says the connection was refused without SMTP_URL\'s password', async () => {
    const port = await closedPort();
    const unreachable = createEmailChannel({ smtpUrl: `smtp://alerts:s3cret@127.0.0.1:${port}`, from: 'alerts@lifeline.test' });
    try {
      const message = new RegExp(`^connection refused: the SMTP server 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`);
      await assert.rejects(unreachable.send(notification(), config, NOW), isDeliveryError({ permanent: false, code: 'connection_refused', message }));
    } finally {
      unreachable.close();
    }
  });

  test('hands the pool one message per SMTP connection at most, asking mayStart only once one is free for it', async () => {
    sink.hold(true);
    try {
      const first = Array.from({ length: SMTP_CONNECTIONS }, (_, i) => channel.send(notification({ messageId: `held-${i}` }), config, NOW));
      await until('every connection busy with a message', async () => sink.held === SMTP_CONNECTIONS);
      let asked = 0;
      const late = assert.rejects(
        channel.send(notification({ messageId: 'late-mail' }), config, NOW, {
          mayStart: () => {
            asked += 1;
            return false;
          },
        }),
        NotStarted,
      );
      await sleep(200);
      assert.equal(asked, 0, 'not asked while it could not go out');
      sink.hold(false);
      await Promise.all(first);
      await late;
      assert.equal(asked, 1);
      assert.ok(!sink.messages.some((m) => m.headers.get('message-id') === '<late-mail@lifeline.test>'), 'nothing of it sent');
    } finally {
      sink.hold(false);
    }
  });

  test('gives up a message waiting for an SMTP connection once its start window closes, every connection still busy', async () => {
    sink.hold(true);
    try {
      const first = Array.from({ length: SMTP_CONNECTIONS }, (_, i) => channel.send(notification({ messageId: `busy-${i}` }), config, NOW));
      await until('every connection busy with a message', async () => sink.held === SMTP_CONNECTIONS);
      const closing = new AbortController();
      const late = channel.send(notification({ messageId: 'closed-mail' }), config, NOW, { mayStart: () => true, closed: closing.signal });
      closing.abort();
      await assert.rejects(withPatience('the waiting message given up', late), NotStarted);
      assert.equal(sink.held, SMTP_CONNECTIONS, 'no connection came free meanwhile');
      sink.hold(false);
      await Promise.all(first);
      assert.ok(!sink.messages.some((m) => m.headers.get('message-id') === '<closed-mail@lifeline.test>'), 'nothing of it sent');
    } finally {
      sink.hold(false);
    }
  });

  test('without SMTP_URL every send fails permanently with smtp_not_configured', async () => {
    const unconfigured = createEmailChannel({ smtpUrl: undefined, from: 'alerts@lifeline.test' });
    await assert.rejects(unconfigured.send(notification(), config, NOW), (err: unknown) => {
      isDeliveryError({ permanent: true, code: 'smtp_not_configured' })(err);
      assert.match((err as Error).message, /SMTP_URL/);
      return true;
    });
    unconfigured.close();
  });
});

describe('webhook channel', () => {
  const secret = generateWebhookSecret();
  // Receivers that answer must never hit the timeout, however busy the machine running the tests.
  const channel = createWebhookChannel({ timeoutMs: PATIENCE_MS, policy: localReceivers });
  let receiver: WebhookReceiver;
  let config: { url: string; secret: string };

  beforeEach(async () => {
    receiver = await startWebhookReceiver({ secret });
    config = { url: receiver.url, secret };
  });
  afterEach(() => receiver.close());

  test('posts a signed Standard Webhooks request the receiver can verify', async () => {
    const n = notification();
    const now = new Date();
    await channel.send(n, config, now);
    const request = await receiver.waitFor();

    assert.equal(request.verified, true);
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['webhook-id'], n.messageId);
    assert.equal(request.headers['webhook-timestamp'], String(Math.floor(now.getTime() / 1000)));
    assert.match(String(request.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(JSON.parse(request.body), {
      type: 'incident.opened',
      timestamp: OPENED_AT,
      data: { incident: n.incident, node: n.node, reason: n.reason, display_names: { acknowledged_by: null, resolved_by: null } },
    });
  });

  test('carries the links in data.links, signed with the rest of the body', async () => {
    const links = { resolve: 'https://lifeline.test/a/res' };
    await channel.send(notification({ event: 'acknowledged', links }), config, new Date());
    const request = await receiver.waitFor();
    assert.equal(request.verified, true);
    assert.deepEqual(JSON.parse(request.body).data.links, links);
  });

  test("carries the incident's console page in data.incident_url, on a resolve too, and nothing without one", async () => {
    const incidentUrl = 'https://lifeline.test/incidents/inc-1';
    await channel.send(notification({ links: { acknowledge: 'https://lifeline.test/a/ack' }, incidentUrl }), config, new Date());
    const page = JSON.parse((await receiver.waitFor()).body).data;
    assert.deepEqual([page.incident_url, page.links], [incidentUrl, { acknowledge: 'https://lifeline.test/a/ack' }], 'links stay the action links');
    await channel.send(resolvedNotification({ incidentUrl }), config, new Date());
    await channel.send(notification(), config, new Date());
    await receiver.waitFor(() => receiver.requests.length === 3);
    assert.equal(JSON.parse(receiver.requests[1]!.body).data.incident_url, incidentUrl);
    assert.deepEqual(Object.keys(JSON.parse(receiver.requests[2]!.body).data), ['incident', 'node', 'reason', 'display_names'], 'no public URL: no address, no placeholder');
  });

  test('names who acted for people in data.display_names, beside the ids the incident keeps', async () => {
    await channel.send(resolvedNotification({ incident: { acknowledged_by: 'api-key:00000000-0000-4000-8000-000000000001' }, shownBy: { acknowledged_by: 'key ops-bot', resolved_by: 'Lifeline' } }), config, new Date());
    const { data } = JSON.parse((await receiver.waitFor()).body);
    assert.deepEqual([data.incident.acknowledged_by, data.incident.resolved_by], ['api-key:00000000-0000-4000-8000-000000000001', 'auto'], 'machine fields unchanged');
    assert.deepEqual(data.display_names, { acknowledged_by: 'key ops-bot', resolved_by: 'Lifeline' });
  });

  test("carries a resolve's note in data.note, only when there is one", async () => {
    await channel.send(resolvedNotification({ note: 'Rotated logs.', shownBy: { acknowledged_by: null, resolved_by: 'key ops-bot' } }), config, new Date());
    const { data } = JSON.parse((await receiver.waitFor()).body);
    assert.deepEqual([data.note, data.note_by], ['Rotated logs.', 'key ops-bot'], 'signed by who wrote it, as the email names them');
    await channel.send(resolvedNotification(), config, new Date());
    await receiver.waitFor(() => receiver.requests.length === 2);
    assert.deepEqual(['note' in JSON.parse(receiver.requests[1]!.body).data, 'note_by' in JSON.parse(receiver.requests[1]!.body).data], [false, false]);
  });

  test('a tampered body, another secret or a stale timestamp fails verification', async () => {
    const now = new Date();
    await channel.send(notification(), config, now);
    const { headers, body } = await receiver.waitFor();

    assert.equal(verifyWebhook(secret, headers, body, now), true);
    assert.equal(verifyWebhook(secret, headers, body.replace('db-1', 'db-2'), now), false);
    assert.equal(verifyWebhook(generateWebhookSecret(), headers, body, now), false);
    assert.equal(verifyWebhook(secret, headers, body, new Date(now.getTime() + 301_000)), false);
  });

  test("README's node:crypto verification accepts a real delivery and refuses a tampered, foreign or stale one", async () => {
    // The ```js block of the README's Webhooks section, run as a receiver would paste it.
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split(/^### /m).find((s) => s.startsWith('Webhooks\n'));
    const code = section && /```js\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(code, 'README has a Webhooks section with a ```js verification');
    const file = join(mkdtempSync(join(tmpdir(), 'lifeline-verify-')), 'verify.mjs');
    writeFileSync(file, code);
    const { verifyWebhook: verify } = (await import(pathToFileURL(file).href)) as {
      verifyWebhook: (secret: string, headers: IncomingHttpHeaders, body: Buffer | string, nowSeconds?: number) => boolean;
    };
    const now = new Date();
    await channel.send(notification(), config, now);
    const { headers, body } = await receiver.waitFor();
    const at = Math.floor(now.getTime() / 1000);
    assert.equal(verify(secret, headers, Buffer.from(body)), true, 'a delivery as it arrived, by the clock');
    assert.equal(verify(secret, headers, body, at + 300), true, 'within five minutes');
    assert.equal(verify(secret, headers, body.replace('db-1', 'db-2'), at), false);
    assert.equal(verify(generateWebhookSecret(), headers, body, at), false);
    assert.equal(verify(secret, headers, body, at + 301), false, 'stale');
    assert.equal(verify(secret, { ...headers, 'webhook-signature': undefined }, body, at), false, 'unsigned');
  });

  test('keeps webhook-id across resends of one notification and re-signs each', async () => {
    const n = notification({ event: 'resolved', messageId: 'inc-1:resolved:chan-1' });
    const first = new Date();
    await channel.send(n, config, first);
    await channel.send(n, config, new Date(first.getTime() + 2_000));
    await receiver.waitFor(() => receiver.requests.length === 2);

    const [a, b] = receiver.requests;
    assert.equal(a?.headers['webhook-id'], 'inc-1:resolved:chan-1');
    assert.equal(b?.headers['webhook-id'], 'inc-1:resolved:chan-1');
    assert.notEqual(a?.headers['webhook-timestamp'], b?.headers['webhook-timestamp']);
    assert.equal(a?.verified && b?.verified, true);
  });

  test('a 500 is retryable and its message is Lifeline’s own, never the receiver’s body; a later attempt succeeds', async () => {
    receiver.script({ status: 500, body: 'database is on fire' }, 500, 200);
    const n = notification();
    await assert.rejects(channel.send(n, config, new Date()), (err: unknown) => {
      isDeliveryError({ permanent: false, code: 'http_500' })(err);
      assert.equal((err as Error).message, 'receiver answered HTTP 500');
      return true;
    });
    await assert.rejects(channel.send(n, config, new Date()), isDeliveryError({ permanent: false, code: 'http_500' }));
    await channel.send(n, config, new Date());
    assert.equal(receiver.requests.length, 3);
  });

  test('a 429 is retryable after the Retry-After the receiver asked for', async () => {
    receiver.script({ status: 429, headers: { 'retry-after': '30' } });
    await assert.rejects(channel.send(notification(), config, new Date()), isDeliveryError({ permanent: false, code: 'http_429', retryAfterMs: 30_000 }));
  });

  test('a 410 is permanent and a 408 is retryable', async () => {
    receiver.script(410, 408);
    await assert.rejects(channel.send(notification(), config, new Date()), isDeliveryError({ permanent: true, code: 'http_410' }));
    await assert.rejects(channel.send(notification(), config, new Date()), isDeliveryError({ permanent: false, code: 'http_408' }));
  });

  test('a receiver that does not answer in time is a retryable timeout', async () => {
    receiver.script('hang');
    // Short, since waiting it out is the test; a hung receiver never answers, so no load can make
    // this attempt succeed or fail any other way.
    const impatient = createWebhookChannel({ timeoutMs: 200, policy: localReceivers });
    await assert.rejects(impatient.send(notification(), config, new Date()), isDeliveryError({ permanent: false, code: 'timeout', message: /^timed out after 0\.2 s: http:\/\/127\.0\.0\.1:\d+ did not answer$/ }));
  });

  test('a receiver that answers 200 but trickles its body loses the connection at the timeout', async () => {
    // Raw TCP, so the answer can promise a body it never finishes.
    let hungUp!: () => void;
    const closed = new Promise<void>((resolve) => (hungUp = resolve));
    const trickler = createServer((socket) => {
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nnot all'));
      socket.on('error', () => {});
      socket.once('close', hungUp);
    });
    await new Promise<void>((resolve) => trickler.listen(0, '127.0.0.1', resolve));
    try {
      const impatient = createWebhookChannel({ timeoutMs: 200, policy: localReceivers });
      const url = `http://127.0.0.1:${(trickler.address() as AddressInfo).port}/hook`;
      await impatient.send(notification(), { url, secret }, new Date());
      // The deadline still covers the drain: the engine hangs up rather than hold the connection.
      await closed;
    } finally {
      trickler.close();
    }
  });

  test('an answer that arrived before the deadline counts even when the event loop reaches it only after the deadline', async () => {
    const timeoutMs = 50;
    // Raw TCP, in this process: the receiver answers 200 at once, then this process's event loop
    // stalls (as a loaded machine stalls it) until the sender's deadline is due. The deadline began
    // when the request had its connection, before the receiver saw it, so it is due by then; the
    // answer waits in the socket. Without the fix the deadline's timer, run before the socket is
    // read, counts the accepted message a timeout (and the ledger would send it again).
    const answering = createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
        const due = performance.now() + timeoutMs;
        while (performance.now() < due);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => answering.listen(0, '127.0.0.1', resolve));
    try {
      const impatient = createWebhookChannel({ timeoutMs, policy: localReceivers });
      const url = `http://127.0.0.1:${(answering.address() as AddressInfo).port}/hook`;
      await impatient.send(notification(), { url, secret }, new Date());
    } finally {
      answering.close();
    }
  });

  test('opens at most CONNECTIONS_PER_RECEIVER connections to a receiver; a send waiting for one starts its deadline when it has it', async () => {
    // Sent at once, 6 more than the connections allowed; the receiver holds every request it gets.
    receiver.answerAll('hang');
    // Long enough that the margins below (a quarter deadline each) hold on a busy machine.
    const deadlineMs = 20_000;
    const patient = createWebhookChannel({ timeoutMs: deadlineMs, policy: localReceivers });
    const extra = 6;
    const sends = Array.from({ length: CONNECTIONS_PER_RECEIVER + extra }, (_, i) => patient.send(notification({ messageId: `m-${i}` }), config, new Date()));
    const settled = Promise.allSettled(sends);
    await until('the first requests at the receiver', async () => receiver.hanging.length === CONNECTIONS_PER_RECEIVER);
    await sleep(deadlineMs / 2);
    assert.equal(receiver.requests.length, CONNECTIONS_PER_RECEIVER, 'the sends past the limit wait for a connection');
    // The first answered half a deadline in: the rest get their connections and are held another
    // 1.25 deadlines from then, past a deadline counted from their start but not from their connection.
    assert.equal(receiver.release(200), CONNECTIONS_PER_RECEIVER);
    await until('the waiting requests at the receiver', async () => receiver.hanging.length === extra);
    await sleep(deadlineMs * 0.75);
    receiver.answerAll(200);
    assert.equal(receiver.release(200), extra);
    const outcomes = await settled;
    assert.deepEqual(outcomes.filter((o) => o.status === 'rejected'), []);
  });

  test('a send waiting for a connection that may no longer start when it has one gives up without writing anything', async () => {
    receiver.answerAll('hang');
    const patient = createWebhookChannel({ policy: localReceivers });
    const first = Array.from({ length: CONNECTIONS_PER_RECEIVER }, (_, i) => patient.send(notification({ messageId: `m-${i}` }), config, new Date()));
    await until('every connection taken', async () => receiver.hanging.length === CONNECTIONS_PER_RECEIVER);
    let mayStart = true;
    const late = assert.rejects(patient.send(notification({ messageId: 'late' }), config, new Date(), { mayStart: () => mayStart }), NotStarted);
    mayStart = false;
    receiver.answerAll(200);
    receiver.release(200);
    await Promise.all(first);
    await late;
    assert.equal(receiver.requests.length, CONNECTIONS_PER_RECEIVER, 'nothing of it reached the receiver');
  });

  test('a send waiting for a connection gives up once its start window closes, every connection still held, and loses no connection', async () => {
    receiver.answerAll('hang');
    const patient = createWebhookChannel({ timeoutMs: PATIENCE_MS, policy: localReceivers });
    const first = Array.from({ length: CONNECTIONS_PER_RECEIVER }, (_, i) => patient.send(notification({ messageId: `m-${i}` }), config, new Date()));
    await until('every connection taken', async () => receiver.hanging.length === CONNECTIONS_PER_RECEIVER);
    const closing = new AbortController();
    const late = patient.send(notification({ messageId: 'late' }), config, new Date(), { mayStart: () => true, closed: closing.signal });
    closing.abort();
    await assert.rejects(withPatience('the waiting send given up', late), NotStarted);
    assert.equal(receiver.hanging.length, CONNECTIONS_PER_RECEIVER, 'no connection came free meanwhile');
    receiver.answerAll(200);
    receiver.release(200);
    await Promise.all(first);
    assert.equal(receiver.requests.length, CONNECTIONS_PER_RECEIVER, 'nothing of it reached the receiver');
    // Every connection is the receiver's again: as many sends at once are all held there together.
    receiver.answerAll('hang');
    const again = Array.from({ length: CONNECTIONS_PER_RECEIVER }, (_, i) => patient.send(notification({ messageId: `n-${i}` }), config, new Date()));
    await until('every connection taken again', async () => receiver.hanging.length === CONNECTIONS_PER_RECEIVER);
    receiver.answerAll(200);
    receiver.release(200);
    await Promise.all(again);
  });

  test('an unreachable receiver is a retryable refused connection, named without its path or query (a token may be in them)', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/hook/s3cret?token=s3cret`;
    const message = new RegExp(`^connection refused: http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`);
    await assert.rejects(channel.send(notification(), { url, secret }, new Date()), isDeliveryError({ permanent: false, code: 'connection_refused', message }));
  });

  test('a name that does not resolve says so', async () => {
    const url = 'http://no-such-host.invalid/hook';
    // .invalid never resolves (RFC 6761); a resolver that cannot be asked at all answers EAI_AGAIN.
    await assert.rejects(channel.send(notification(), { url, secret }, new Date()), (err: unknown) => {
      assert.ok(err instanceof DeliveryError && !err.permanent, String(err));
      assert.match(`${err.code}: ${err.message}`, /^(dns_not_found: DNS name not found|dns_failed: DNS lookup failed for now): http:\/\/no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\)$/);
      return true;
    });
  });

  test('https to a receiver that does not speak TLS is a TLS failure', async () => {
    const plain = createHttpServer((req, res) => req.resume().on('end', () => res.end('ok')));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(plain.address() as AddressInfo).port}/hook`;
      await assert.rejects(channel.send(notification(), { url, secret }, new Date()), isDeliveryError({ permanent: false, code: 'tls_failed', message: /^TLS handshake with https:\/\/127\.0\.0\.1:\d+ failed \(ERR_SSL_[A-Z_]+\)$/ }));
    } finally {
      plain.close();
    }
  });

  test('a receiver that hangs up without answering is a retryable closed connection', async () => {
    const hangUp = createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hangUp.address() as AddressInfo).port}/hook`;
      await assert.rejects(channel.send(notification(), { url, secret }, new Date()), isDeliveryError({ permanent: false, code: 'connection_reset', message: /^connection closed by the other side: http:\/\/127\.0\.0\.1:\d+ \(UND_ERR_SOCKET\)$/ }));
    } finally {
      hangUp.close();
    }
  });

  test('sends one after another over kept-alive connections, to an IPv6 literal too', async () => {
    const connections: string[] = [];
    const answering = createHttpServer((req, res) => req.resume().on('end', () => res.end('ok')));
    answering.on('connection', (socket) => connections.push(String(socket.remoteAddress)));
    await new Promise<void>((resolve) => answering.listen(0, '::1', resolve));
    try {
      const url = `http://[::1]:${(answering.address() as AddressInfo).port}/hook`;
      for (let i = 0; i < 5; i++) await channel.send(notification(), { url, secret }, new Date());
      // A send settles on the status line, a moment before its connection is free again: the
      // second may open another connection, and later ones reuse them.
      assert.ok(connections.length <= 2, `${connections.length} connections for 5 sends`);
      assert.ok(connections.every((a) => a === '::1'));
    } finally {
      answering.closeAllConnections();
      answering.close();
    }
  });

  test('an interim answer (103 Early Hints) is not the answer: the 200 after it is', async () => {
    const hinting = createHttpServer((req, res) =>
      req.resume().on('end', () => {
        res.writeEarlyHints({ link: '</receipt>; rel=preload' });
        res.end('ok');
      }),
    );
    await new Promise<void>((resolve) => hinting.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hinting.address() as AddressInfo).port}/hook`;
      await channel.send(notification(), { url, secret }, new Date());
    } finally {
      hinting.closeAllConnections();
      hinting.close();
    }
  });

  test('a malformed secret or URL fails permanently without a request', async () => {
    await assert.rejects(channel.send(notification(), { url: receiver.url, secret: 'not-a-secret' }, new Date()), isDeliveryError({ permanent: true, code: 'invalid_secret' }));
    await assert.rejects(channel.send(notification(), { url: 'ftp://example.com/hook', secret }, new Date()), isDeliveryError({ permanent: true, code: 'invalid_url' }));
    assert.equal(receiver.requests.length, 0);
  });
});

describe('slack channel', () => {
  const channel = createSlackChannel({ timeoutMs: PATIENCE_MS, policy: localReceivers });
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(() => receiver.close());

  test('posts text plus a header and a section of mrkdwn fields', async () => {
    await channel.send(resolvedNotification(), { webhook_url: receiver.url }, NOW);
    const message = JSON.parse((await receiver.waitFor()).body);

    assert.equal(message.text, 'RESOLVED: db-1 — heartbeat received');
    assert.equal(message.blocks.length, 2);
    assert.deepEqual(message.blocks[0], { type: 'header', text: { type: 'plain_text', text: 'RESOLVED: db-1 — heartbeat received' } });
    const section = message.blocks[1];
    assert.equal(section.type, 'section');
    assert.deepEqual(section.text, { type: 'mrkdwn', text: '*db-1 is down*' });
    assert.ok(section.fields.length <= 10, 'Slack accepts at most ten fields');
    assert.ok(section.fields.every((f: { type: string }) => f.type === 'mrkdwn'));
    const fields = section.fields.map((f: { text: string }) => f.text);
    assert.ok(fields.includes('*Node*\ndb-1'), fields.join(' | '));
    assert.ok(fields.includes('*Duration*\n4m 10s'), fields.join(' | '));
  });

  test("an escalation after the node's reason changed heads with the new one, the opening one beside when it opened", async () => {
    const later = notification({ event: 'escalated', reason: 'exited with status 3: disk full', incident: { escalation_level: 1, reason: 'no run has ended since it was created' } });
    await channel.send(later, { webhook_url: receiver.url }, NOW);
    const message = JSON.parse((await receiver.waitFor()).body);
    assert.equal(message.text, 'ESCALATED: db-1 — exited with status 3: disk full');
    const fields = message.blocks[1].fields.map((f: { text: string }) => f.text);
    assert.ok(fields.includes('*Reason*\nexited with status 3: disk full'), fields.join(' | '));
    assert.ok(fields.includes('*Opened*\n2026-11-21 10:00:00 UTC — no run has ended since it was created'), fields.join(' | '));
  });

  test('says how a resolve ended and whom an escalation follows, as the email does', async () => {
    const send = async (n: Notification) => {
      await channel.send(n, { webhook_url: receiver.url }, NOW);
      const message = JSON.parse((await receiver.waitFor()).body);
      receiver.requests.length = 0;
      return [message.blocks[0].text.text, message.blocks[1].text.text];
    };
    assert.deepEqual(await send(resolvedNotification({ nodeState: 'healthy' })), ['RESOLVED: db-1 recovered after 4m 10s', '*db-1 recovered (heartbeats resumed at 10:04:10 UTC after 4m 10s)*']);
    assert.deepEqual(await send(resolvedNotification({ nodeState: 'healthy', scheduled: true, node: { name: 'backup' } })), [
      'RESOLVED: backup recovered after 4m 10s',
      '*backup recovered (a run succeeded at 10:04:10 UTC after 4m 10s)*',
    ]);
    assert.deepEqual(await send(resolvedNotification({ nodeState: 'down', incident: { resolved_by: 'Dana' }, shownBy: { acknowledged_by: null, resolved_by: 'Dana' } })), [
      'RESOLVED: db-1 still down, resolved by Dana',
      '*resolved by Dana while db-1 is still down — it will not page again until it recovers and fails again*',
    ]);
    const escalation = { level: 1, before: [{ level: 0, at: '2026-11-21T09:57:00.000Z', names: ['Dana Oncall'] }] };
    const escalated = { event: 'escalated', escalation, incident: { escalation_level: 1 }, levels: 3 } as const;
    assert.deepEqual((await send(notification(escalated)))[1], '*Paged: Dana Oncall (level 1 of 3) at 09:57:00 UTC, not acknowledged after 3m; now paging level 2 of 3*');
    // A channel named on the level is read by many: whom the level pages, by name and schedule, in UTC.
    const paged = { people: [{ user_id: 'u-ana', name: 'Ana Okafor', schedule_id: 's-1', schedule_name: 'Platform primary' }, { user_id: 'u-bo', name: 'Bo Li' }], channels: 1 };
    assert.deepEqual(
      (await send(notification({ ...escalated, paged })))[1],
      '*Paged: Dana Oncall (level 1 of 3) at 09:57:00 UTC, not acknowledged after 3m; now paging Ana Okafor (on call in Platform primary), Bo Li and 1 channel, level 2 of 3*',
    );
    // Ana's own Slack: "you", on her clock.
    assert.deepEqual(
      (await send(notification({ ...escalated, paged, reader: { user_id: 'u-ana', time_zone: 'America/New_York' } })))[1],
      '*Paged: Dana Oncall (level 1 of 3) at 04:57:00 EST (09:57:00 UTC), not acknowledged after 3m; now paging you (on call in Platform primary), Bo Li and 1 channel, level 2 of 3*',
    );
  });

  test('escapes node names in mrkdwn so they cannot mention @channel or forge links', async () => {
    await channel.send(notification({ node: { name: 'db <!channel> & <http://x|y>' } }), { webhook_url: receiver.url }, NOW);
    const message = JSON.parse((await receiver.waitFor()).body);
    const escaped = 'db &lt;!channel&gt; &amp; &lt;http://x|y&gt;';
    assert.ok(message.text.startsWith(`DOWN: ${escaped} — `), message.text);
    const mrkdwn = [message.blocks[1].text, ...message.blocks[1].fields].map((t: { text: string }) => t.text);
    assert.ok(mrkdwn.includes(`*Node*\n${escaped}`), mrkdwn.join(' | '));
    assert.ok(mrkdwn.every((text) => !text.includes('<')), mrkdwn.join(' | '));
  });

  test("shows a node's name and a job's output as written, not as Slack formatting, links still links", async () => {
    const name = 'db_primary_1';
    const reason = 'exited with status 2: *FATAL* `rm` failed on ~/tmp_old/ ~x~ _y_';
    const links = { acknowledge: 'https://lifeline.test/a/~ops_1/ack' };
    const n = notification({ node: { name }, reason, links });
    await channel.send(n, { webhook_url: receiver.url }, NOW);
    const message = JSON.parse((await receiver.waitFor()).body);
    // A zero-width space after each of * _ ~ ` leaves none of them a pair Slack formats.
    const literal = (t: string) => t.replace(/[*_~`]/g, '$&\u200B');
    assert.equal(message.text, `DOWN: ${literal(name)} — ${literal(reason)}`);
    const fields = message.blocks[1].fields.map((f: { text: string }) => f.text);
    assert.ok(fields.includes(`*Node*\n${literal(name)}`), fields.join(' | '));
    assert.ok(fields.includes(`*Reason*\n${literal(reason)}`), fields.join(' | '));
    assert.equal(message.blocks[1].text.text, `*${literal(`${name} is down`)}*`);

    receiver.requests.length = 0;
    await channel.sendDigest([n], { webhook_url: receiver.url }, NOW);
    const digest = JSON.parse((await receiver.waitFor()).body);
    const line = digest.blocks[1].text.text.split('\n')[0];
    assert.ok(line.includes(`DOWN: ${literal(name)} — ${literal(reason)}  <${links.acknowledge}|Acknowledge>`), line);
  });

  test('adds the links as buttons in an actions block, and no block without links', async () => {
    const links = { acknowledge: 'https://lifeline.test/a/ack', resolve: 'https://lifeline.test/a/res' };
    await channel.send(notification({ links }), { webhook_url: receiver.url }, NOW);
    const message = JSON.parse((await receiver.waitFor()).body);
    assert.equal(message.blocks.length, 3);
    assert.deepEqual(
      message.blocks[2].elements.map((e: { type: string; text: { text: string }; url: string }) => [e.type, e.text.text, e.url]),
      [
        ['button', 'Acknowledge', links.acknowledge],
        ['button', 'Resolve', links.resolve],
      ],
    );
    assert.equal(message.blocks[2].type, 'actions');
  });

  test("adds the incident's console page as the last button", async () => {
    const links = { resolve: 'https://lifeline.test/a/res' };
    const incidentUrl = 'https://lifeline.test/incidents/inc-1';
    await channel.send(notification({ event: 'acknowledged', links, incidentUrl }), { webhook_url: receiver.url }, NOW);
    const message = JSON.parse((await receiver.waitFor()).body);
    assert.deepEqual(
      message.blocks[2].elements.map((e: { text: { text: string }; url: string; style?: string }) => [e.text.text, e.url, e.style]),
      [
        ['Resolve', links.resolve, undefined],
        ['Open in console', incidentUrl, undefined],
      ],
    );
  });

  test('gives each update of a digest its links, in sections Slack accepts, counting what does not fit', async () => {
    const many = Array.from({ length: 300 }, (_, i) =>
      notification({ messageId: `m-${i}`, node: { name: `web-${i}` }, links: { acknowledge: `https://lifeline.test/a/${'a'.repeat(98)}${i}`, resolve: `https://lifeline.test/a/${'r'.repeat(98)}${i}` } }),
    );
    await channel.sendDigest(many, { webhook_url: receiver.url }, NOW);
    const message = JSON.parse((await receiver.waitFor()).body);
    assert.ok(message.blocks.length <= 50, `${message.blocks.length} blocks`);
    const sections = message.blocks.slice(1).map((b: { type: string; text: { text: string } }) => (assert.equal(b.type, 'section'), b.text.text));
    assert.ok(sections.every((t: string) => t.length <= 3000));
    const lines = sections.join('\n').split('\n');
    assert.equal(lines[0], `2026-11-21 10:00:00 UTC  DOWN: web-0 — no heartbeat for 90s  <https://lifeline.test/a/${'a'.repeat(98)}0|Acknowledge>  <https://lifeline.test/a/${'r'.repeat(98)}0|Resolve>`);
    // Every update is either listed with both its links or counted.
    const listed = lines.filter((l: string) => /\|Acknowledge>  <[^>]+\|Resolve>$/.test(l)).length;
    assert.equal(lines.at(-1), `… and ${300 - listed} more DOWN`);
    assert.ok(listed > 100, `only ${listed} updates listed`);
  });

  test("lists a storm's pages first, names every kind when the updates do not all fit, and ends with the console's list", async () => {
    // Reasons of 1,400 characters: two lines a section, far fewer than 200 lines in 50 blocks.
    const ns = [...nodesResolved(250), ...nodesDown(250, 'x'.repeat(1_400)), ...jobsFailing(5_000, true)];
    await channel.sendDigest(ns, { webhook_url: receiver.url }, NOW, 'https://lifeline.test/incidents');
    const message = JSON.parse((await receiver.waitFor()).body);
    assert.ok(message.blocks.length <= 50, `${message.blocks.length} blocks`);
    assert.equal(message.blocks[0].text.text, '503 incident updates: 250 DOWN, 3 DEGRADED, 250 RESOLVED');
    const sections: string[] = message.blocks.slice(1).map((b: { text: { text: string } }) => b.text.text);
    assert.ok(sections.every((t) => t.length <= 3000));
    assert.equal(sections.at(-1), '<https://lifeline.test/incidents|All incidents not yet resolved>');
    const listing = digestListing(sections.slice(0, -1).join('\n'));
    assert.equal(listing[0], 'DOWN: node-249', 'the newest page first');
    const counted = (word: string) => {
      const listed = listing.filter((l) => l.startsWith(`${word}: `)).length;
      const more = listing.find((l) => l.endsWith(` more ${word}`));
      return listed + Number(more ? /\d+/.exec(more)![0] : 0);
    };
    assert.deepEqual([counted('DOWN'), counted('DEGRADED'), counted('RESOLVED')], [250, 3, 250], 'every update listed or counted under its kind');
    assert.ok(listing.includes('DEGRADED: job-3') && listing.includes('RESOLVED: node-249'), listing.join('\n'));
    await channel.sendDigest(ns.slice(0, 3), { webhook_url: receiver.url }, NOW);
    const plain = JSON.parse((await receiver.waitFor((r) => r.body.includes('"3 incident updates: 3 RESOLVED"'))).body);
    assert.ok(!JSON.stringify(plain).includes('All incidents'), 'no link without a public URL');
  });

  test('gives the kinds that page nobody a twentieth each of a list cut short by long lines, and escapes its link', async () => {
    // Reasons of 1,400 characters: far fewer than 200 lines fit; each kind's share shrinks with them.
    const ns = [...nodesDown(100, 'x'.repeat(1_400)), ...nodesResolved(100)];
    await channel.sendDigest(ns, { webhook_url: receiver.url }, NOW, 'https://lifeline.test/a|b&c/incidents');
    const message = JSON.parse((await receiver.waitFor((r) => r.body.includes('200 incident updates'))).body);
    const sections: string[] = message.blocks.slice(1).map((b: { text: { text: string } }) => b.text.text);
    assert.equal(sections.at(-1), '<https://lifeline.test/a%7Cb&amp;c/incidents|All incidents not yet resolved>');
    const listing = digestListing(sections.slice(0, -1).join('\n'));
    const listed = listing.filter((l) => !l.startsWith('…')).length;
    const resolved = listing.filter((l) => l.startsWith('RESOLVED: ')).length;
    assert.ok(listed < 200, `${listed} listed`);
    assert.equal(resolved, Math.floor(listed / 20), listing.join('\n'));
  });

  test("shows a resolve's note as literal text under its true author: no heading, mention or link of its own", async () => {
    // A note drawing its own bold heading and mentions, as anyone holding a Resolve link could.
    const note = 'All clear\n*Note from Alice*\n_Approved_ & done.\n<!channel> <@U123> <https://evil.test|docs> @here #ops https://evil.test';
    const shownBy = { acknowledged_by: null, resolved_by: 'Bob <ops> & *co*' };
    await channel.send(resolvedNotification({ note, shownBy }), { webhook_url: receiver.url }, NOW);
    const message = JSON.parse((await receiver.waitFor()).body);
    // rich_text `text` elements show their text as written: nothing escaped, nothing parsed.
    assert.deepEqual(message.blocks.slice(2), [
      {
        type: 'rich_text',
        elements: [
          { type: 'rich_text_section', elements: [{ type: 'text', text: 'Note from Bob <ops> & *co*', style: { bold: true } }] },
          { type: 'rich_text_quote', elements: [{ type: 'text', text: note }] },
        ],
      },
    ]);
  });

  test('cuts a note longer than Slack takes between characters, never inside an emoji', async () => {
    // Past the API's 2,000: an emoji's two halves straddle the cut at 3,000.
    const note = `${'a'.repeat(2998)}${'😀'.repeat(10)}`;
    await channel.send(resolvedNotification({ note }), { webhook_url: receiver.url }, NOW);
    const text = JSON.parse((await receiver.waitFor()).body).blocks[2].elements[1].elements[0].text as string;
    assert.equal(text, `${'a'.repeat(2998)}…`);
  });

  test('a revoked Slack webhook (404) is permanent', async () => {
    receiver.script({ status: 404, body: 'no_service' });
    await assert.rejects(channel.send(notification(), { webhook_url: receiver.url }, NOW), isDeliveryError({ permanent: true, code: 'http_404' }));
  });
});

describe('pagerduty channel', () => {
  const channel = createPagerDutyChannel({ timeoutMs: PATIENCE_MS, policy: localReceivers });
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(() => receiver.close());

  test('maps incident events to event actions on one dedup_key', async () => {
    const config = { routing_key: 'R0UT1NGKEY', url: receiver.url };
    receiver.script(202, 202, 202, 202);
    const events: Notification[] = [
      notification(),
      notification({ event: 'escalated', incident: { escalation_level: 1 } }),
      notification({ event: 'acknowledged', incident: { status: 'acknowledged', acknowledged_at: RESOLVED_AT, acknowledged_by: 'alice' } }),
      resolvedNotification(),
    ];
    for (const n of events) await channel.send(n, config, NOW);
    await receiver.waitFor(() => receiver.requests.length === 4);

    const sent = receiver.requests.map((r) => JSON.parse(r.body));
    assert.deepEqual(sent.map((e) => e.event_action), ['trigger', 'trigger', 'acknowledge', 'resolve']);
    assert.ok(sent.every((e) => e.dedup_key === 'inc-1' && e.routing_key === 'R0UT1NGKEY'));
    assert.deepEqual(sent[2], { routing_key: 'R0UT1NGKEY', event_action: 'acknowledge', dedup_key: 'inc-1' });
    assert.deepEqual(sent[3], { routing_key: 'R0UT1NGKEY', event_action: 'resolve', dedup_key: 'inc-1' });

    const { payload } = sent[0];
    assert.equal(payload.summary, 'DOWN: db-1 — no heartbeat for 90s');
    assert.equal(payload.source, 'db-1');
    assert.equal(payload.severity, 'critical');
    assert.equal(payload.timestamp, OPENED_AT);
    assert.equal(payload.custom_details.incident_id, 'inc-1');
    assert.equal(payload.custom_details.Reason, 'no heartbeat for 90s');
    assert.equal(sent[1].payload.custom_details['Escalation level'], '2');
    assert.equal(payload.custom_details.Paged, undefined, 'a page whose reach is not known names nobody');
  });

  test("an escalation after the node's reason changed triggers with the new one", async () => {
    receiver.script(202);
    const later = notification({ event: 'escalated', reason: 'exited with status 3: disk full', incident: { escalation_level: 1, reason: 'no run has ended since it was created' } });
    await channel.send(later, { routing_key: 'R0UT1NGKEY', url: receiver.url }, NOW);
    await receiver.waitFor(() => receiver.requests.length === 1);
    const { payload } = JSON.parse(receiver.requests[0]!.body);
    assert.equal(payload.summary, 'ESCALATED: db-1 — exited with status 3: disk full');
    assert.equal(payload.custom_details.Reason, 'exited with status 3: disk full');
    assert.equal(payload.custom_details.Opened, '2026-11-21 10:00:00 UTC — no run has ended since it was created');
  });

  test('a page names whom it reached, as the other channels do', async () => {
    receiver.script(202);
    const paged = { people: [{ user_id: 'u-ana', name: 'Ana Okafor', schedule_id: 's-1', schedule_name: 'Platform primary' }, { user_id: 'u-bo', name: 'Bo Li' }], channels: 1 };
    await channel.send(notification({ event: 'escalated', incident: { escalation_level: 1 }, paged }), { routing_key: 'R0UT1NGKEY', url: receiver.url }, NOW);
    await receiver.waitFor(() => receiver.requests.length === 1);
    assert.equal(JSON.parse(receiver.requests[0]!.body).payload.custom_details.Paged, 'Ana Okafor (on call in Platform primary), Bo Li and 1 channel');
  });

  test("a resolve with a note is still the bare resolve: PagerDuty would show nothing more of it", async () => {
    const config = { routing_key: 'R0UT1NGKEY', url: receiver.url };
    await channel.send(resolvedNotification({ note: 'Rotated logs.', shownBy: { acknowledged_by: null, resolved_by: 'Bob' } }), config, NOW);
    assert.deepEqual(JSON.parse((await receiver.waitFor()).body), { routing_key: 'R0UT1NGKEY', event_action: 'resolve', dedup_key: 'inc-1' });
  });

  test('a degraded node triggers with warning severity', async () => {
    const n = notification({ reason: 'error rate 12%', incident: { category: 'node_degraded', severity: 'warning' } });
    await channel.send(n, { routing_key: 'R0UT1NGKEY', url: receiver.url }, NOW);
    const event = JSON.parse((await receiver.waitFor()).body);
    assert.equal(event.payload.severity, 'warning');
    assert.equal(event.payload.summary, 'DEGRADED: db-1 — error rate 12%');
  });

  test('an invalid event (400) is permanent; PagerDuty throttling (429) is retryable', async () => {
    const config = { routing_key: 'bad', url: receiver.url };
    receiver.script({ status: 400, body: '{"status":"invalid event"}' }, 429);
    await assert.rejects(channel.send(notification(), config, NOW), isDeliveryError({ permanent: true, code: 'http_400' }));
    await assert.rejects(channel.send(notification(), config, NOW), isDeliveryError({ permanent: false, code: 'http_429' }));
  });
});

describe('createChannels', () => {
  test('builds one channel per type, with email on the configured SMTP server', async () => {
    const sink = await startSmtpSink();
    const channels = createChannels({ smtpUrl: sink.url, mailFrom: 'alerts@lifeline.test' });
    try {
      assert.deepEqual(
        [channels.email.type, channels.webhook.type, channels.slack.type, channels.pagerduty.type],
        ['email', 'webhook', 'slack', 'pagerduty'],
      );
      await channels.email.send(notification({ messageId: 'registry-1' }), { to: ['oncall@example.com'] }, NOW);
      await sink.waitFor((m) => m.headers.get('message-id') === '<registry-1@lifeline.test>');
    } finally {
      channels.close();
      await sink.close();
    }
  });
});
