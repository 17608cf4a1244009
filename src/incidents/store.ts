import type { Queryable } from '../db/client.ts';
import { notifyAll } from '../db/notify.ts';
import { incidentNotices, LIVE_CHANNEL } from '../live/model.ts';
import type { LabelPair } from '../nodes/model.ts';
import { isUuid } from '../db/ids.ts';
import { carriesLabels, getNode } from '../nodes/store.ts';
import { LOCKED_KINDS } from './model.ts';
import type { IncidentFilter, IncidentRow, IncidentSummaryRow, IncidentStatus, NewIncident, OpenIncidentRow, PagedPerson, SpanRow, TimelineEntry } from './model.ts';

/**
 * Opens incidents unless one is already open for the node and category; the partial unique index
 * decides, so two workers racing on the same node open exactly one. Returns the rows opened.
 */
export async function openIncidents(tx: Queryable, list: NewIncident[]): Promise<IncidentRow[]> {
  if (list.length === 0) return [];
  return tx<IncidentRow[]>`
    insert into incidents (node_id, node_name, category, severity, status, title, reason, policy_id, opened_at, escalation_from)
    select node_id, node_name, category, severity, 'open', title, reason, policy_id, opened_at, escalation_from
    from unnest(${list.map((i) => i.nodeId)}::uuid[], ${list.map((i) => i.nodeName)}::text[], ${list.map((i) => i.category)}::text[],
                ${list.map((i) => i.severity)}::text[], ${list.map((i) => i.title)}::text[], ${list.map((i) => i.reason)}::text[],
                ${list.map((i) => i.policyId)}::uuid[], ${list.map((i) => i.openedAt.toISOString())}::timestamptz[],
                ${list.map((i) => i.escalationFrom?.toISOString() ?? null)}::timestamptz[])
         as v(node_id, node_name, category, severity, title, reason, policy_id, opened_at, escalation_from)
    on conflict (node_id, category) where status <> 'resolved' do nothing
    returning *`;
}

/**
 * Of these nodes judged `state` again at `at`, those whose outage of that category is one whose
 * incident was resolved by hand while it went on, with that incident's id: their latest incident
 * of the category was resolved by someone (not `auto`, not `node_deleted`), and since it opened the
 * node went only to that state, `unknown` or `maintenance` (a blind spot or a window in between,
 * never healthy nor the other category). One query for the batch, on incidents_node and
 * uptime_state_log_at.
 */
export async function outagesResolvedByHand(tx: Queryable, list: { nodeId: string; category: string; state: string; at: Date }[]): Promise<Map<string, { id: string; resolvedAt: Date }>> {
  if (list.length === 0) return new Map();
  const rows = await tx<{ node_id: string; id: string; resolved_at: Date }[]>`
    select v.node_id::text as node_id, latest.id::text as id, latest.resolved_at
    from unnest(${list.map((o) => o.nodeId)}::uuid[], ${list.map((o) => o.category)}::text[], ${list.map((o) => o.state)}::text[],
                ${list.map((o) => o.at.toISOString())}::timestamptz[]) as v(node_id, category, state, at)
    cross join lateral (
      select id, opened_at, resolved_by, resolved_at from incidents i where i.node_id = v.node_id and i.category = v.category order by opened_at desc limit 1) latest
    where latest.resolved_by not in ('auto', 'node_deleted')
      and not exists (
        select 1 from node_state_log l
        where l.node_id = v.node_id and l.at > latest.opened_at and l.at <= v.at and l.to_state not in (v.state, 'unknown', 'maintenance'))`;
  return new Map(rows.map((r) => [r.node_id, { id: r.id, resolvedAt: r.resolved_at }]));
}

/*
 * Incidents are locked FOR NO KEY UPDATE: it still keeps two writers of one incident apart, but
 * not a reader taking KEY SHARE. Until sql/0033 the ledger and timeline rows took that lock through
 * their foreign key, and with FOR UPDATE a worker that had written an incident's ledger rows and
 * then waited for a storm-counter lock could deadlock with the lock's holder escalating that same
 * incident. No update here changes an incident's id, its only key.
 */

