import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createSql, type Sql } from '../../src/db/client.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { dropDatabases, freshDatabaseName, lockWaiter, urlFor } from '../helpers/db.ts';
import { EngineProcess, engineEnv } from '../helpers/engine-process.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.ts';
import { until } from '../helpers/wait.ts';

// People on call, end to end: an engine as `npm start` runs it, a real SMTP server, the link in
// the email opened in Chromium, and an engine SIGKILLed between two escalation steps.

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
// Links name the address people reach the engine at; the tests reach it on a port chosen at start.
const PUBLIC_URL = 'http://lifeline.e2e.test';
const HOUR = 3_600_000;
const databases: string[] = [];

after(() => dropDatabases(databases));

type Json = Record<string, any>;

function client(base: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  };
}

/** The link labelled `label` in a message's text body, on the engine's real address. */
function linkIn(mail: ReceivedMail, label: 'Acknowledge' | 'Resolve', base: string): string {
  const url = new RegExp(`^${label}: (\\S+?)\\r?$`, 'm').exec(mail.text)?.[1] ?? '';
  assert.ok(url.startsWith(`${PUBLIC_URL}/a/`), `${label} link in:\n${mail.text}`);
  return base + url.slice(PUBLIC_URL.length);
}

/**
 * Brings an incident's next escalation step forward to now. Marked `at_once`, as a timer armed to
 * fire at once is: a timer merely early is put back to its step's time by the policy as it reads.
 */
async function escalationDueNow(sql: Sql, incidentId: string): Promise<void> {
  const moved = await sql`
    update outbox set available_at = now(), payload = payload || '{"at_once": true}'::jsonb
    where topic = 'incident.escalation_due' and payload->>'incident_id' = ${incidentId} returning id`;
  assert.equal(moved.length, 1, 'one escalation timer waits');
}

