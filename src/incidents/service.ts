import type { Acting } from '../audit/model.ts';
import { audit } from '../audit/service.ts';
import type { Clock } from '../clock.ts';
import type { Queryable, Sql, Tx } from '../db/client.ts';
import { lockExisting } from '../db/named-rows.ts';
import { conflict, notFound, Refusal, validationFailed, type ErrorDetail } from '../errors.ts';
import type { State } from '../health/decide.ts';
import { activeMaintenance } from '../maintenance/store.ts';
import { nodeStates } from '../nodes/store.ts';
import { missingIds, namesAnyone, reachesAnyone, type Directory, type EmailSetup, type PolicyLevel, type PolicyRow } from '../oncall/model.ts';
import { directoryOf, recipientsAt } from '../oncall/schedules.ts';
import { getPolicies, policiesForNodes, sharePolicies } from '../oncall/store.ts';
import { deleteUnclaimed, insertOutbox } from '../outbox/store.ts';
import type { NewOutboxEvent, PageRecipients } from '../outbox/topics.ts';
import { actorTextOf } from './actor-names.ts';
import { NOTES_FULL, NOTES_MAX } from './resolve-note.ts';
import { CATEGORIES, categoryFor, incidentTitle, type Category } from './categorize.ts';
import { ackTimeoutTimer, escalationKey, escalationTimer, heldStepTimer, incidentEvent, policyStep, recheckKey, stillAcknowledged } from './events.ts';
import type { UnroutedReason } from '../events.ts';
import { timelineStamp, type IncidentNews, type IncidentRow, type NewIncident, type TimelineEntry } from './model.ts';
import * as store from './store.ts';

interface Resolve {
  incident: IncidentRow;
  at: Date;
  by: string;
  detail: Record<string, unknown>;
}

/**
 * The stamps of changes to these incidents, locked by the caller: timelineStamp from each one's
 * latest entry written under its lock. One rule for a resolve, a note and an acknowledgement, so
 * none sorts above another made after it.
 */
async function stampsOf(tx: Tx, ids: string[], now: Date): Promise<(id: string, floor?: Date) => Date> {
  const latest = await store.latestTimelineAt(tx, ids);
  return (id, floor) => timelineStamp(now, latest.get(id), floor);
}

/**
 * Resolves incidents with their timeline entries and events: one way to write a resolve, whether
 * a node recovered or someone resolved it by hand. The incident is resolved at `at` (for a node
 * that recovered, its transition: the outage's end), but its timeline entry is stamped when it is
 * written (no earlier than the incident's latest entry), with `at` beside it (`node_changed_at`)
 * when they differ. The node's change is handled from the outbox seconds after it, and an
 * escalation that paged meanwhile is stamped when it fired: stamped with the transition, the
 * resolve sorted above the page it answers.
 */
async function resolveWithEvents(tx: Tx, list: Resolve[], now: Date): Promise<{ events: NewOutboxEvent[]; timeline: TimelineEntry[] }> {
  const resolved = new Map((await store.resolveIncidents(tx, list.map((r) => ({ id: r.incident.id, at: r.at, by: r.by })))).map((i) => [i.id, i]));
  const stampOf = await stampsOf(tx, [...resolved.keys()], now);
  const events: NewOutboxEvent[] = [];
  const timeline: TimelineEntry[] = [];
  for (const r of list) {
    const row = resolved.get(r.incident.id);
    if (!row) continue;
    // Never before the change itself (the transition's time is another process's clock, which may
    // run ahead of this one's), nor before the incident's latest locked entry: `now` is read when a
    // batch starts, and another worker's escalation may have taken the lock first with a later clock.
    const stamp = stampOf(row.id, r.at);
    const changedAt = r.at.getTime() === stamp.getTime() ? {} : { node_changed_at: r.at.toISOString() };
    timeline.push({ incident_id: row.id, at: stamp, kind: 'resolved', detail: { by: r.by, ...r.detail, ...changedAt } });
    events.push(incidentEvent(row, 'resolved', r.at, { by: r.by }));
  }
  return { events, timeline };
}

/** Who acts on an incident, and (optionally) the version they saw: a stale one is refused. */
export interface Actor {
  by: string;
  /** The versions an If-Match lists, any of which may be current. */
  expectedVersion?: readonly number[] | undefined;
  /** More about who it was, for the timeline entry (a signed link names its recipient). */
  detail?: Record<string, unknown> | undefined;
}

/** The incident as an action left it, and whether this action changed it (false: it was acknowledged already, the first kept). */
export interface Acted {
  incident: IncidentRow;
  changed: boolean;
}

/**
 * Acknowledging and resolving share their guard: the incident exists, is not resolved (conflict)
 * and, when the caller names a version, is still at it (precondition_failed, naming the change it
 * missed). Then the change, its timeline entry and its outbox event commit together.
 *
 * The change is stamped with the clock read once the row is locked, not when it was asked for: one
 * waiting behind an escalation's step would otherwise be stamped before the `escalated` line it
 * follows (and the `escalation_stopped` that copies its time with it).
 */