/**
 * These nodes' unresolved incidents, locked for the caller's transaction in id order, the order
 * an escalation (lockIncidents) and a policy's deletion (lockIncidentsOfPolicy) take them: by node,
 * a batch holding one node's incident and waiting for another's deadlocked with a deletion holding
 * them the other way round.
 */
export async function lockOpenIncidents(tx: Queryable, nodeIds: string[]): Promise<IncidentRow[]> {
  if (nodeIds.length === 0) return [];
  return tx<IncidentRow[]>`
    select * from incidents where node_id = any(${nodeIds}::uuid[]) and status <> 'resolved'
    order by id for no key update`;
}

/**
 * These nodes' incidents open at any time since `from`, as they stand, without locking them: for
 * readers (a status page) that change nothing and must not wait behind the incident handlers. The
 * unresolved ones among them are all of the nodes' open incidents. Those opened since `from` are a
 * range of the (node_id, opened_at) index per node; of those opened before, only each node's last
 * can still have been open at `from`: a node has at most one incident open at a time, of either
 * category (followNodes resolves the one open, at the same instant, when it opens the other, and
 * opens none on unknown or maintenance), so each earlier one was resolved before the next opened.
 * One probe a node, the first entry of its index below `from`. A probe per node and category read
 * a node's whole history when it never had an incident of that category: 15 ms and 43,000 buffers
 * for 500 nodes with 50,000 incidents, 2 ms and 2,000 buffers this way (ARCHITECTURE.md).
 */
export async function incidentsSince(sql: Queryable, nodeIds: readonly string[], from: Date): Promise<SpanRow[]> {
  if (nodeIds.length === 0) return [];
  const ids = [...nodeIds];
  return sql<SpanRow[]>`
    select ${sql(SPAN_COLUMNS)} from incidents where node_id = any(${ids}::uuid[]) and opened_at >= ${from}
    union all
    select b.* from unnest(${ids}::uuid[]) n(id)
    cross join lateral (
      select ${sql(SPAN_COLUMNS)} from incidents
      where node_id = n.id and opened_at < ${from}
      order by opened_at desc limit 1
    ) b
    where b.resolved_at is null or b.resolved_at >= ${from}`;
}

const SPAN_COLUMNS: ReadonlyArray<keyof SpanRow> = ['node_id', 'category', 'severity', 'status', 'title', 'opened_at', 'acknowledged_at', 'resolved_at'];

