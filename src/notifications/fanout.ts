import { channelTypes } from '../channels/store.ts';
import type { Tx } from '../db/client.ts';
import type { IncidentNews, IncidentRow, TimelineEntry } from '../incidents/model.ts';
import { acknowledgementKey, acknowledgingPeople, addTimeline, getIncidents } from '../incidents/store.ts';
import { namesAnyone, type Contacts, type Directory } from '../oncall/model.ts';
import type { PageRecipients } from '../outbox/topics.ts';
import { getPolicies } from '../oncall/store.ts';
import { contactsOf } from '../oncall/store-users.ts';
import { destinationKey, type NewDelivery, type Recipient } from './model.ts';
import { insertDeliveries, lockStormCounters, pagesLeftUnsent, recentDeliveryCounts, toldRecipients } from './store.ts';

/** Channels read by people; machines (webhook, PagerDuty) need every event with its own id. */
const DIGESTED_TYPES = new Set(['email', 'slack']);
const STORM_WINDOW_MS = 60_000;

const destination = (d: NewDelivery) => destinationKey({ channel_id: d.channelId, user_id: d.userId ?? null });

/**
 * Storm rule: once a person-read destination (an email or Slack channel, a person's mailbox) has
 * been sent `threshold` updates within the last minute, further updates to it are held for its
 * digest (one message listing them all, sent by the notifier every digest interval) instead of one
 * message each. Rows are still written per update, so the ledger, the pairing of resolves and the
 * deliveries API stay exact. `human` holds only rows to such destinations.
 */
async function markStorms(tx: Tx, human: NewDelivery[], now: Date, threshold: number): Promise<void> {
  const destinations = [...new Set(human.map(destination))];
  await lockStormCounters(tx, destinations);
  const recent = await recentDeliveryCounts(tx, destinations, new Date(now.getTime() - STORM_WINDOW_MS), threshold);
  for (const d of human) {
    const seen = recent.get(destination(d)) ?? 0;
    d.digest = seen >= threshold;
    recent.set(destination(d), seen + 1);
  }
}

const isAnswer = (n: IncidentNews) => n.event === 'acknowledged' || n.event === 'resolved';

/**
 * An acknowledgement's email to the person who made it (their mailbox, or an email channel of
 * their own): they know, as PagerDuty does not tell its acknowledger. Nothing else is left out: a
 * shared channel is read by others, a person's other channels (PagerDuty) track the alert's state,
 * and every other event, the resolve most of all, goes to whom the ledger says was paged.
 */
const ownAcknowledgement = (n: IncidentNews, r: Recipient, acknowledgers: ReadonlyMap<string, string>): boolean =>
  n.event === 'acknowledged' && r.channel_type === 'email' && r.user_id !== null && r.user_id === acknowledgers.get(acknowledgementKey(n.incidentId, n.at));

/**
 * What the caller read in this transaction before the fan-out: the incidents it opened, as they
 * stand, and what judging their levels read of the channels and people named (src/incidents).
 */
export interface AlreadyRead {
  incidents: ReadonlyMap<string, IncidentRow>;
  directory?: Directory;
}

/** `known` and, read by `read` in one query, those of `ids` it lacks (none read when it lacks none). */
async function withMissing<V>(known: ReadonlyMap<string, V> | undefined, ids: Iterable<string>, read: (ids: string[]) => Promise<Map<string, V>>): Promise<ReadonlyMap<string, V>> {
  const missing = [...new Set(ids)].filter((id) => !known?.has(id));
  if (missing.length === 0) return known ?? new Map();
  return new Map([...(known ?? []), ...(await read(missing))]);
}

/**
 * The ledger's recipients for a page: each channel, then each person's email and own channels, in
 * that order. A destination reached twice (a person's channel also named on the level, a person
 * named twice) is told once, under its first mention. What the fan-out reads itself leaves out
 * what is gone by then; what it was handed (AlreadyRead) is as judging the level found it, so a
 * person's channel unlinked and deleted between judging and this insert gets a row, which dies
 * `channel_deleted` at its send as any row of a channel deleted after its insert does.
 */
function pageRecipients(page: PageRecipients, channelTypes: ReadonlyMap<string, string>, people: ReadonlyMap<string, Contacts>): Recipient[] {
  const out: Recipient[] = [];
  const seen = new Set<string>();
  const add = (r: Recipient) => {
    const key = destinationKey(r);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(r);
  };
  for (const id of page.channel_ids) {
    const type = channelTypes.get(id);
    if (type !== undefined) add({ channel_id: id, user_id: null, channel_type: type });
  }
  for (const { user_id } of page.users) {
    const person = people.get(user_id);
    if (!person) continue;
    add({ channel_id: null, user_id, channel_type: 'email' });
    for (const ch of person.channels) add({ channel_id: ch.id, user_id, channel_type: ch.type });
  }
  return out;
}

/** Why a page replayed after its incident's resolve was handled (sent, or itself parked dead) is not sent. */
export const PAGE_AFTER_RESOLVE =
  'the incident was resolved and its resolve no longer waited in the outbox when this page (a dead event replayed) was handled; sent now, it would page after the resolve';

/**
 * Pages (not answers) of incidents already resolved whose resolve is no longer queued behind them
 * (pagesLeftUnsent): replayed dead events. Sending one would page after the resolve, and a receiver
 * that opens an alert per page (PagerDuty) would keep it open for ever. The rule is the store's,
 * the one a deletion reads too; it leaves only a resolved incident's page unsent, so there is no
 * query unless one of the pages' incidents is resolved.
 */
