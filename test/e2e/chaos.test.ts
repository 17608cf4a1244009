// A mass outage on a deployment of five engine processes sharing one database and one Redis, with
// the crashes and outages a real one meets on the way: the evaluator leader and a worker SIGKILLed
// (the worker while its sends hang), Redis killed and brought back empty, the webhook receiver and
// the SMTP server refusing for a while. Afterwards every promise is checked against what the
// receivers actually accepted and against the tables: one page and one resolve per incident and
// channel, one incident per silent node, an unbroken transition log, nothing left over.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { deliveryId } from '../../src/notifications/model.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { EngineProcess, engineEnv, type LogLine } from '../helpers/engine-process.ts';
import { startPrivateRedis } from '../helpers/redis-server.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.ts';
import { until } from '../helpers/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;

// 96 nodes go silent in two waves of 48 (each wave more than one notifier's worth of concurrent
// sends, SENDS_PER_WORKER as the engines are started, so the receiver can hold some of every
// worker's); 24 keep beating throughout.
const WAVE = 48;
const SENDS_PER_WORKER = 32;
const ALIVE = 24;
const names = (from: number, count: number) => Array.from({ length: count }, (_, i) => `chaos-${String(from + i).padStart(3, '0')}`);
const WAVE_A = names(0, WAVE);
const WAVE_B = names(WAVE, WAVE);
const STEADY = names(2 * WAVE, ALIVE);
const SILENT = [...WAVE_A, ...WAVE_B];

// A silent node is down 5 s after its last heartbeat; beats go every 250 ms, so a node that keeps
// beating is never late by more than a stall of several seconds on a loaded machine. The steady
// nodes get three times the margin: they must never open an incident.
const SILENT_SETTINGS = { heartbeat_interval_seconds: 1, failures_for_down: 5 };
const STEADY_SETTINGS = { heartbeat_interval_seconds: 5, failures_for_down: 3 };
const BEAT_EVERY_MS = 250;

const LEADER = 'became evaluator leader';
const ENQUEUE_FAILED = 'could not enqueue deliveries now; the sweeper will';
const REDIS_RESYNCED = 'gave a new or emptied job store every unfinished delivery';

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