export async function getIncidents(sql: Queryable, ids: string[]): Promise<Map<string, IncidentRow>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<IncidentRow[]>`select * from incidents where id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r]));
}

export async function lockIncident(tx: Queryable, id: string): Promise<IncidentRow | undefined> {
  const [row] = await tx<IncidentRow[]>`select * from incidents where id = ${id} for no key update`;
  return row;
}

export async function getIncident(sql: Queryable, id: string): Promise<IncidentRow | undefined> {
  const [row] = await sql<IncidentRow[]>`select * from incidents where id = ${id}`;
  return row;
}

export interface Resolution {
  id: string;
  at: Date;
  by: string;
}

/** Resolves what is not resolved yet, ending any hold (nothing escalates any more); returns the rows it changed. */
export async function resolveIncidents(tx: Queryable, list: Resolution[]): Promise<IncidentRow[]> {
  if (list.length === 0) return [];
  return tx<IncidentRow[]>`
    update incidents i set status = 'resolved', resolved_at = v.at, resolved_by = v.by, escalation_held = false, version = i.version + 1
    from unnest(${list.map((r) => r.id)}::uuid[], ${list.map((r) => r.at.toISOString())}::timestamptz[], ${list.map((r) => r.by)}::text[])
         as v(id, at, by)
    where i.id = v.id and i.status <> 'resolved'
    returning i.*`;
}

/** Acknowledges an open incident, ending any hold: its escalation stops here. */
export async function acknowledgeIncident(tx: Queryable, id: string, at: Date, by: string): Promise<IncidentRow | undefined> {
  const [row] = await tx<IncidentRow[]>`
    update incidents set status = 'acknowledged', acknowledged_at = ${at}, acknowledged_by = ${by}, escalation_held = false, version = version + 1
    where id = ${id} and status = 'open'
    returning *`;
  return row;
}

/**
 * Puts these acknowledged incidents back to open, their levels to restart at the step after their
 * latest (policyStep) counted from `now`; returns those reopened.
 */
export async function reopenIncidents(tx: Queryable, ids: string[], now: Date): Promise<IncidentRow[]> {
  if (ids.length === 0) return [];
  return tx<IncidentRow[]>`
    update incidents set status = 'open', acknowledged_at = null, acknowledged_by = null, escalation_held = false,
      escalation_base = escalation_step + 1, escalation_from = ${now}, reopenings = reopenings + 1, version = version + 1
    where id = any(${ids}::uuid[]) and status = 'acknowledged'
    returning *`;
}

/** These incidents, locked for the caller's transaction. */
export async function lockIncidents(tx: Queryable, ids: string[]): Promise<Map<string, IncidentRow>> {
  if (ids.length === 0) return new Map();
  const rows = await tx<IncidentRow[]>`select * from incidents where id = any(${ids}::uuid[]) order by id for no key update`;
  return new Map(rows.map((r) => [r.id, r]));
}

export interface EscalationAdvance {
  id: string;
  step: number;
  level: number;
  /** The policy the step followed: the incident's own, or what replaced it once it was deleted. */
  policyId: string;
  /** A released step (held through maintenance): the steps after it count from here. Null keeps escalation_from. */
  from: Date | null;
}

/** Records that schedule step `step` paged `level`, releasing a hold; only from the step before, only while open. */
export async function advanceEscalations(tx: Queryable, list: EscalationAdvance[]): Promise<Map<string, IncidentRow>> {
  if (list.length === 0) return new Map();
  const rows = await tx<IncidentRow[]>`
    update incidents i set escalation_step = v.step, escalation_level = v.level, policy_id = v.policy_id,
      escalation_held = false, escalation_from = coalesce(v.escalation_from, i.escalation_from), version = i.version + 1
    from unnest(${list.map((a) => a.id)}::uuid[], ${list.map((a) => a.step)}::int[], ${list.map((a) => a.level)}::int[],
                ${list.map((a) => a.policyId)}::uuid[], ${list.map((a) => a.from?.toISOString() ?? null)}::timestamptz[])
      as v(id, step, level, policy_id, escalation_from)
    where i.id = v.id and i.status = 'open' and i.escalation_step = v.step - 1
    returning i.*`;
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Holds the next step of these open incidents (their node is in maintenance) until releaseHeld or
 * its re-check, recording the policy it follows (as advanceEscalations does), so a replacement
 * for a deleted policy is noted once, not at every re-check.
 */
export async function holdEscalations(tx: Queryable, list: Array<{ id: string; policyId: string }>): Promise<void> {
  if (list.length === 0) return;
  await tx`
    update incidents i set escalation_held = true, policy_id = v.policy_id
    from unnest(${list.map((h) => h.id)}::uuid[], ${list.map((h) => h.policyId)}::uuid[]) as v(id, policy_id)
    where i.id = v.id and i.status = 'open'`;
}

/** Ends the hold of these incidents' next step, for the caller to arm it; returns those that were held. */
export async function releaseHeld(tx: Queryable, ids: string[]): Promise<IncidentRow[]> {
  if (ids.length === 0) return [];
  return tx<IncidentRow[]>`update incidents set escalation_held = false where id = any(${ids}::uuid[]) and escalation_held and status = 'open' returning *`;
}

/**
 * The open incidents escalating by this policy, locked until commit in id order, as an escalation
 * locks them (lockIncidents) before the policies they follow: a writer deleting the policy takes
 * them before the policy, so neither waits for the other while holding what the other needs.
 */
export async function lockIncidentsOfPolicy(tx: Queryable, policyId: string): Promise<Array<{ id: string; node_id: string }>> {
  return tx<Array<{ id: string; node_id: string }>>`
    select id, node_id from incidents where status = 'open' and policy_id = ${policyId} order by id for no key update`;
}

/** Sets the policy each incident escalates by (the one replacing a deleted policy). */
export async function replacePolicies(tx: Queryable, list: Array<{ id: string; policyId: string }>): Promise<void> {
  if (list.length === 0) return;
  await tx`
    update incidents i set policy_id = v.policy_id, version = i.version + 1
    from unnest(${list.map((r) => r.id)}::uuid[], ${list.map((r) => r.policyId)}::uuid[]) as v(id, policy_id)
    where i.id = v.id`;
}

/** A waiting escalation timer, with its incident's node and what its time counts from (escalationFrom). */
export interface PendingEscalation {
  outbox_id: string;
  step: number;
  node_id: string;
  opened_at: Date;
  escalation_from: Date | null;
  escalation_base: number;
}

/**
 * The waiting escalation timers of the policy's open, unacknowledged incidents, except those armed
 * at once (a level before reached nobody), locked until commit. A timer being fired right now is
 * skipped rather than waited for: its handler holds it and waits for the policy's lock (sharePolicies),
 * so it then reads the policy as changed, and waiting here instead could deadlock.
 * The incidents are found by status (`incidents_status_opened`), their timers by key (`outbox_key_id`).
 */
export async function pendingEscalations(tx: Queryable, policyId: string): Promise<PendingEscalation[]> {
  return tx<PendingEscalation[]>`
    select o.id::text as outbox_id, (o.payload->>'step')::int as step, i.node_id, i.opened_at, i.escalation_from, i.escalation_base
    from incidents i
    join outbox o on o.key = 'incident:' || i.id::text and o.topic = 'incident.escalation_due'
    where i.status = 'open' and i.policy_id = ${policyId} and not (o.payload ? 'at_once')
    for update of o skip locked`;
}

/** Timeline entries as rows `v(incident_id, at, kind, detail)`, for an insert. */
const timelineRows = (tx: Queryable, entries: TimelineEntry[]) => tx`
    select * from unnest(${entries.map((e) => e.incident_id)}::uuid[], ${entries.map((e) => e.at.toISOString())}::timestamptz[],
                         ${entries.map((e) => e.kind)}::text[], ${entries.map((e) => JSON.stringify(e.detail))}::text[]::jsonb[]) as v(incident_id, at, kind, detail)`;

export async function addTimeline(tx: Queryable, entries: TimelineEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx`insert into incident_timeline (incident_id, at, kind, detail) ${timelineRows(tx, entries)}`;
  // Every change to an incident (status, escalation, a delivery's outcome) writes its timeline, so
  // this one NOTIFY tells the live feed about all of them.
  await notifyAll(tx, LIVE_CHANNEL, incidentNotices(entries.map((e) => e.incident_id)));
}

/**
 * Writes each entry, or, once its incident has `max` of its kind, puts it in place of the newest of
 * them (its time and detail): the timeline stays at `max` lines of the kind and its last one is
 * always the latest, which is what a resolve reads (endingsOf). At most one entry per incident: the
 * count sees only rows written before this statement, not those it inserts, so two entries of one
 * incident at `max - 1` would both be written.
 */
export async function addTimelineKeepingLast(tx: Queryable, entries: TimelineEntry[], max: number): Promise<void> {
  if (entries.length === 0) return;
  const rows = await tx<{ incident_id: string }[]>`
    with v as (${timelineRows(tx, entries)}),
    c as (select v.*, (select count(*) from incident_timeline t where t.incident_id = v.incident_id and t.kind = v.kind) >= ${max} as at_cap from v),
    added as (insert into incident_timeline (incident_id, at, kind, detail) select incident_id, at, kind, detail from c where not at_cap returning incident_id),
    replaced as (
      update incident_timeline t set at = c.at, detail = c.detail from c
      where c.at_cap and t.id = (select l.id from incident_timeline l where l.incident_id = c.incident_id and l.kind = c.kind order by l.at desc, l.id desc limit 1)
      returning t.incident_id)
    select incident_id::text from added union all select incident_id::text from replaced`;
  await notifyAll(tx, LIVE_CHANNEL, incidentNotices(rows.map((r) => r.incident_id)));
}

/**
 * Writes each entry unless its incident has one of its kind already: a timeline that says a thing
 * once (an outage resolved by hand seen again, however many blind spots it lasts through).
 */
export async function addTimelineOnce(tx: Queryable, entries: TimelineEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = await tx<{ incident_id: string }[]>`
    insert into incident_timeline (incident_id, at, kind, detail) ${timelineRows(tx, entries)}
    where not exists (select 1 from incident_timeline t where t.incident_id = v.incident_id and t.kind = v.kind)
    returning incident_id::text`;
  await notifyAll(tx, LIVE_CHANNEL, incidentNotices(rows.map((r) => r.incident_id)));
}

/**
 * Each incident's timeline in the order things happened: by time, then as written. An entry may be
 * written after later ones but stamped with when it happened (`escalation_stopped` carries its
 * acknowledgement's time, learnt only when the next level's timer fires, 300 s later on a 300 s
 * level), so the order of writing alone put it after entries seconds younger.
 */
export async function timelinesOf(sql: Queryable, ids: string[]): Promise<Map<string, TimelineEntry[]>> {
  const rows = await sql<TimelineEntry[]>`
    select incident_id, at, kind, detail from incident_timeline where incident_id = any(${ids}::uuid[]) order by at, id`;
  const out = new Map<string, TimelineEntry[]>(ids.map((id) => [id, []]));
  for (const r of rows) out.get(r.incident_id)!.push(r);
  return out;
}

/**
 * Each of these incidents' latest timeline time among the entries written under the incident's
 * lock (LOCKED_KINDS), read under their locks: a resolve written after an escalation whose worker
 * read a later clock is stamped no earlier than it (two outbox workers' batches read `now` before
 * they claim, up to a batch's handling apart). Backward on the (incident_id, at, id) index per
 * incident, past only the deliveries' entries later than it (a few per page).
 */
export async function latestTimelineAt(sql: Queryable, ids: string[]): Promise<Map<string, Date>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ incident_id: string; at: Date }[]>`
    select i.id as incident_id, t.at from unnest(${ids}::uuid[]) as i(id)
    cross join lateral (
      select at from incident_timeline where incident_id = i.id and kind = any(${[...LOCKED_KINDS]}::text[]) order by at desc limit 1
    ) t`;
  return new Map(rows.map((r) => [r.incident_id, r.at]));
}

/** How many notes an incident's timeline holds, for the cap on them (NOTES_MAX), on its (incident_id, id) index. */
export async function countNotes(sql: Queryable, id: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from incident_timeline where incident_id = ${id} and kind = 'note'`;
  return row!.n;
}