async function pagesAfterResolve(tx: Tx, news: IncidentNews[], incidents: ReadonlyMap<string, IncidentRow>): Promise<Set<IncidentNews>> {
  const late = news.filter((n) => !isAnswer(n) && incidents.get(n.incidentId)?.status === 'resolved');
  const unsent = await pagesLeftUnsent(tx, late.map((n) => n.incidentId));
  return new Set(late.filter((n) => unsent.has(n.incidentId)));
}

/**
 * Turns incident news into ledger rows, one per (event, destination), in the caller's transaction,
 * and returns the ids of the rows to send on their own. A redelivered event inserts nothing new. A
 * page goes to whom its level reached when it fired; an answer (acknowledged, resolved) goes to
 * each destination the ledger itself says was paged, once (toldRecipients), so it reaches every
 * one of them whatever happened to the policy or the schedules since. What is in `alreadyRead` is
 * not read again: the incidents the caller opened in this transaction (in a mass outage that read
 * returned every row just inserted, 500 per batch), and the channels and people its levels were
 * judged by (a second read of the same rows, one or two queries per batch).
 */
export async function fanOut(tx: Tx, news: IncidentNews[], now: Date, stormThreshold: number, alreadyRead?: AlreadyRead): Promise<string[]> {
  // Set-wise: incidents, paged recipients, policies (for old events), channels and people in at
  // most five queries per batch, a sixth (pagesLeftUnsent) when a page's incident is already
  // resolved, a seventh (acknowledgingPeople) when some news is an acknowledgement (a 10k-node
  // outage would otherwise cost several queries per event).
  const incidents = await withMissing(alreadyRead?.incidents, news.map((n) => n.incidentId), (ids) => getIncidents(tx, ids));
  const told = await toldRecipients(tx, news.filter(isAnswer).map((n) => n.incidentId));
  const acknowledgers = await acknowledgingPeople(tx, news.filter((n) => n.event === 'acknowledged'));
  const legacy = news.filter((n) => !isAnswer(n) && n.recipients === undefined);
  const policies = await getPolicies(tx, [...new Set(legacy.flatMap((n) => incidents.get(n.incidentId)?.policy_id ?? []))]);
  const pageOf = (n: IncidentNews): PageRecipients =>
    n.recipients ?? { channel_ids: policies.get(incidents.get(n.incidentId)?.policy_id ?? '')?.levels[n.level ?? 0]?.channel_ids ?? [], users: [] };
  const pages = news.filter((n) => !isAnswer(n)).map(pageOf);
  const types = await withMissing(alreadyRead?.directory?.channelTypes, pages.flatMap((p) => p.channel_ids), (ids) => channelTypes(tx, ids));
  const people = await withMissing(alreadyRead?.directory?.people, pages.flatMap((p) => p.users.map((u) => u.user_id)), (ids) => contactsOf(tx, ids));

  const deliveries: NewDelivery[] = [];
  const timeline: TimelineEntry[] = [];
  const afterResolve = await pagesAfterResolve(tx, news, incidents);
  for (const n of news) {
    const incident = incidents.get(n.incidentId);
    if (!incident) continue;
    if (afterResolve.has(n)) {
      timeline.push({ incident_id: incident.id, at: now, kind: 'not_notified', detail: { event: n.event, reason: PAGE_AFTER_RESOLVE } });
      continue;
    }
    // A page per step; an acknowledgement once per reopening (its step: the incident's reopenings, which
    // grow with each even when maintenance held the re-page and the steps did not move), else a later
    // acknowledgement's rows would be refused as the first's (deliveries_once_per_destination).
    const eventKey = n.event === 'escalated' || (n.event === 'acknowledged' && n.step) ? `${n.event}-${n.step}` : n.event;
    const page = isAnswer(n) ? undefined : pageOf(n);
    const to = page ? pageRecipients(page, types, people) : (told.get(incident.id) ?? []).filter((r) => !ownAcknowledgement(n, r, acknowledgers));
    // A level that reached nobody when it fired is on the timeline already (the escalation says so).
    if (page && to.length === 0 && (n.recipients === undefined || namesAnyone(n.recipients))) {
      const reason = n.recipients ? 'every channel and person on this level was deleted' : 'no channel on this escalation level';
      timeline.push({ incident_id: incident.id, at: now, kind: 'not_notified', detail: { event: n.event, reason } });
    }
    for (const r of to) {
      deliveries.push({
        incidentId: incident.id,
        event: n.event,
        eventKey,
        channelId: r.channel_id,
        userId: r.user_id,
        channelType: r.channel_type,
        occurredAt: n.at,
      });
    }
  }
  // Rows no storm rule applies to are written before the storm counters are locked: that lock
  // is held until commit and every worker paging the same person-read destination takes it, so
  // whatever runs under it runs one worker at a time. In a 10,000-node outage paging a webhook and
  // an email channel, the webhook half of the ledger (the larger insert) went in under it.
  const human = deliveries.filter((d) => DIGESTED_TYPES.has(d.channelType));
  const ids = await insertDeliveries(
    tx,
    deliveries.filter((d) => !DIGESTED_TYPES.has(d.channelType)),
    now,
  );
  await addTimeline(tx, timeline);
  await markStorms(tx, human, now, stormThreshold);
  return [...ids, ...(await insertDeliveries(tx, human, now))];
}