function apiClient(port: number): Api {
  return async (method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
}

/** The fleet's agents, batched through one collector: every node in `beating` reports ok every 250 ms. */
function startFleet(api: Api) {
  const beating = new Set<string>();
  const failures: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      if (beating.size > 0) {
        try {
          const res = await api('POST', '/v1/heartbeats', { heartbeats: [...beating].map((node) => ({ node, status: 'ok' })) });
          if (res.status !== 202) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
      await delay(BEAT_EVERY_MS);
    }
  })();
  return {
    beating,
    failures,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Matches a line this process logs from now on, not one it logged before. */
function fromNow(p: EngineProcess, match: (l: LogLine) => boolean) {
  const from = p.lines.length;
  return (l: LogLine) => match(l) && p.lines.indexOf(l) >= from;
}

/** The first of these processes to log a matching line (each looking only at lines from now on). */
async function firstToSay(ps: EngineProcess[], msg: string): Promise<EngineProcess> {
  try {
    return await Promise.any(ps.map((p) => p.waitFor(fromNow(p, (l) => l.msg === msg)).then(() => p)));
  } catch (err) {
    const why = err instanceof AggregateError ? err.errors.map((e: Error) => e.message).join(' || ') : String(err);
    throw new Error(`none of ${ps.length} processes said "${msg}": ${why}`);
  }
}

/** The evaluator whose last word on leadership is that it leads. */
function leaderAmong(ps: EngineProcess[]): EngineProcess | undefined {
  const leads = (p: EngineProcess) => p.lines.findLast((l) => /evaluator leader$/.test(l.msg))?.msg === LEADER;
  const leaders = ps.filter((p) => p.child.exitCode === null && p.child.signalCode === null && leads(p));
  return leaders.length === 1 ? leaders[0] : undefined;
}

async function scalar(query: Promise<{ n: number }[]>): Promise<number> {
  const [row] = await query;
  return row!.n;
}

describe('chaos: a mass outage through crashes, a Redis wipe and refusing receivers', () => {
  let db: TestDatabase;
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  let hook: WebhookReceiver;
  let sink: SmtpSink;
  const secret = generateWebhookSecret();
  const processes: EngineProcess[] = [];
  const rolesOf = new Map<EngineProcess, string>();

  before(async () => {
    [db, redis, hook, sink] = await Promise.all([createTestDatabase(), startPrivateRedis(), startWebhookReceiver({ secret }), startSmtpSink()]);
  });
  let passed = false;
  after(async () => {
    if (!passed) {
      // Five processes' worth of logs do not fit in a failure message: keep them for the post-mortem.
      const dir = mkdtempSync(join(tmpdir(), 'lifeline-chaos-'));
      processes.forEach((p, i) => writeFileSync(join(dir, `${i}-${rolesOf.get(p)!.replace(',', '+')}.log`), [...p.lines.map((l) => JSON.stringify(l)), ...p.stderr].join('\n')));
      console.error(`chaos: the engines' logs are in ${dir}`);
    }
    for (const p of processes) p.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await Promise.all([hook.close(), sink.close(), redis.stop()]);
    await db.drop();
  });

  it('pages and resolves every incident once per channel, and leaves nothing behind', { timeout: 600_000 }, async (t) => {
    const started = Date.now();
    const env = engineEnv(db.name, ADMIN, {
      REDIS_URL: redis.url,
      LIFELINE_SECRET_KEY: randomBytes(32).toString('hex'),
      SMTP_URL: sink.url,
      MAIL_FROM: 'lifeline@chaos.test',
      // Seven processes on a machine whose Postgres other test runs share: a small pool each.
      LIFELINE_DB_POOL_MAX: '5',
      LIFELINE_EVALUATOR_INTERVAL_MS: '200',
      LIFELINE_OUTBOX_POLL_MS: '200',
      // The storm threshold stays at its default: the first DOWN mails go alone, the rest of the
      // outage (and its resolves) in digests, each counting as the page for the updates it lists.
      LIFELINE_DIGEST_INTERVAL_MS: '500',
      // 200 ms doubling: the 12 attempts span about 7 minutes, far longer than any outage below.
      LIFELINE_DELIVERY_BACKOFF_MS: '200',
      LIFELINE_DELIVERY_CONCURRENCY: String(SENDS_PER_WORKER),
      // The killed worker's rows wait for its leases to lapse before another sends them: 30 s
      // (start within 15 s, then 15 s for a 10 s HTTP answer and its mark) rather than the default
      // 2 minutes, so the outage settles within the test's patience.
      LIFELINE_DELIVERY_LEASE_MS: '30000',
    });
    const start = (roles: string) => {
      const p = EngineProcess.start({ ...env, LIFELINE_ROLES: roles });
      processes.push(p);
      rolesOf.set(p, roles);
      return p;
    };
    const apiProcess = start('api');
    const evaluators = [start('evaluator'), start('evaluator')];
    const workers = [start('outbox,notifier'), start('outbox,notifier')];
    await Promise.all(processes.map((p) => p.listeningPort()));
    const api = apiClient(await apiProcess.listeningPort());
    const kills: string[] = [];

    // --- A default policy paging a webhook and an email channel, and the fleet, all healthy.
    const webhook = await api('POST', '/v1/channels', { name: 'hook', type: 'webhook', config: { url: hook.url, secret } });
    const email = await api('POST', '/v1/channels', { name: 'mail', type: 'email', config: { to: ['oncall@chaos.test'] } });
    assert.deepEqual([webhook.status, email.status], [201, 201]);
    const policy = await api('POST', '/v1/escalation-policies', {
      name: 'default',
      levels: [{ after_seconds: 0, channel_ids: [webhook.body.id, email.body.id] }],
      is_default: true,
    });
    assert.equal(policy.status, 201);
    const nodeIds = new Map<string, string>();
    const create = async (name: string) => {
      const created = await api('POST', '/v1/nodes', { name, ...(STEADY.includes(name) ? STEADY_SETTINGS : SILENT_SETTINGS) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      nodeIds.set(name, created.body.id);
    };
    const all = [...SILENT, ...STEADY];
    for (let i = 0; i < all.length; i += 8) await Promise.all(all.slice(i, i + 8).map(create));
    const fleet = startFleet(api);
    try {
      for (const name of all) fleet.beating.add(name);
      await until(
        'the whole fleet healthy',
        async () => (await scalar(db.sql`select count(*)::int as n from node_health where state = 'healthy'`)) === all.length,
      );
      const setupDone = Date.now();

      // --- The receivers start failing: the webhook holds every request, the SMTP server defers.
      hook.answerAll('hang');
      sink.refuseAll(451);

      // --- Wave A goes silent. Once the first of it is judged down, the leader is SIGKILLed.
      for (const name of WAVE_A) fleet.beating.delete(name);
      await until('a first node judged down', async () => (await db.sql`select 1 from node_state_log where to_state = 'down' limit 1`).length > 0);
      const leader1 = await until('one evaluator leading', async () => leaderAmong(evaluators));
      const takeover1 = firstToSay(evaluators.filter((e) => e !== leader1), LEADER);
      leader1.kill('SIGKILL');
      kills.push('evaluator leader');
      await takeover1;
      evaluators.push(start('evaluator')); // as an orchestrator would replace it

      // --- Both workers are mid-send (the receiver holds more requests than one worker can have in
      // flight): one of them is SIGKILLed, and replaced. Nothing was accepted yet, so whatever it
      // was sending can only be sent again, never twice.
      await until('both workers holding hanging webhook requests', async () => hook.hanging.length > SENDS_PER_WORKER);
      const heldAtKill = hook.hanging;
      workers[0]!.kill('SIGKILL');
      kills.push('worker mid-send');
      await workers[0]!.exited;
      workers.push(start('outbox,notifier'));
      // The receiver sees the dead worker's connections close: proof it was inside those sends.
      await until("the killed worker's sends to break off", async () => heldAtKill.some((r) => !hook.hanging.includes(r)));
      const abandoned = heldAtKill.filter((r) => !hook.hanging.includes(r)).length;
      hook.release(500);
      hook.answerAll(500);

      // --- Wave B goes silent while Redis is dead: its pages are written to the ledger but cannot
      // be queued. Redis then comes back empty, losing every job (including the killed worker's).
      await redis.stop();
      kills.push('redis');
      const enqueueFailed = firstToSay(workers.slice(1), ENQUEUE_FAILED);
      for (const name of WAVE_B) fleet.beating.delete(name);
      await until(
        'every silent node down with its incident open',
        async () => (await scalar(db.sql`select count(*)::int as n from incidents where status = 'open'`)) >= SILENT.length,
      );
      await enqueueFailed;
      const resynced = firstToSay(workers.slice(1), REDIS_RESYNCED);
      await redis.start();
      await resynced;

      // --- The silent nodes come back while the receivers still refuse; once the first has
      // recovered, the (new) leader is SIGKILLed too.
      for (const name of SILENT) fleet.beating.add(name);
      await until(
        'a first node back up',
        async () => (await db.sql`select 1 from node_state_log where from_state = 'down' and to_state = 'healthy' limit 1`).length > 0,
      );
      const leader2 = await until('one evaluator leading', async () => leaderAmong(evaluators));
      const takeover2 = firstToSay(evaluators.filter((e) => e !== leader2 && e.child.signalCode === null), LEADER);
      leader2.kill('SIGKILL');
      kills.push('evaluator leader');
      await takeover2;
      await until(
        'the fleet healthy with no incident open',
        async () => {
          const [row] = await db.sql<{ healthy: number; open: number }[]>`
            select (select count(*)::int from node_health where state = 'healthy') as healthy,
                   (select count(*)::int from incidents where status <> 'resolved') as open`;
          return row!.healthy === all.length && row!.open === 0;
        },
      );

      // --- The receivers recover; everything owed must now arrive, once.
      const refusedUntil = Date.now();
      hook.answerAll(200);
      sink.refuseAll(null);
      await until(
        'every delivery settled and the outbox empty',
        async () => {
          const [row] = await db.sql<{ unsettled: number; outbox: number }[]>`
            select (select count(*)::int from deliveries where status in ('pending', 'failed')) as unsettled,
                   (select count(*)::int from outbox) as outbox`;
          return row!.unsettled === 0 && row!.outbox === 0;
        },
      );
      const settled = Date.now();
      await fleet.stop();
      assert.deepEqual(fleet.failures, [], 'every heartbeat batch was accepted');

      // The survivors still stop cleanly.
      const survivors = processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
      for (const p of survivors) p.kill('SIGTERM');
      assert.deepEqual(
        (await Promise.all(survivors.map((p) => p.exited))).map((x) => x.code),
        survivors.map(() => 0),
      );

      // ---------------------------------------------------------------- what was promised
      const incidents = await db.sql<{ id: string; node_name: string; category: string; status: string; resolved_by: string }[]>`
        select id, node_name, category, status, resolved_by from incidents`;
      assert.deepEqual(
        incidents.map((i) => [i.node_name, i.category, i.status, i.resolved_by]).sort(),
        [...SILENT].sort().map((name) => [name, 'node_down', 'resolved', 'auto']),
        'exactly one node_down incident per silent node, each resolved when it came back, none for the others',
      );
      const incidentOf = new Map(incidents.map((i) => [i.node_name, i.id]));

      await assertTransitionLog(db, nodeIds);

      // The ledger: four rows per incident, all sent; nothing dead or waiting, no dead outbox event.
      const ledger = await db.sql<{ event: string; channel_type: string; status: string; n: number }[]>`
        select event, channel_type, status, count(*)::int as n from deliveries group by 1, 2, 3 order by 1, 2, 3`;
      assert.deepEqual(
        ledger.map((r) => [r.event, r.channel_type, r.status, r.n]),
        [
          ['opened', 'email', 'sent', SILENT.length],
          ['opened', 'webhook', 'sent', SILENT.length],
          ['resolved', 'email', 'sent', SILENT.length],
          ['resolved', 'webhook', 'sent', SILENT.length],
        ],
      );
      assert.equal(await scalar(db.sql`select count(*)::int as n from outbox_dead`), 0, 'no outbox event parked as dead');

      const webhookCounts = assertWebhooks(hook, incidentOf, webhook.body.id);
      const emailCounts = assertEmails(sink, incidentOf);

      // The chaos bit: sends were refused and retried, a Redis with no jobs was refilled.
      const [retries] = await db.sql<{ retried: number; max: number }[]>`
        select count(*) filter (where attempts > 1)::int as retried, max(attempts)::int as max from deliveries`;
      assert.ok(retries!.retried > 0, 'some deliveries needed more than one attempt');
      assert.ok(sink.refusals > 0, 'the SMTP server refused mail');

      passed = true;
      t.diagnostic(
        `chaos: ${all.length} nodes, ${incidents.length} incidents; kills: ${kills.join(', ')}; ` +
          `${heldAtKill.length} webhook requests hanging at the worker kill, at least ${abandoned} of them broken off by it; ` +
          `webhook: ${hook.requests.length} requests, ${webhookCounts.accepted} accepted, ${webhookCounts.refused} refused, ${webhookCounts.unanswered} never answered; ` +
          `email: ${sink.messages.length} accepted (${emailCounts.single} single, ${emailCounts.digests} digests listing ${emailCounts.digested} updates), ${sink.refusals} refused; ` +
          `deliveries retried: ${retries!.retried}, most attempts: ${retries!.max}; ` +
          `setup ${((setupDone - started) / 1000).toFixed(1)} s, chaos until receivers recovered ${((refusedUntil - setupDone) / 1000).toFixed(1)} s, ` +
          `settled ${((settled - refusedUntil) / 1000).toFixed(1)} s later`,
      );
    } finally {
      await fleet.stop();
    }
  });
});

/**
 * node_state_log numbers each node's transitions 1..n with no gap or repeat, each starting where
 * the last ended, and node_health.version is n. A silent node went healthy → down → healthy once;
 * a steady one only ever became healthy.
 */
async function assertTransitionLog(db: TestDatabase, nodeIds: Map<string, string>): Promise<void> {
  const rows = await db.sql<{ node_id: string; version: number; versions: number[]; path: string[] }[]>`
    select s.node_id, s.version,
           coalesce(array_agg(l.state_version order by l.state_version) filter (where l.node_id is not null), '{}') as versions,
           coalesce(array_agg(l.from_state || '>' || l.to_state order by l.state_version) filter (where l.node_id is not null), '{}') as path
    from node_health s left join node_state_log l on l.node_id = s.node_id
    group by s.node_id, s.version`;
  const byId = new Map(rows.map((r) => [r.node_id, r]));
  const wrong: string[] = [];
  for (const [name, id] of nodeIds) {
    const r = byId.get(id);
    if (!r) {
      wrong.push(`${name}: no state`);
      continue;
    }
    const consecutive = r.versions.every((v, i) => v === i + 1) && r.version === r.versions.length;
    const chained = r.path.every((step, i) => i === 0 || r.path[i - 1]!.split('>')[1] === step.split('>')[0]);
    const expected = STEADY.includes(name) ? ['unknown>healthy'] : ['unknown>healthy', 'healthy>down', 'down>healthy'];
    if (!consecutive || !chained || r.path.join() !== expected.join()) {
      wrong.push(`${name}: versions ${r.versions.join(',')} (state version ${r.version}), path ${r.path.join(' ')}`);
    }
  }
  assert.deepEqual(wrong, [], 'every node has consecutive state versions and the transitions it lived through');
}

/**
 * Per webhook-id at most one accepted request; per incident exactly one accepted page and one
 * accepted resolve, the page first, each with the ledger row's id. Refused attempts may repeat an
 * id (that is a retry); every request is signed.
 */
function assertWebhooks(hook: WebhookReceiver, incidentOf: Map<string, string>, channelId: string) {
  assert.ok(
    hook.requests.every((r) => r.verified === true),
    'every webhook request carries a valid signature',
  );
  const accepted = hook.requests.filter((r) => r.status !== undefined && r.status < 300);
  const perId = new Map<string, number>();
  for (const r of accepted) perId.set(String(r.headers['webhook-id']), (perId.get(String(r.headers['webhook-id'])) ?? 0) + 1);
  assert.deepEqual(
    [...perId].filter(([, n]) => n > 1),
    [],
    'no webhook-id accepted twice',
  );
  const bodies = new Map(accepted.map((r) => [r, JSON.parse(r.body) as { type: string; data: { incident: { id: string } } }]));
  const wrong: string[] = [];
  for (const [name, incidentId] of incidentOf) {
    const of = (type: string) => accepted.filter((r) => bodies.get(r)!.type === type && bodies.get(r)!.data.incident.id === incidentId);
    const [pages, resolves] = [of('incident.opened'), of('incident.resolved')];
    const ok =
      pages.length === 1 &&
      resolves.length === 1 &&
      pages[0]!.headers['webhook-id'] === deliveryId(incidentId, 'opened', channelId) &&
      resolves[0]!.headers['webhook-id'] === deliveryId(incidentId, 'resolved', channelId) &&
      hook.requests.indexOf(pages[0]!) < hook.requests.indexOf(resolves[0]!);
    if (!ok) wrong.push(`${name}: ${pages.length} pages, ${resolves.length} resolves accepted`);
  }
  assert.deepEqual(wrong, [], 'one page then one resolve accepted per incident');
  assert.equal(accepted.length, 2 * incidentOf.size, 'nothing else accepted');
  return {
    accepted: accepted.length,
    refused: hook.requests.filter((r) => r.status !== undefined && r.status >= 300).length,
    unanswered: hook.requests.filter((r) => r.status === undefined).length,
  };
}

interface EmailUpdate {
  word: string;
  node: string;
  /** Position of the message among those accepted, then of the line within a digest. */
  at: [number, number];
}

/**
 * Per Message-ID at most one accepted message. Each incident's DOWN and RESOLVED each reach the
 * inbox exactly once, alone or listed in a storm digest (which counts as the page for the updates
 * it lists), the DOWN first.
 */
function assertEmails(sink: SmtpSink, incidentOf: Map<string, string>) {
  const ids = sink.messages.map((m) => m.headers.get('message-id'));
  assert.deepEqual(
    ids.filter((id, i) => ids.indexOf(id) !== i),
    [],
    'no Message-ID accepted twice',
  );
  const nameOf = new Map([...incidentOf].map(([name, id]) => [id, name]));
  const updates: EmailUpdate[] = [];
  let digested = 0;
  sink.messages.forEach((m: ReceivedMail, i) => {
    if (m.headers.get('x-lifeline-event') === 'digest') {
      // `DOWN: chaos-7 — no heartbeat …`; a resolve says how it ended: `RESOLVED: chaos-7 recovered after 1m`.
      const lines = [...m.text.matchAll(/ {2}(DOWN|RESOLVED): (chaos-\d+) /g)];
      assert.match(m.subject, new RegExp(`^\\[Lifeline\\] ${lines.length} incident updates?: `), 'a digest lists every update it counts');
      lines.forEach(([, word, node], j) => updates.push({ word: word!, node: node!, at: [i, j] }));
      digested += lines.length;
    } else {
      const word = /^\[Lifeline\] (DOWN|RESOLVED): /.exec(m.subject)?.[1] ?? m.subject;
      updates.push({ word, node: nameOf.get(m.headers.get('x-lifeline-incident-id') ?? '') ?? '?', at: [i, 0] });
    }
  });
  const wrong: string[] = [];
  for (const name of incidentOf.keys()) {
    const down = updates.filter((u) => u.node === name && u.word === 'DOWN');
    const resolved = updates.filter((u) => u.node === name && u.word === 'RESOLVED');
    const inOrder = down.length === 1 && resolved.length === 1 && (down[0]!.at[0] < resolved[0]!.at[0] || (down[0]!.at[0] === resolved[0]!.at[0] && down[0]!.at[1] < resolved[0]!.at[1]));
    if (!inOrder) {
      const where = (us: EmailUpdate[]) => us.map((u) => `#${u.at[0]}`).join(',') || 'none';
      wrong.push(`${name}: DOWN in ${where(down)}, RESOLVED in ${where(resolved)}`);
    }
  }
  assert.deepEqual(wrong, [], 'one DOWN then one RESOLVED email per incident');
  assert.equal(updates.length, 2 * incidentOf.size, 'no other update mailed');
  const digests = sink.messages.filter((m) => m.headers.get('x-lifeline-event') === 'digest').length;
  return { single: sink.messages.length - digests, digests, digested };
}