/** What a resolve's message reads of an incident's timeline: see endingsOf. */
export interface Ending {
  /** The note it was resolved with, if any. */
  note?: string;
  /** The latest reason its node changed to while it was open (its last `reason_changed` line, as lastReasonOf), if any. */
  lastReason?: string;
}

/**
 * How each of these incidents ended, as its timeline says: the note it was resolved with, and the
 * last reason its node gave while it was open. An incident is resolved once, so it has at most one
 * `resolved` entry; the index on (incident_id, id) finds each kind's rows, `reason_changed` at most
 * REASON_NOTES_MAX of them. The last reason is the last `reason_changed` line by (at, id), the
 * timeline's order: the console's incident page reads it from the timeline it shows (lastReasonOf).
 */
export async function endingsOf(sql: Queryable, ids: string[]): Promise<Map<string, Ending>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ incident_id: string; note: string | null; reason: string | null }[]>`
    select distinct on (incident_id, kind) incident_id, detail->>'note' as note, case when kind = 'reason_changed' then detail->>'reason' end as reason
    from incident_timeline
    where incident_id = any(${ids}::uuid[]) and (kind = 'resolved' and detail ? 'note' or kind = 'reason_changed')
    order by incident_id, kind, at desc, id desc`;
  const out = new Map<string, Ending>();
  for (const r of rows) {
    const ending = out.get(r.incident_id) ?? {};
    if (r.reason !== null) ending.lastReason = r.reason;
    else if (r.note !== null) ending.note = r.note;
    out.set(r.incident_id, ending);
  }
  return out;
}