async function act(sql: Sql, id: string, actor: Actor, clock: Clock, change: (tx: Tx, row: IncidentRow, now: Date) => Promise<boolean>): Promise<Acted> {
  const changed = await sql.begin(async (tx) => {
    const row = await store.lockIncident(tx, id);
    if (!row) throw notFound(`Incident "${id}"`);
    if (row.status === 'resolved') throw await alreadyResolved(tx, row);
    const expected = actor.expectedVersion;
    if (expected !== undefined && !expected.includes(row.version)) {
      const latest = expected.every((v) => v < row.version) ? latestChange(row, (await store.timelinesOf(tx, [row.id])).get(row.id) ?? []) : undefined;
      throw new Refusal('precondition_failed', `The incident is at version ${row.version}, not ${expected.join(' or ')}${latest ? `; its latest change: ${latest}` : ''}.`);
    }
    return change(tx, row, clock.now());
  });
  const row = await store.getIncident(sql, id);
  if (!row) throw notFound(`Incident "${id}"`);
  return { incident: row, changed };
}

/**
 * Who resolved it and when, as the console's and a link's pages say it (actorText): a client told
 * only "already resolved" could not tell a colleague's resolve from its own earlier retry. Said
 * in the message, and in `details` as the incident's `resolved_by` and `resolved_at` read (each
 * `value`), so a client or the CLI's --json need not parse the sentence.
 */
async function alreadyResolved(tx: Tx, row: IncidentRow): Promise<Refusal> {
  const shownBy = row.resolved_by ? await actorTextOf(tx, row.resolved_by) : undefined;
  const at = row.resolved_at?.toISOString();
  const details: ErrorDetail[] = [
    ...(row.resolved_by && shownBy ? [{ field: 'resolved_by', message: shownBy, value: row.resolved_by }] : []),
    ...(at ? [{ field: 'resolved_at', message: at, value: at }] : []),
  ];
  const message = `The incident was already resolved${shownBy ? ` by ${shownBy}` : ''}${at ? ` at ${at}` : ''}.`;
  return new Refusal('conflict', message, details.length ? details : undefined);
}

/**
 * The latest change that moved an unresolved incident's version, in words, for a client whose
 * If-Match missed it: its acknowledgement, else its latest escalation step or policy replacement.
 */
function latestChange(row: IncidentRow, timeline: TimelineEntry[]): string | undefined {
  if (row.status === 'acknowledged') return `acknowledged by ${row.acknowledged_by} at ${row.acknowledged_at?.toISOString()}`;
  const e = timeline.findLast((t) => t.kind === 'escalated' || t.kind === 'policy_replaced' || (t.kind === 'reached_nobody' && Number(t.detail.step) > 0));
  if (!e) return undefined;
  const at = e.at.toISOString();
  if (e.kind === 'policy_replaced') return `its escalation policy was deleted; it follows "${String(e.detail.policy_name)}" since ${at}`;
  return `escalated to level ${Number(e.detail.level) + 1} at ${at}${e.kind === 'reached_nobody' ? ', which reached nobody' : ''}`;
}

/**
 * Stops escalation and tells the channels that were paged; with a policy that has an
 * acknowledgement timeout, arms its expiry (expireAcknowledgements) in the same transaction.
 * Acknowledging twice keeps the first, and says so (`changed` false).
 */
export function acknowledgeOnce(sql: Sql, id: string, actor: Actor, clock: Clock, acting: Acting): Promise<Acted> {
  return act(sql, id, actor, clock, async (tx, row, now) => {
    // acknowledged_at is its timeline entry's instant: the page tells a second acknowledgement by it.
    const at = (await stampsOf(tx, [row.id], now))(row.id);
    const acked = await store.acknowledgeIncident(tx, row.id, at, actor.by);
    const target = { type: 'incident', id: row.id, name: row.title };
    await audit(tx, acting, { action: 'incident.acknowledge', target, result: acked ? 'done' : 'unchanged', detail: { by: actor.by } }, now);
    if (!acked) return false;
    await store.addTimeline(tx, [{ incident_id: row.id, at, kind: 'acknowledged', detail: { by: actor.by, ...actor.detail } }]);
    const expiry = ackTimeoutTimer(acked, (await escalatingPolicies(tx, [acked])).get(acked.id));
    await insertOutbox(tx, [incidentEvent(acked, 'acknowledged', at, { by: actor.by, ...(acked.reopenings ? { step: acked.reopenings } : {}) }), ...(expiry ? [expiry] : [])], now);
    return true;
  });
}

/** An acknowledgement timeout that came due (ackTimeoutTimer). */
export interface DueAckTimeout {
  incidentId: string;
  acknowledgedAt: Date;
  timeoutSeconds: number;
}

/**
 * Acknowledgements that timed out: each incident still acknowledged as the timer was armed (not
 * resolved, not reopened and acknowledged again since: checked under its row lock, so a resolve
 * racing the timer either commits first and is seen, or waits and finds it open) goes back to
 * open, with an `acknowledgement_expired` entry, and its levels restart: the step after its
 * latest pages level 0 at once through escalate, which holds it while the node is in maintenance,
 * hands over to the next level when it reaches nobody, and arms the step after it. Its pending
 * escalation timers go first: a step armed before the acknowledgement (a no-op now, as the steps
 * moved on) would otherwise hold back the new ones behind it in key order until its own time. A
 * redelivered timer finds the incident open and does nothing, so it never pages twice.
 */
