import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { EMPTY_POLL_MS, ENGINE_DEFAULTS, runOutage, WORKERS, type Delivery, type OutageResult } from './outage.ts';
import { int, ms, pct, row, sec, section, type Section } from './report.ts';
import type { Scope } from './scope.ts';
import { max, percentile } from './stats.ts';

const ENQUEUE_TARGET_MS = 1000;

const webhooks = (r: OutageResult) => r.deliveries.filter((d) => d.channel === 'webhook');
const lags = (ds: Delivery[], at: (d: Delivery) => number) => ds.map((d) => at(d) - d.commitSentAt).filter(Number.isFinite);
const p50p99 = (xs: number[]) => `${ms(percentile(xs, 50), 0)} / ${ms(percentile(xs, 99), 0)}`;
const firstCommit = (r: OutageResult) => Math.min(...r.commits.map((c) => c.sentAt));
/** Events per second from the first transition commit until the outbox was seen empty. */
const eventsPerSecond = (r: OutageResult) => (r.outboxEvents / (r.outboxEmptyAt - firstCommit(r))) * 1000;
const lastArrival = (r: OutageResult) => max(webhooks(r).map((d) => d.arrivedAt).filter(Number.isFinite));

interface Once {
  received: number;
  duplicates: number;
  missing: number;
  unexpected: number;
}

/** Every webhook delivery in the ledger arrived, each exactly once, and nothing else did. */
function exactlyOnce(r: OutageResult): Once {
  const ledger = new Set(webhooks(r).map((d) => d.id));
  const got = r.arrivals.webhooks;
  const gotIds = new Set(got.map(([id]) => id));
  return {
    received: got.length,
    duplicates: got.filter(([, , times]) => times > 1).length,
    missing: [...ledger].filter((id) => !gotIds.has(id)).length,
    unexpected: got.filter(([id]) => !ledger.has(id)).length + r.arrivals.rejected,
  };
}

function onceCell(o: Once, n: number): string {
  return `${int(o.received)} of ${int(n)} ids; ${int(o.duplicates)} twice, ${int(o.missing)} missing, ${int(o.unexpected)} unexpected or unsigned`;
}

/** "19 × 500 + 480": equal neighbours counted, so 20 digests read in one glance. */
function runs(xs: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j < xs.length && xs[j] === xs[i]) j++;
    parts.push(j - i > 1 ? `${j - i} × ${int(xs[i]!)}` : int(xs[i]!));
    i = j;
  }
  return parts.join(' + ') || 'none';
}

function stormNote(r: OutageResult): string {
  const email = r.deliveries.filter((d) => d.channel === 'email');
  const held = email.filter((d) => d.digest).length;
  const single = email.length - held;
  const alone = r.arrivals.mails.filter((m) => m.event !== 'digest').length;
  const threshold = ENGINE_DEFAULTS.stormThreshold;
  // markStorms counts the channel's committed deliveries, so fan-out batches running at once each see the same count.
  const over =
    single > threshold
      ? ` More than the threshold were sent alone because the ${WORKERS} workers' fan-out batches ran at the same time and each counted only deliveries already committed.`
      : '';
  const digests = r.arrivals.mails.filter((m) => m.event === 'digest').map((m) => Number(/\d[\d,]*/.exec(m.subject)?.[0]?.replace(/,/g, '') ?? Number.NaN));
  const passes = r.digest?.passMs ?? [];
  const intervalS = ENGINE_DEFAULTS.digestIntervalMs / 1000;
  const left = r.digest?.left ? ` ${int(r.digest.left)} updates were still held when the passes stopped.` : '';
  return (
    `Storm rule, email channel paged in the same outage (LIFELINE_STORM_THRESHOLD ${threshold}): ${int(email.length)} updates in the ledger; ` +
    `${int(single)} to be sent alone (${int(alone)} such emails received) and ${int(held)} held, then ${int(digests.length)} digest emails of ${runs(digests)} updates — ` +
    `${int(alone + digests.length)} messages to a person instead of ${int(email.length)}. The notifier sends at most one digest per channel per pass, ` +
    `one pass every LIFELINE_DIGEST_INTERVAL_MS (${intervalS} s by default); here the passes ran back to back (median ${ms(percentile(passes, 50), 0)}, max ${ms(max(passes), 0)}), ` +
    `so at the default interval the last held update would go out about ${int(Math.max(0, digests.length - 1) * intervalS)} s after the first digest.${left}${over}`
  );
}