/** An acknowledgement's key among acknowledgingPeople's: its incident and its instant. */
export const acknowledgementKey = (incidentId: string, at: Date): string => `${incidentId} ${at.getTime()}`;

/**
 * Who made each of these acknowledgements (acknowledgementKey), when it was a person acting through
 * their own signed link (the `acknowledged` timeline entry names the link's `user_id`); an
 * acknowledgement by a key, a channel's link or a name given to the API names no person. By the
 * entry's instant, not the incident's first: after an expired acknowledgement reopened it, the
 * second acknowledger is not the first, who was paged again and must be told someone took it.
 */
export async function acknowledgingPeople(sql: Queryable, acks: Array<{ incidentId: string; at: Date }>): Promise<Map<string, string>> {
  if (acks.length === 0) return new Map();
  const rows = await sql<{ incident_id: string; at: Date; user_id: string }[]>`
    select incident_id, at, detail->>'user_id' as user_id from incident_timeline
    where incident_id = any(${[...new Set(acks.map((a) => a.incidentId))]}::uuid[]) and kind = 'acknowledged' and detail ? 'user_id'`;
  return new Map(rows.map((r) => [acknowledgementKey(r.incident_id, r.at), r.user_id]));
}

/** An acknowledgement that timed out, as its `acknowledgement_expired` timeline entry recorded it. */
export interface ExpiredAcknowledgement {
  acknowledged_at: string;
  acknowledged_by: string | null;
  after_seconds: number;
}