/** Returns why each level that paged nobody did (see escalate). */
export async function expireAcknowledgements(tx: Tx, fired: DueAckTimeout[], now: Date, emailConfigured: EmailSetup): Promise<UnroutedReason[]> {
  const incidents = await store.lockIncidents(tx, fired.map((f) => f.incidentId));
  const expiring = fired.filter((f) => stillAcknowledged(incidents.get(f.incidentId), f.acknowledgedAt));
  const reopened = await store.reopenIncidents(tx, expiring.map((f) => f.incidentId), now);
  if (reopened.length === 0) return [];
  await deleteUnclaimed(tx, reopened.flatMap((i) => [escalationKey(i.id), recheckKey(i.id)]));
  // Its policy deleted with no node or default policy to follow: reopened all the same (nobody is
  // attending it, and open is what the console and a new policy's next incident go by), but its
  // entry says nobody is paged (`no_policy`) rather than that level 1 is.
  const policies = await escalatingPolicies(tx, reopened);
  await store.addTimeline(
    tx,
    expiring.map((f) => ({
      incident_id: f.incidentId,
      at: now,
      kind: 'acknowledgement_expired',
      detail: {
        after_seconds: f.timeoutSeconds,
        acknowledged_at: f.acknowledgedAt.toISOString(),
        acknowledged_by: incidents.get(f.incidentId)!.acknowledged_by,
        ...(policies.has(f.incidentId) ? {} : { no_policy: true }),
      },
    })),
  );
  return escalate(tx, reopened.map((i) => ({ incidentId: i.id, step: i.escalation_base, atOnce: true })), now, emailConfigured);
}

/** acknowledgeOnce, answering only the incident as it now stands. */
export async function acknowledge(sql: Sql, id: string, actor: Actor, clock: Clock, acting: Acting): Promise<IncidentRow> {
  return (await acknowledgeOnce(sql, id, actor, clock, acting)).incident;
}

/**
 * Acknowledges several incidents, each through acknowledgeOnce, in its own transaction: the same
 * lock, timeline entry, audit entry and `incident.acknowledged` event as one acknowledged alone, so
 * the channels each paged are told of each. One transaction each, not one for all: a 500-incident
 * call holds no 500 row locks at once against the escalation workers, and one resolved meanwhile
 * (409 alone) is left as it is without undoing the others. Ids no incident has are refused first,
 * before any is acknowledged (a mistyped id is the caller's mistake, not a skip). Answers the ids
 * this call acknowledged, in the order given: those acknowledged already (the first is kept, as
 * alone) and those resolved meanwhile are not among them, so a second call answers none.
 */
export async function acknowledgeEach(sql: Sql, given: readonly string[], actor: Actor, clock: Clock, acting: Acting): Promise<string[]> {
  // Postgres answers ids in lower case; `3E76…` names the same incident, as the single route takes it.
  const ids = given.map((id) => id.toLowerCase());
  const found = await store.getIncidents(sql, ids);
  const missing = missingIds(ids, new Set(found.keys()), 'incident_ids', 'is not an incident');
  if (missing.length) throw validationFailed(missing);
  const acknowledged: string[] = [];
  for (const id of ids) {
    if (found.get(id)!.status !== 'open') continue;
    try {
      if ((await acknowledgeOnce(sql, id, actor, clock, acting)).changed) acknowledged.push(id);
    } catch (err) {
      // Resolved since it was read (conflict), or deleted with its node (not_found): nothing to
      // acknowledge, as the list would now show; the others still are, and the answer says which.
      if (err instanceof Refusal && (err.code === 'conflict' || err.code === 'not_found')) continue;
      throw err;
    }
  }
  return acknowledged;
}

/** Resolves by hand; every channel that was paged is told. */
export async function resolve(sql: Sql, id: string, actor: Actor & { note?: string | undefined }, clock: Clock, acting: Acting): Promise<IncidentRow> {
  const done = await act(sql, id, actor, clock, async (tx, row, now) => {
    await audit(tx, acting, { action: 'incident.resolve', target: { type: 'incident', id: row.id, name: row.title }, detail: { by: actor.by } }, now);
    const { events, timeline } = await resolveWithEvents(tx, [{ incident: row, at: now, by: actor.by, detail: { ...actor.detail, ...(actor.note ? { note: actor.note } : {}) } }], now);
    await store.addTimeline(tx, timeline);
    await insertOutbox(tx, events, now);
    return true;
  });
  return done.incident;
}

/** A note for an incident's timeline: who wrote it (a name, or the caller) and what. */
export interface Note {
  by: string;
  note: string;
}

/**
 * Adds a note to an incident's timeline, whatever its status (a finding after it is resolved is
 * for the review): a `note` entry and its audit row, nothing else. It is for the record, so it
 * sends no outbox event, pages nobody and leaves the escalation alone; nor does it move the
 * version, which If-Match compares to refuse a resolve by someone who has not seen an
 * acknowledgement or an escalation: a colleague's "restarting db-3" is no reason to refuse it.
 * Written under the incident's lock, stamped as a resolve is (stampsOf),
 * so a note reads after everything its writer could have seen, even written by a process whose
 * clock runs behind the escalation worker's.
 */