export async function benchOnCall(o: BenchOptions, scope: Scope): Promise<Section> {
  const n = o.oncallNodes;
  const b = o.oncallBaselineNodes;
  const s = section(`7. On-call in a mass outage (${int(n)} nodes down at once; baseline ${int(b)} nodes)`);

  progress(`oncall: Lifeline — ${int(n)} nodes, ${WORKERS} outbox workers`);
  const life = await runOutage(scope, { label: 'life', nodes: n, consumer: 'lifeline', digests: true, pagesOnly: o.oncallPagesOnly });
  progress(`oncall: one-at-a-time baseline — ${int(b)} nodes`);
  const naive = await runOutage(scope, { label: 'naive', nodes: b, consumer: 'one-at-a-time', digests: false, pagesOnly: o.oncallPagesOnly });

  const enqueue = lags(webhooks(life), (d) => d.enqueuedAt);
  const naiveEnqueue = lags(webhooks(naive), (d) => d.enqueuedAt);
  const arrived = lags(webhooks(life), (d) => d.arrivedAt);
  const naiveArrived = lags(webhooks(naive), (d) => d.arrivedAt);
  const sent = lags(webhooks(life), (d) => d.sentAt);
  const naiveSent = lags(webhooks(naive), (d) => d.sentAt);
  const once = exactlyOnce(life);
  const naiveOnce = exactlyOnce(naive);
  const allOnce = (x: Once, size: number) => x.received === size && x.duplicates === 0 && x.missing === 0 && x.unexpected === 0;

  row(s, `evaluator pass: every node down (${life.commits.length} / ${naive.commits.length} transactions)`, sec(life.passMs / 1000), sec(naive.passMs / 1000), '—');
  row(
    s,
    `outbox: node.state_changed, each paging in its own transaction (${int(life.outboxEvents)} / ${int(naive.outboxEvents)} events), first commit → outbox empty`,
    `${int(eventsPerSecond(life))} events/s (${sec((life.outboxEmptyAt - firstCommit(life)) / 1000, 1)})`,
    `${int(eventsPerSecond(naive))} events/s (${sec((naive.outboxEmptyAt - firstCommit(naive)) / 1000, 1)})`,
    '— (report)',
  );
  row(s, 'incidents opened (one per node)', int(life.incidents), int(naive.incidents), `${int(n)} / ${int(b)}`, life.incidents === n && naive.incidents === b);
  row(s, 'transition commit → webhook notification enqueued, p50 / p99', p50p99(enqueue), p50p99(naiveEnqueue), `p99 ≤ ${int(ENQUEUE_TARGET_MS)} ms`, enqueue.length === n && percentile(enqueue, 99) <= ENQUEUE_TARGET_MS);
  row(s, 'transition commit → webhook notification enqueued, max', ms(max(enqueue), 0), ms(max(naiveEnqueue), 0), '—');
  row(s, 'transition commit → webhook received, p50 / p99', p50p99(arrived), p50p99(naiveArrived), '— (report)');
  row(s, 'transition commit → delivery marked sent (deliveries.sent_at), p50 / p99', p50p99(sent), p50p99(naiveSent), '—');
  row(s, 'first transition commit → every webhook received', sec((lastArrival(life) - firstCommit(life)) / 1000, 1), sec((lastArrival(naive) - firstCommit(naive)) / 1000, 1), '— (report)');
  const perPage = (r: OutageResult, window: keyof OutageResult['cpu']) =>
    `${int((r.cpu[window].engineMs * 1000) / r.spec.nodes)} µs / ${int((r.cpu[window].postgresMs * 1000) / r.spec.nodes)} µs`;
  for (const [window, label] of [['paged', 'outbox empty'], ['sent', 'every page sent']] as const) {
    row(s, `CPU per page, evaluator pass → ${label}: this process (evaluator, outbox, notifier) / its Postgres backends`, perPage(life, window), perPage(naive, window), '— (report)');
  }
  row(s, 'webhook-ids received exactly once', onceCell(once, n), onceCell(naiveOnce, b), 'each once', allOnce(once, n) && allOnce(naiveOnce, b));

  const handlerTimes = (r: OutageResult) =>
    r.handlers
      .map((h) => `${h.handler} ${ms(h.ms / h.events, 2)} per event${h.batches < h.events ? ` (${ms(h.ms / h.batches, 0)} per batch of ${int(h.events / h.batches)})` : ''}`)
      .join('; ');
  const handlerShare = (r: OutageResult) => r.handlers.reduce((t, h) => t + h.ms, 0) / WORKERS / (r.outboxEmptyAt - firstCommit(r));
  const hooks = webhooks(life);
  const firstEnqueue = Math.min(...hooks.map((d) => d.enqueuedAt)) - firstCommit(life);
  const notifierTail = lastArrival(life) - max(hooks.map((d) => d.enqueuedAt));
  const batches = life.commits.map((c) => `+${int(c.sentAt - life.passStartedAt)} ms`).join(', ');
  s.notes.push(
    `Lifeline runs in this process as an engine with every role would: \`Evaluator.runOnce\` on a dedicated session holding the lock (batches of 5,000, one transaction each); ` +
      `\`startOutboxWorkers\` (${WORKERS} loops, batches of 500, NOTIFY wake-ups) with \`registerOnCallHandlers\` only (the engine also runs the uptime handler on node.state_changed; section 8 times it); ` +
      `\`startNotifier\` with its default concurrency on real BullMQ (local Redis, a private prefix removed afterwards); outbox, queue and notifier share one pool of ${10 + WORKERS} as in workers/engine.ts. ` +
      `Fresh database per run: a healthy fleet (30 s interval, 3 failures), one webhook channel (sealed secret) and one email channel, both paged at level 0 of the default policy (no further levels). ` +
      `Every heartbeat is then made a day old and every node due, and one evaluator pass takes the fleet down.`,
    `Baseline: the same chain on ${int(b)} nodes (a smaller fleet, so it finishes in bounded time), except the outbox consumer: one \`OutboxDispatcher\` with batchSize 1 ` +
      `(one event per transaction, polling every 10 ms when idle). Its latencies are over ${int(b)} nodes, not ${int(n)}.`,
    `Receiver: test/bench/receiver.ts in a child process (node:http answering 200 at once, Standard Webhooks signatures checked; an SMTP sink for the email channel), noting each webhook-id's first arrival.`,
    `Commit time: the evaluator's Leadership is subclassed (test/bench/commit-clock.ts) to read each batch's transaction id and note the time just before its COMMIT is sent; ` +
      `every node_state_log row carries that id as xmin, so each delivery is tied to the commit of its own transition. Latencies count from that moment, so they are upper bounds by at most the COMMIT round trip ` +
      `(longest here: ${ms(max(life.commits.map((c) => c.ackAt - c.sentAt)), 1)}). Enqueued = deliveries.enqueued_at, stamped after BullMQ's addBulk returned; received = the receiver's clock (same host). ` +
      `Outbox empty = the first ${EMPTY_POLL_MS}-ms poll after the pass that found no row. ` +
      `CPU is utime + stime from the evaluator pass until the outbox was seen empty (sends that overlapped included), and until every webhook arrived and every email not held for a digest was sent (the whole chain but the digests): this process's from process.cpuUsage(), the Postgres backends' (the evaluator's session and the pool's) from /proc; it carries over from a loaded machine where the latencies do not.`,
    `Evaluator batches committed at ${batches} after the pass began; the first notification was enqueued ${ms(firstEnqueue, 0)} after the first commit, ` +
      `the last webhook arrived ${ms(notifierTail, 0)} after the last was enqueued; ${int(life.deadEvents)} outbox events dead.`,
    `Where the outbox time goes (handlers timed inside the claiming transactions, test/bench/timed-registry.ts): ${handlerTimes(life)}; ` +
      `handlers fill about ${pct(handlerShare(life), 0)} of the ${WORKERS} workers' time from first commit to empty. Baseline: ${handlerTimes(naive)}. ` +
      `This process's event-loop delay meanwhile (evaluator, outbox and notifier share it): p50 ${ms(life.loopDelay.p50)}, p99 ${ms(life.loopDelay.p99)}, max ${ms(life.loopDelay.max, 0)}.`,
    stormNote(life),
  );
  if (o.oncallPagesOnly) {
    s.notes.push(
      'Run with --oncall-pages-only: the notifier (and its sweeper) started only once the outbox was empty, so the enqueue latencies and the CPU to outbox empty are the page path alone (evaluator, outbox workers, BullMQ adds); the received and sent latencies include that wait.',
    );
  }
  return s;
}