/** A page an incident's timeline records: its opening's (level 0) or an escalation's. */
export interface PageEntry {
  at: Date;
  level: number;
  step: number;
  /** The expired acknowledgement this page restarted the levels after (its `acknowledgement_expired` entry); absent otherwise. */
  expired?: ExpiredAcknowledgement;
  /** The people it named, as named when it fired (name null: not known then), and the schedule that put each on it. */
  people: PagedPerson[];
  channels: number;
}

/**
 * The pages of these incidents, oldest first: their `opened` and `escalated` timeline entries, each
 * with the acknowledgement expiry before it if any, in one pass over each incident's timeline on its
 * (incident_id, id) index.
 */
export async function pagesOf(sql: Queryable, ids: string[]): Promise<Map<string, PageEntry[]>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ incident_id: string; kind: string; at: Date; level: number | null; step: number | null; people: PagedPerson[]; channels: number | null; expired: ExpiredAcknowledgement | null }[]>`
    select incident_id, kind, at, (detail->>'level')::int as level, (detail->>'step')::int as step,
      coalesce(detail->'users', '[]') as people,
      jsonb_array_length(coalesce(detail->'channel_ids', '[]')) as channels,
      case when kind = 'acknowledgement_expired' then detail end as expired
    from incident_timeline where incident_id = any(${ids}::uuid[]) and kind in ('opened', 'escalated', 'acknowledgement_expired')
    order by incident_id, id`;
  const out = new Map<string, PageEntry[]>();
  // An expiry belongs to the page after it: at once, or when maintenance that held it ends.
  const expiries = new Map<string, ExpiredAcknowledgement>();
  for (const r of rows) {
    if (r.expired) {
      expiries.set(r.incident_id, r.expired);
      continue;
    }
    const expired = expiries.get(r.incident_id);
    expiries.delete(r.incident_id);
    const entry = { at: r.at, level: r.level ?? 0, step: r.step ?? 0, people: r.people, channels: r.channels ?? 0, ...(expired ? { expired } : {}) };
    const list = out.get(r.incident_id);
    if (list) list.push(entry);
    else out.set(r.incident_id, [entry]);
  }
  return out;
}