export async function addNote(sql: Sql, id: string, note: Note, clock: Clock, acting: Acting): Promise<TimelineEntry> {
  return sql.begin(async (tx) => {
    const row = await store.lockIncident(tx, id);
    if (!row) throw notFound(`Incident "${id}"`);
    // Counted under the lock, so two notes racing for the last place do not both take it.
    if ((await store.countNotes(tx, row.id)) >= NOTES_MAX) throw conflict(NOTES_FULL);
    const now = clock.now();
    const entry: TimelineEntry = { incident_id: row.id, at: (await stampsOf(tx, [row.id], now))(row.id), kind: 'note', detail: { by: note.by, note: note.note } };
    // The note's text stays in the timeline: the audit row says who wrote one, as a resolve's says who resolved.
    await audit(tx, acting, { action: 'incident.note', target: { type: 'incident', id: row.id, name: row.title }, detail: { by: note.by } }, now);
    await store.addTimeline(tx, [entry]);
    return entry;
  });
}

/** A node's state changed, or the node was deleted. */
export interface NodeChange {
  nodeId: string;
  nodeName: string;
  /** The state left; null for a deletion. */
  from: State | null;
  to: State | 'deleted';
  at: Date;
  reason: string;
}

/** A page of an incident just opened: its news, the same as an `incident.opened` event, and the row opened. */
export interface OpeningPage {
  news: IncidentNews;
  event: NewOutboxEvent;
  incident: IncidentRow;
}

/** The pages of the incidents opened, and what judging their levels read of whom they name (for the fan-out). */
export interface Opened {
  pages: OpeningPage[];
  directory: Directory;
  /** Why each level that paged nobody did (one per `reached_nobody` written). */
  unrouted: UnroutedReason[];
}

/**
 * Incidents follow node state: entering down or degraded opens that category (at most one open per
 * node and category) and resolves the other, back to healthy resolves everything open; a deleted
 * node's incidents are resolved. Unknown and maintenance change nothing: an outage seen before a
 * blind spot or a window stays open until the node is judged again, so only a real difference is
 * ever notified; one resolved by hand meanwhile stays resolved (outagesResolvedByHand).
 *
 * Set-wise over the batch (which holds at most one change per node): one query locks the open
 * incidents of every node, one resolves, one finds the outages resolved by hand, two lock and find
 * policies, one opens — a 10k-node outage costs six statements per 500 events, not three per event.
 *
 * Returns the pages of the incidents it opened (whom each first level reached), and what judging
 * those levels read of the channels and people named, for the caller to hand to the notifications
 * in this same transaction: a page leaves with the transition's own event, not with a second
 * `incident.opened` event handled after it (ARCHITECTURE.md, "One hop from transition to page"),
 * and the fan-out reads only what judging did not (the channels' types, with email on). Resolves
 * still travel as `incident.resolved` events keyed by node, so they queue behind any page of the
 * node still in the outbox (an escalation that committed while this change was being handled) and
 * are fanned out to whom the ledger says was paged.
 */