describe('people on call, end to end', () => {
  let sink: SmtpSink;
  let browser: Browser;
  before(async () => {
    sink = await startSmtpSink();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await sink?.close();
  });

  /** An engine on its own database, mailing the sink, with links under PUBLIC_URL. */
  const env = (db: string) => engineEnv(db, ADMIN, { SMTP_URL: sink.url, MAIL_FROM: 'lifeline@e2e.test', LIFELINE_PUBLIC_URL: PUBLIC_URL, LIFELINE_OUTBOX_POLL_MS: '100' });
  const to = (address: string) => sink.messages.filter((m) => m.envelopeTo.includes(address));

  it('pages only the person on call, who acknowledges from the email; escalation stops and the resolve reaches them', async () => {
    const dbName = freshDatabaseName();
    databases.push(dbName);
    const engine = EngineProcess.start(env(dbName));
    const sql = createSql(urlFor(dbName), { max: 2 });
    try {
      const base = `http://127.0.0.1:${await engine.listeningPort()}`;
      const api = client(base);
      const alice = (await api('POST', '/v1/users', { name: 'Alice', email: 'alice@e2e.test' })).body;
      const bob = (await api('POST', '/v1/users', { name: 'Bob', email: 'bob@e2e.test' })).body;
      // Daily hand-offs, Alice's day began an hour ago: Bob is in the rotation but not on call.
      const rota = await api('POST', '/v1/schedules', {
        name: 'primary',
        time_zone: 'Europe/Berlin',
        layers: [{ name: 'daily', user_ids: [alice.id, bob.id], starts_at: new Date(Date.now() - HOUR).toISOString(), rotation: 'P1D' }],
      });
      assert.equal(rota.status, 201, JSON.stringify(rota.body));
      const policy = await api('POST', '/v1/escalation-policies', {
        name: 'default',
        is_default: true,
        levels: [{ after_seconds: 0, schedule_ids: [rota.body.id] }, { after_seconds: 3600, user_ids: [bob.id] }],
      });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      const onCall = await api('GET', '/v1/schedules/primary/on-call');
      assert.deepEqual(onCall.body.user_ids, [alice.id]);

      const node = (await api('POST', '/v1/nodes', { name: 'db-1', heartbeat_interval_seconds: 1, failures_for_down: 2 })).body;
      const beat = (status: string) => fetch(`${base}/v1/heartbeats`, { method: 'POST', headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ status }) });
      assert.equal((await beat('ok')).status, 202);

      const down = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] DOWN: db-1'));
      assert.deepEqual(down.envelopeTo, ['alice@e2e.test']);
      const [incident] = (await api('GET', `/v1/incidents?node_id=${node.id}`)).body.items as Json[];

      // Opening the link only shows what it will do: mail scanners open links too.
      const ack = linkIn(down, 'Acknowledge', base);
      const shown = await fetch(ack);
      assert.equal(shown.status, 200);
      assert.match(await shown.text(), /Acknowledge as Alice/);
      assert.equal((await api('GET', `/v1/incidents/${incident!.id}`)).body.status, 'open');

      // In a browser: the page under its own CSP, and its button.
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`error: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      page.on('request', (r) => new URL(r.url()).origin !== base && problems.push(`request to ${r.url()}`));
      await page.goto(ack);
      await page.getByRole('button', { name: 'Acknowledge as Alice' }).click();
      await page.getByRole('heading', { name: 'Acknowledged by Alice' }).waitFor();
      assert.deepEqual(problems, []);
      await page.close();

      const acked = (await api('GET', `/v1/incidents/${incident!.id}`)).body;
      assert.deepEqual([acked.status, acked.acknowledged_by], ['acknowledged', 'Alice']);
      assert.deepEqual(acked.timeline.find((t: Json) => t.kind === 'acknowledged').detail, { by: 'Alice', via: 'link', user_id: alice.id });
      // Alice acknowledged it herself: she is not emailed her own acknowledgement (checked below).

      // Level 1 (Bob, an hour later) comes due: it finds the incident acknowledged and stops.
      await escalationDueNow(sql, incident!.id);
      const stopped = await until('escalation to stop', async () => {
        const t = ((await api('GET', `/v1/incidents/${incident!.id}`)).body.timeline as Json[]).find((e) => e.kind === 'escalation_stopped');
        return t;
      });
      assert.deepEqual(stopped.detail, { step: 1, reason: 'acknowledged', by: 'Alice' });

      assert.equal((await beat('ok')).status, 202);
      const resolved = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] RESOLVED: db-1'));
      assert.deepEqual(resolved.envelopeTo, ['alice@e2e.test']);
      assert.doesNotMatch(resolved.text, /^(Acknowledge|Resolve): /m, 'a resolve carries no links');
      const deliveries = await until('every delivery sent', async () => {
        const items = (await api('GET', `/v1/incidents/${incident!.id}/deliveries`)).body.items as Json[];
        return items.length === 2 && items.every((d) => d.status === 'sent') ? items : undefined;
      });
      assert.deepEqual(deliveries.map((d) => [d.event, d.user_id, d.channel_id, d.channel_type]), [
        ['opened', alice.id, null, 'email'],
        ['resolved', alice.id, null, 'email'],
      ]);
      assert.deepEqual(to('bob@e2e.test'), [], 'Bob, not on call, heard nothing');
      assert.deepEqual(to('alice@e2e.test').map((m) => m.subject.split(':')[0]), ['[Lifeline] DOWN', '[Lifeline] RESOLVED'], 'no email of her own acknowledgement');
    } finally {
      engine.kill('SIGTERM');
      await engine.exited;
      await sql.end();
    }
  });

  it('a leader SIGKILLed inside the second step to a schedule: the next engine pages whoever is on call by then', async () => {
    const dbName = freshDatabaseName();
    databases.push(dbName);
    const shared = env(dbName);
    const first = EngineProcess.start(shared);
    const sql = createSql(urlFor(dbName), { max: 2 });
    let second: EngineProcess | undefined;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    try {
      const base = `http://127.0.0.1:${await first.listeningPort()}`;
      const api = client(base);
      const carol = (await api('POST', '/v1/users', { name: 'Carol', email: 'carol@e2e.test' })).body;
      const dave = (await api('POST', '/v1/users', { name: 'Dave', email: 'dave@e2e.test' })).body;
      const rota = (await api('POST', '/v1/schedules', {
        name: 'rota',
        time_zone: 'UTC',
        layers: [{ name: 'weekly', user_ids: [carol.id], starts_at: new Date(Date.now() - HOUR).toISOString(), rotation: 'P1W' }],
      })).body;
      await api('POST', '/v1/escalation-policies', {
        name: 'default',
        is_default: true,
        levels: [{ after_seconds: 0, schedule_ids: [rota.id] }, { after_seconds: 3600, schedule_ids: [rota.id] }],
      });
      const node = (await api('POST', '/v1/nodes', { name: 'queue-1', heartbeat_interval_seconds: 1, failures_for_down: 2 })).body;
      await fetch(`${base}/v1/heartbeats`, { method: 'POST', headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' }, body: '{}' });
      const down = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] DOWN: queue-1'));
      assert.deepEqual(down.envelopeTo, ['carol@e2e.test']);
      const [incident] = (await api('GET', `/v1/incidents?node_id=${node.id}`)).body.items as Json[];

      // Dave takes over before the second step; the first engine then dies inside that step.
      const override = await api('POST', `/v1/schedules/${rota.id}/overrides`, { user_id: dave.id, starts_at: new Date().toISOString(), ends_at: new Date(Date.now() + HOUR).toISOString() });
      assert.equal(override.status, 201);
      const holder = sql.begin(async (tx) => {
        await tx`select 1 from incidents where id = ${incident!.id} for update`;
        await released;
      });
      await escalationDueNow(sql, incident!.id);
      await lockWaiter(sql); // the first engine's outbox worker is inside the step, waiting for the incident
      first.kill('SIGKILL');
      await first.exited;
      release();
      await holder;

      second = EngineProcess.start(shared);
      await second.listeningPort();
      const escalated = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] ESCALATED: queue-1'));
      assert.deepEqual(escalated.envelopeTo, ['dave@e2e.test']);
      const api2 = client(`http://127.0.0.1:${await second.listeningPort()}`);
      const timeline = (await api2('GET', `/v1/incidents/${incident!.id}`)).body.timeline as Json[];
      const steps = timeline.filter((t) => t.kind === 'escalated');
      assert.equal(steps.length, 1, 'the step ran once, on the second engine');
      assert.deepEqual(steps[0]!.detail.users, [{ user_id: dave.id, schedule_id: rota.id, name: 'Dave' }]);
      assert.deepEqual(to('carol@e2e.test').map((m) => m.subject.split(':')[0]), ['[Lifeline] DOWN'], 'Carol was paged once, at the first step');
    } finally {
      release();
      first.kill('SIGKILL');
      second?.kill('SIGTERM');
      await second?.exited;
      await sql.end();
    }
  });
});