/**
 * Which of these incidents paged nobody: their escalation ended on a level that reached nobody
 * (`reached_nobody` with `escalation_ends`) and no level paged anyone. Read from the timeline,
 * which each page writes in its own transaction (`opened` for level 1, unless a step-0
 * `reached_nobody` says it reached nobody; `escalated` for a later one): the ledger's rows come
 * only when the page's outbox event is handled, so a first page still queued or retrying would
 * read as nobody paged. One pass over these incidents' timelines on its (incident_id, id) index,
 * each incident's rows of those three kinds grouped and judged together: the correlated form
 * (each reached_nobody row, then an anti-join per row, then one more lookup per opened row) read
 * 646 buffers for a page of 50 open incidents and 12,438 for 500, this 173 and 1,591 (100,000
 * incidents, ~4.2 timeline rows each).
 */
export async function pagedNobody(sql: Queryable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await sql<{ incident_id: string }[]>`
    select incident_id from incident_timeline
    where incident_id = any(${ids}::uuid[]) and kind in ('reached_nobody', 'escalated', 'opened')
    group by incident_id
    having bool_or(kind = 'reached_nobody' and (detail->>'escalation_ends')::boolean)
      and not bool_or(kind = 'escalated')
      and (not bool_or(kind = 'opened') or bool_or(kind = 'reached_nobody' and detail->>'step' = '0'))`;
  return new Set(rows.map((r) => r.incident_id));
}

/**
 * The node whose incidents a list's node filter names, resolved as every node route resolves it
 * (getNode: the id, else the name), for the API's `?node_id=` and the console's `?node=` alike. A
 * UUID no node has is a deleted node's id, kept by its incidents. A name no node has now is a
 * deleted node's, which its incidents kept too: the node of the newest incident opened under it
 * (ARCHITECTURE.md, "A deleted node's name"); undefined for a name no incident was opened under.
 */
export async function incidentsNodeId(sql: Queryable, ref: string): Promise<string | undefined> {
  const node = await getNode(sql, ref);
  if (node) return node.id;
  if (isUuid(ref)) return ref;
  const [last] = await sql<{ node_id: string }[]>`
    select node_id from incidents where node_name = ${ref} order by opened_at desc, id desc limit 1`;
  return last?.node_id;
}

/**
 * The node filters of a list: one node, and the labels its node carries now (so a deleted node's
 * incidents, whose node carries nothing, are left out of a label filter).
 */
function ofNodes(sql: Queryable, f: { nodeId?: string | undefined; labels?: readonly LabelPair[] | undefined }) {
  return sql`
    ${f.nodeId ? sql`and node_id = ${f.nodeId}` : sql``}
    ${f.labels?.length ? sql`and node_id in (select n.id from nodes n where true ${carriesLabels(sql, f.labels)})` : sql``}`;
}

/** The node filters and the range of opening times, [openedAfter, openedBefore). */
function ofNodesAndRange(sql: Queryable, f: Pick<IncidentFilter, 'nodeId' | 'labels' | 'openedAfter' | 'openedBefore'>) {
  return sql`
    ${ofNodes(sql, f)}
    ${f.openedAfter ? sql`and opened_at >= ${f.openedAfter}` : sql``}
    ${f.openedBefore ? sql`and opened_at < ${f.openedBefore}` : sql``}`;
}

/**
 * Newest first. The cursor is a point in the same order the range bounds (opened_at), so each page
 * is the next of the range: the range narrows every page as it narrowed the first.
 */