export async function followNodes(tx: Tx, changes: NodeChange[], now: Date, emailConfigured: EmailSetup): Promise<Opened> {
  const relevant = changes.filter((c) => c.to === 'healthy' || c.to === 'deleted' || categoryFor(c.to) !== null);
  const open = new Map<string, IncidentRow[]>();
  for (const i of await store.lockOpenIncidents(tx, relevant.map((c) => c.nodeId))) {
    const list = open.get(i.node_id);
    if (list) list.push(i);
    else open.set(i.node_id, [i]);
  }

  const resolves: Resolve[] = [];
  const toOpen: Array<{ nodeId: string; nodeName: string; category: Category; from: State | null; state: State; reason: string; at: Date }> = [];
  const kept: IncidentRow[] = [];
  for (const c of relevant) {
    const wanted = c.to === 'deleted' ? null : categoryFor(c.to);
    const current = open.get(c.nodeId) ?? [];
    for (const incident of current) {
      if (incident.category === wanted) continue;
      resolves.push(
        c.to === 'deleted'
          ? { incident, at: c.at, by: 'node_deleted', detail: {} }
          : { incident, at: c.at, by: 'auto', detail: { node_state: c.to } },
      );
    }
    const same = current.find((i) => i.category === wanted);
    if (same) kept.push(same);
    else if (wanted !== null && c.to !== 'deleted') toOpen.push({ nodeId: c.nodeId, nodeName: c.nodeName, category: wanted, from: c.from, state: c.to, reason: c.reason, at: c.at });
  }
  // An outage whose incident someone resolved by hand, judged again after a blind spot (down →
  // unknown → down) without the node having recovered in between, is the same outage: a new
  // incident would page everyone again for what they already closed. Only a judgement coming out of
  // a blind spot or a window can continue one: a mass outage (healthy → down) asks nothing more.
  const continuing = await store.outagesResolvedByHand(tx, toOpen.filter((o) => o.from === 'unknown' || o.from === 'maintenance'));
  const opens = toOpen.filter((o) => !continuing.has(o.nodeId));
  // Not paged, but not unseen: the closed incident says, once, that its outage was still there
  // (a timeline with nothing after "Resolved by" read as a node that recovered). At the node's
  // judgement, as "opened" is at its transition, but never before the hand resolve's own entry: a
  // judgement written late (an evaluator away) can predate it, and the timeline read "seen again"
  // above "Resolved by".
  await store.addTimelineOnce(
    tx,
    toOpen.flatMap((o) => {
      const closed = continuing.get(o.nodeId);
      if (!closed) return [];
      const at = o.at < closed.resolvedAt ? closed.resolvedAt : o.at;
      return [{ incident_id: closed.id, at, kind: 'seen_again', detail: { node_state: o.state, after: o.from, reason: o.reason } }];
    }),
  );

  const resolved = await resolveWithEvents(tx, resolves, now);
  // Locked like an escalation's (after the incidents): an edit shortening the first step's delay
  // either committed before and is read here, or waits for this commit and re-times the new timer.
  await sharePolicies(tx, [], opens.map((o) => o.nodeId));
  const policies = await policiesForNodes(tx, opens.map((o) => o.nodeId));
  const opened = await store.openIncidents(
    tx,
    opens.map(
      (o): NewIncident => ({
        nodeId: o.nodeId,
        nodeName: o.nodeName,
        category: o.category,
        severity: CATEGORIES[o.category].severity,
        title: incidentTitle(o.category, o.nodeName),
        reason: o.reason,
        policyId: policies.get(o.nodeId)?.id ?? null,
        openedAt: o.at,
        // Back-dated to the node's deadline (an evaluator that was down judges it on its return,
        // 30 s late say), its level 0 pages now: level 1 at 60 s counts from now, not from the
        // deadline, or it would page 160 ms after level 0 with no time to acknowledge.
        escalationFrom: o.at < now ? now : null,
      }),
    ),
  );

  const out: NewOutboxEvent[] = [...resolved.events, ...(await releaseHeldSteps(tx, kept, now))];
  const timeline: TimelineEntry[] = [...resolved.timeline];
  const news: OpeningPage[] = [];
  const unrouted: UnroutedReason[] = [];
  const { pages, directory } = await whomLevelsPage(tx, opened.map((i) => policies.get(i.node_id)?.levels[0]), now, emailConfigured);
  opened.forEach((incident, k) => {
    const policy = policies.get(incident.node_id);
    const page = pages[k]!;
    const detail = { level: 0, step: 0, ...page.detail };
    // A first level that reached nobody hands over to the next one at once.
    const next = policy && escalationTimer(incident, policyStep(incident, policy, 1), page.reached ? undefined : now);
    timeline.push({ incident_id: incident.id, at: incident.opened_at, kind: 'opened', detail: { reason: incident.reason, policy_id: incident.policy_id, ...detail } });
    if (!page.reached) {
      timeline.push({ incident_id: incident.id, at: now, kind: 'reached_nobody', detail: { ...detail, reason: policy ? page.nobody : 'no escalation policy', ...endsWithout(next) } });
      unrouted.push(policy ? page.unrouted : 'no_policy');
    }
    news.push({
      news: { incidentId: incident.id, event: 'opened', at: incident.opened_at, recipients: page.recipients },
      event: incidentEvent(incident, 'opened', incident.opened_at, { recipients: page.recipients }),
      incident,
    });
    if (next) out.push(next);
  });
  await store.addTimeline(tx, timeline);
  await insertOutbox(tx, out, now);
  return { pages: news, directory, unrouted };
}

/** A node judged in the same state for a new reason (the evaluator's `node.reason_changed`). */
export interface NewReason {
  nodeId: string;
  state: State;
  at: Date;
  reason: string;
}

/**
 * The most `reason_changed` lines one incident's timeline gets. A job whose output names the time,
 * or an agent whose failing checks come and go, gives a new reason at every run or heartbeat: the
 * node's reason keeps following it, the timeline keeps this many (a day of a 2-minute job's
 * changing errors is 720), the last of them rewritten with each later change, so it says the latest.
 */
export const REASON_NOTES_MAX = 50;

/**
 * A node stays down (or degraded) for a new reason: its open incident of that category says so on
 * its timeline (`reason_changed`, with the state and the reason, at the evidence's time but never
 * before the incident opened; past REASON_NOTES_MAX lines, in place of the newest). Nothing else: the same outage, so no page, no escalation step
 * released, no version moved (If-Match is for what someone acted on). No open incident (resolved
 * by hand, or none opened): nothing, as nobody follows a closed one.
 */
export async function noteNewReasons(tx: Tx, changes: NewReason[]): Promise<void> {
  const open = await store.lockOpenIncidents(tx, changes.map((c) => c.nodeId));
  // One line per incident and batch, the latest change's (events come in their node's order): the
  // cap counts only lines written before the statement, so a batch of several would pass it.
  const entries = new Map<string, TimelineEntry>();
  for (const c of changes) {
    const incident = open.find((i) => i.node_id === c.nodeId && i.category === categoryFor(c.state));
    if (!incident) continue;
    const at = c.at < incident.opened_at ? incident.opened_at : c.at;
    entries.set(incident.id, { incident_id: incident.id, at, kind: 'reason_changed', detail: { node_state: c.state, reason: c.reason } });
  }
  await store.addTimelineKeepingLast(tx, [...entries.values()], REASON_NOTES_MAX);
}

/**
 * Deletes the pending re-checks of these incidents, for the caller to arm one in their place. A
 * row another worker holds is being handled: its escalate finds the step by the incident row it
 * waits to lock, so it is left to that worker.
 */
const dropRechecks = (tx: Tx, ids: string[]) => deleteUnclaimed(tx, ids.map(recheckKey));

/**
 * The node of each of these open incidents was judged down or degraded again, its incident kept:
 * a step held while it was in maintenance (escalate) fires now. Its timer is armed at once and
 * says so (`at_once`, so a policy edit leaves it alone; `released`, so the steps after it count
 * from its firing, not from the opening: after a two-hour window they would all be overdue and
 * page together). Their pending re-checks go: nothing is held for them to look at. The incidents
 * are locked already (lockOpenIncidents), as an escalation locks its own before anything else.
 */
async function releaseHeldSteps(tx: Tx, kept: IncidentRow[], now: Date): Promise<NewOutboxEvent[]> {
  const released = await store.releaseHeld(tx, kept.filter((i) => i.status === 'open' && i.escalation_held).map((i) => i.id));
  await dropRechecks(tx, released.map((i) => i.id));
  return released.map((i) => heldStepTimer(i, now, 'released'));
}

/**
 * Hands pages that could not be written with their transition to `incident.opened` events, the
 * way they travelled before they left in one hop: the transition, its incident and its uptime
 * commit, and the pages are retried (and, if they never succeed, parked as dead and replayable)
 * on their own events, behind which the node's later events wait in key order.
 */
export async function pageLater(tx: Tx, pages: OpeningPage[], now: Date): Promise<void> {
  await insertOutbox(tx, pages.map((p) => p.event), now);
}

/**
 * Whether a `reached_nobody` had a step after it (false: the next level pages at once) or not
 * (true: nobody else will be paged). Written either way, so an entry without it is one written
 * before it was recorded, of which nothing can be said.
 */
const endsWithout = (next: unknown): { escalation_ends: boolean } => ({ escalation_ends: !next });

/** A level about to page: whom it reaches, whether that is anyone (why not), and how the timeline names them. */
interface Page {
  recipients: PageRecipients;
  reached: boolean;
  /** Why nobody, for the timeline: nobody was named or on call, or nobody named can be reached. */
  nobody: string;
  /** The same, as counted. */
  unrouted: UnroutedReason;
  detail: Record<string, unknown>;
}

/** The reason a `reached_nobody` gives when the level named channels or people that only email could reach. */
export const UNREACHABLE_WITHOUT_EMAIL = 'SMTP_URL is not set and this level reaches its channels and people only by email';

/**
 * Whom each level pages as it fires at `now`: its schedules are resolved to who is on call at this
 * moment (so a failover or a late timer pages whoever is on call when the page goes out, never
 * whoever was when the timer was armed), and the timeline names each person. A level counts as
 * reaching someone only if a message can land (reachesAnyone): with email known off
 * (`emailConfigured` false) an email channel, or a person with no channel of their own but email,
 * gets only rows bound to die with smtp_not_configured, and the next level must not wait out its
 * delay behind them. Such a level then pages no one at all, level 0 as the later ones (whose
 * `escalated` is not written): no row that can only die, and no resolve to pair with it; the
 * timeline still names whom it could not reach.
 *
 * The people named are locked against deletion (`FOR KEY SHARE`, the lock a policy or schedule
 * naming them takes) until the page is committed: a person whose override just ended can be
 * deleted while a step that read them on call is running, and the step would then commit a page
 * to nobody (a ledger row dead with `user_deleted`, or an event whose fan-out leaves them out and
 * tells no one). With the lock, a deletion that locked the person first commits before the read
 * here, which leaves them out and pages the level's others (or, with nobody left, records
 * `reached_nobody` and fires the next step at once); one that comes after waits for this commit
 * and then finds the page owed to them and refuses (incidentsOwing). Lock order: incidents by id,
 * policies in id order, then these users; a deletion locks only its own user row and takes no
 * lock a step holds, so no cycle. Three queries for the batch (four when the levels name people,
 * one more with email off). What they read of the channels and people named comes back with the
 * pages, so that a fan-out in the same transaction does not read it again.
 */
async function whomLevelsPage(tx: Tx, levels: Array<PolicyLevel | undefined>, now: Date, emailConfigured: EmailSetup): Promise<{ pages: Page[]; directory: Directory }> {
  const named = await recipientsAt(tx, levels, now);
  const present = await lockExisting(tx, 'users', [...new Set(named.flatMap((r) => r.users.map((u) => u.user_id)))]);
  const resolved = named.map((r) => ({ ...r, users: r.users.filter((u) => present.has(u.user_id)) }));
  const directory = await directoryOf(tx, resolved, emailConfigured);
  const { channelTypes: types, people } = directory;
  const pages = resolved.map((r) => {
    const reached = reachesAnyone(r, types, people, emailConfigured);
    return {
      recipients: reached ? { channel_ids: r.channel_ids, users: r.users } : { channel_ids: [], users: [] },
      reached,
      ...(namesAnyone(r) && emailConfigured === false
        ? { nobody: UNREACHABLE_WITHOUT_EMAIL, unrouted: 'email_not_configured' as const }
        : { nobody: 'nobody on call', unrouted: 'nobody_on_call' as const }),
      detail: {
        channel_ids: r.channel_ids,
        users: r.users.map((u) => ({ ...u, name: people.get(u.user_id)?.name ?? null })),
        ...(r.empty_schedule_ids.length ? { empty_schedule_ids: r.empty_schedule_ids } : {}),
      },
    };
  });
  return { pages, directory };
}