export async function listIncidents(sql: Queryable, f: IncidentFilter): Promise<IncidentRow[]> {
  return sql<IncidentRow[]>`
    select * from incidents
    where true
      ${f.status === 'unresolved' ? sql`and status <> 'resolved'` : f.status ? sql`and status = ${f.status}` : sql``}
      ${ofNodesAndRange(sql, f)}
      ${f.after ? sql`and (opened_at, id) < (${f.after.openedAt}, ${f.after.id}::uuid)` : sql``}
    order by opened_at desc, id desc
    limit ${f.limit}`;
}

/** Mean, median and 90th percentile of `seconds` over the rows where it is not null (percentile_cont skips nulls). */
function timeFigures(sql: Queryable, seconds: ReturnType<Queryable>) {
  return sql`jsonb_build_object(
    'mean_seconds', avg(${seconds}),
    'median_seconds', percentile_cont(0.5) within group (order by ${seconds}),
    'p90_seconds', percentile_cont(0.9) within group (order by ${seconds}))`;
}

/**
 * The figures of a review (IncidentSummaryRow) over the incidents the filters keep, in one
 * statement so the counts and the times are of the same incidents. Times are in seconds from the
 * opening; an incident not acknowledged, or not resolved, is left out of that figure only.
 *
 * Time to acknowledge runs to the first acknowledgement (what PagerDuty's MTTA measures): an
 * acknowledgement that expired clears acknowledged_at, and one acknowledged again keeps only the
 * latest. Only a reopened incident (escalation_base > 0 once an acknowledgement expired) reads its
 * timeline, by incident_timeline_incident, so a range of 300,000 never-reopened incidents reads no
 * timeline row at all.
 */
export async function summarizeIncidents(sql: Queryable, f: Pick<IncidentFilter, 'nodeId' | 'labels' | 'openedAfter' | 'openedBefore'>): Promise<IncidentSummaryRow> {
  const [row] = await sql<IncidentSummaryRow[]>`
    with matching as (
      select category, first_ack, resolved_at,
        extract(epoch from first_ack - opened_at)::float8 as to_ack,
        extract(epoch from resolved_at - opened_at)::float8 as to_resolve
      from incidents i, lateral (select case when i.escalation_base = 0 then i.acknowledged_at else (
        select min(t.at) from incident_timeline t where t.incident_id = i.id and t.kind = 'acknowledged') end as first_ack) a
      where true ${ofNodesAndRange(sql, f)}
    )
    select count(*)::int as count, count(first_ack)::int as acknowledged, count(resolved_at)::int as resolved,
      ${timeFigures(sql, sql`to_ack`)} as time_to_acknowledge,
      ${timeFigures(sql, sql`to_resolve`)} as time_to_resolve,
      (select coalesce(jsonb_object_agg(category, n), '{}') from (select category, count(*)::int as n from matching group by category) c) as by_category
    from matching`;
  return row!;
}

/** Unresolved incidents by category and whether they are acknowledged. */
export async function countOpenIncidents(sql: Queryable): Promise<Array<{ category: string; acknowledged: boolean; n: number }>> {
  return sql<{ category: string; acknowledged: boolean; n: number }[]>`
    select category, status = 'acknowledged' as acknowledged, count(*)::int as n
    from incidents where status <> 'resolved' group by 1, 2`;
}

/**
 * Incidents open and not yet acknowledged (the console's frame, on every page and refresh): on the
 * status index, so it reads only those, where a count by status reads every incident ever kept.
 */
export async function countUnacknowledged(sql: Queryable): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from incidents where status = 'open'`;
  return row!.n;
}

/** Incidents per status, in one grouped query (the console's tabs), under the list's node filters and range. */
export async function countIncidentsByStatus(sql: Queryable, f: Pick<IncidentFilter, 'nodeId' | 'labels' | 'openedAfter' | 'openedBefore'>): Promise<Record<IncidentStatus, number>> {
  const rows = await sql<{ status: IncidentStatus; n: number }[]>`
    select status, count(*)::int as n from incidents where true ${ofNodesAndRange(sql, f)} group by status`;
  const counts: Record<IncidentStatus, number> = { open: 0, acknowledged: 0, resolved: 0 };
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}