/** An escalation timer that came due: step `step` of the incident's schedule. */
export interface DueStep {
  incidentId: string;
  step: number;
  /** Armed at once, not at the step's own time: the level before reached nobody, or a held step was released. */
  atOnce: boolean;
  /** A step held through maintenance, released (releaseHeldSteps). */
  released?: boolean | undefined;
  /** A held step's re-check (see holdFor). */
  recheck?: boolean | undefined;
}

/**
 * How long a held step waits to be looked at again when its node's window has no known end (or has
 * ended and the node is not judged yet): the longest a missed release (an earlier worker handled
 * the node's change, its event was discarded) delays the page once the node is judged down. One
 * outbox row per held incident every 5 minutes, against a 5-minute page delay at worst.
 */
const HELD_RECHECK_MS = 5 * 60_000;

/**
 * What a due step does by its node's state. A step due in maintenance is held. A re-check pages it
 * only once the node is judged to be what its incident is about (down for node_down, degraded for
 * node_degraded), as its release would; judged the other one, the node's change resolves this
 * incident and opens the other, which pages from level 1 itself. It holds again while the node is
 * still in maintenance or not judged yet (unknown), and leaves it while the node is healthy (its
 * incident is resolving; a new outage releases it). A missing state: the node was deleted.
 */
function fateOf(state: State | undefined, category: Category, recheck: boolean): 'hold' | 'page' | 'none' {
  if (state === 'maintenance' || (recheck && state === 'unknown')) return 'hold';
  return !recheck || (state !== undefined && categoryFor(state) === category) ? 'page' : 'none';
}

/**
 * When each held incident is looked at again (its re-check timer): at the end of the window its node
 * is in, or in HELD_RECHECK_MS if sooner or the window has no end. A held step thus always has a
 * timer, so a release that never comes (releaseHeldSteps missed) cannot leave it unpaged, and a
 * window ended early delays it by 5 minutes at most, not until the end it had when the step was held.
 * One re-check per incident: the one pending from an earlier hold is dropped (dropRechecks), else
 * hold → release → hold again would leave two chains re-arming each other's rows every 5 minutes.
 */
async function holdFor(tx: Tx, incidents: IncidentRow[], now: Date): Promise<NewOutboxEvent[]> {
  const windows = await activeMaintenance(tx, [...new Set(incidents.map((i) => i.node_id))], now);
  await dropRechecks(tx, incidents.map((i) => i.id));
  const soon = now.getTime() + HELD_RECHECK_MS;
  return incidents.map((i) => heldStepTimer(i, new Date(Math.min(windows.get(i.node_id)?.until?.getTime() ?? soon, soon)), 'recheck'));
}

/**
 * The policy each incident escalates by, as it reads now and locked against a change until commit
 * (see pendingEscalations); by policiesEscalating's rule.
 */
async function escalatingPolicies(tx: Tx, incidents: IncidentRow[]): Promise<Map<string, PolicyRow>> {
  await sharePolicies(tx, [...new Set(incidents.flatMap((i) => i.policy_id ?? []))], [...new Set(incidents.map((i) => i.node_id))]);
  return policiesEscalating(tx, incidents);
}

/**
 * The policy each incident's next step escalates by, as it reads now; incidents without one are
 * absent. An incident whose policy was deleted since it opened follows its node's policy, else the
 * default one, as the node's next incident would: deleting a policy must not end the escalation
 * of an incident nobody has acknowledged. The engine reads it under a lock (escalatingPolicies);
 * the console's incident page reads it as is, to say what comes next.
 */
export async function policiesEscalating(sql: Queryable, incidents: Array<Pick<IncidentRow, 'id' | 'node_id' | 'policy_id'>>): Promise<Map<string, PolicyRow>> {
  const ids = [...new Set(incidents.flatMap((i) => i.policy_id ?? []))];
  const own = await getPolicies(sql, ids);
  const orphans = incidents.filter((i) => i.policy_id && !own.has(i.policy_id));
  const fallback = await policiesForNodes(sql, [...new Set(orphans.map((i) => i.node_id))]);
  return new Map(
    incidents.flatMap((i) => {
      const policy = i.policy_id ? (own.get(i.policy_id) ?? fallback.get(i.node_id)) : undefined;
      return policy ? [[i.id, policy] as const] : [];
    }),
  );
}

/**
 * Timers fired: page each step's level if its incident is still open and unacknowledged, then arm
 * the next step. Acknowledging or resolving needs no cancellation: the timer finds the incident
 * no longer open and does nothing (an acknowledged one records that escalation stopped there).
 * While the node is in maintenance the step is held until the node is judged down or degraded
 * again (releaseHeldSteps), with a re-check armed in case that release is missed (holdFor). A
 * level that reaches nobody (its schedules have nobody on call, or nobody it names can be reached:
 * see whomLevelsPage) is recorded and the next step fires at once, so a page is never dropped
 * silently. Set-wise, like the other handlers: a storm's timers come due together.
 */
export async function escalate(tx: Tx, fired: DueStep[], now: Date, emailConfigured: EmailSetup): Promise<UnroutedReason[]> {
  const incidents = await store.lockIncidents(tx, fired.map((f) => f.incidentId));
  // Stamped as a note or an acknowledgement is (stampsOf): after each one's latest locked entry.
  const stampOf = await stampsOf(tx, [...incidents.keys()], now);
  const timeline: TimelineEntry[] = [];
  const due = fired.flatMap((f) => {
    const incident = incidents.get(f.incidentId);
    if (!incident || incident.escalation_step !== f.step - 1) return [];
    // Recorded once, by the step's own timer: a re-check of a step held before the acknowledgement is not a new stop.
    // Stamped with the acknowledgement, which is when escalation stopped: the timer only learns of
    // it when the next level would have fired (a 300 s level read as stopping 300 s late).
    if (incident.status === 'acknowledged' && !f.recheck) {
      timeline.push({ incident_id: incident.id, at: incident.acknowledged_at ?? now, kind: 'escalation_stopped', detail: { step: f.step, reason: 'acknowledged', by: incident.acknowledged_by } });
    }
    // A re-check acts only on a step still held: a release cleared the hold and armed its own
    // timer (both under this row's lock, so only one of them pages); acknowledging or resolving ended it.
    return incident.status === 'open' && (!f.recheck || incident.escalation_held) ? [{ ...f, incident }] : [];
  });
  const policies = await escalatingPolicies(tx, due.map((d) => d.incident));
  const out: NewOutboxEvent[] = [];
  const steps = due.flatMap((d) => {
    const policy = policies.get(d.incidentId);
    const s = policy && policyStep(d.incident, policy, d.step);
    if (!policy || !s) {
      timeline.push({ incident_id: d.incidentId, at: stampOf(d.incidentId), kind: 'escalation_stopped', detail: { reason: 'escalation policy removed or shortened' } });
      return [];
    }
    // Armed by the policy as it read then, and its level's delay lengthened since: the step waits
    // for the policy as it reads now (a shortened one was re-timed by the update itself).
    if (!d.atOnce && now < s.dueAt) {
      out.push(escalationTimer(d.incident, s)!);
      return [];
    }
    if (policy.id !== d.incident.policy_id) {
      timeline.push({ incident_id: d.incidentId, at: stampOf(d.incidentId), kind: 'policy_replaced', detail: { policy_id: policy.id, policy_name: policy.name, reason: 'escalation policy deleted' } });
    }
    return [{ ...d, policy, level: s.level, afterSeconds: s.afterSeconds }];
  });
  // A step due while the node is in maintenance is held, not used up: it fires when the node is
  // judged down or degraded again (releaseHeldSteps, or its re-check), else a policy that ran out
  // inside the window never paged for an outage still there after it.
  const states = await nodeStates(tx, [...new Set(steps.map((s) => s.incident.node_id))]);
  const fate = (s: (typeof steps)[number]) => fateOf(states.get(s.incident.node_id), s.incident.category, s.recheck === true);
  // A deleted node's incident is resolving: its step is no longer held, nothing re-checks it.
  await store.releaseHeld(tx, steps.filter((s) => s.recheck && !states.has(s.incident.node_id)).map((s) => s.incidentId));
  const held = steps.filter((s) => fate(s) === 'hold');
  await store.holdEscalations(tx, held.map((s) => ({ id: s.incidentId, policyId: s.policy.id })));
  out.push(...(await holdFor(tx, held.map((s) => s.incident), now)));
  for (const s of held.filter((h) => !h.recheck)) {
    timeline.push({ incident_id: s.incidentId, at: stampOf(s.incidentId), kind: 'escalation_suppressed', detail: { level: s.level, step: s.step, reason: 'maintenance', held: true } });
  }
  const moving = steps.filter((s) => fate(s) === 'page');
  // A held step fires late by the time it was held; the steps after it keep their gaps from it.
  const from = (s: (typeof moving)[number]) => (s.released || s.recheck ? new Date(now.getTime() - s.afterSeconds * 1000) : null);
  const advanced = await store.advanceEscalations(tx, moving.map((s) => ({ id: s.incidentId, step: s.step, level: s.level, policyId: s.policy.id, from: from(s) })));
  const paging = moving.filter((s) => advanced.has(s.incidentId));
  const unrouted: UnroutedReason[] = [];
  const judged = await whomLevelsPage(tx, paging.map((s) => s.policy.levels[s.level]), now, emailConfigured);
  paging.forEach((s, k) => {
    const row = advanced.get(s.incidentId)!;
    const page = judged.pages[k]!;
    const detail = { level: s.level, step: s.step, ...page.detail };
    const next = escalationTimer(row, policyStep(row, s.policy, s.step + 1), page.reached ? undefined : now);
    if (!page.reached) {
      timeline.push({ incident_id: row.id, at: stampOf(row.id), kind: 'reached_nobody', detail: { ...detail, reason: page.nobody, ...endsWithout(next) } });
      unrouted.push(page.unrouted);
    } else {
      timeline.push({ incident_id: row.id, at: stampOf(row.id), kind: 'escalated', detail });
      out.push(incidentEvent(row, 'escalated', now, { level: s.level, step: s.step, recipients: page.recipients }));
    }
    if (next) out.push(next);
  });
  await store.addTimeline(tx, timeline);
  await insertOutbox(tx, out, now);
  return unrouted;
}
