import type { IncidentView } from '../api/shapes.ts';
import type { IncidentEvent, PagedPerson } from '../incidents/model.ts';

// Who is told what about an incident, and did it arrive: one delivery per (incident event,
// recipient), recorded in a ledger. A recipient is a channel named on a level, a person's email, or
// one of a person's own channels. How one message is sent over a channel is alerting/'s business.

/** A node as a notification names it. */
export interface NotifiedNode {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface Notification {
  /** Stable per (incident event, channel): the webhook-id and the basis of the email Message-ID,
   *  so a retried delivery is recognisable as the same message. */
  messageId: string;
  event: IncidentEvent;
  /** RFC 3339 ms UTC: when the incident event happened, not when it is delivered. */
  occurredAt: string;
  /**
   * Why the node is failing, e.g. "no heartbeat for 1m30s": as it says when the message is built
   * (reasonNow), so a page after the opening one says what the node says now, a resolve the last
   * reason the outage had. `incident.reason` is the one it opened with.
   */
  reason: string | null;
  incident: IncidentView;
  node: NotifiedNode;
  /**
   * Signed links that acknowledge or resolve the incident as the recipient, when the engine knows
   * its public address: both for a page, resolve only once acknowledged, none for a resolve.
   */
  links?: ActionLinks;
  /** The incident's page in the console, when the engine knows its public address: on every message. */
  incidentUrl?: string;
  /** A resolve's note, when whoever resolved it wrote one (the API's `note`, the console's, a link's). */
  note?: string;
  /**
   * The node's health state when the message was built (null: the node was deleted); absent from a
   * message about no real node (a channel's test). A resolve by hand says from it whether the node
   * is still failing.
   */
  nodeState?: string | null;
  /** The node is a scheduled job (a node with a cron schedule): a recovery is a run that succeeded, not heartbeats resuming. */
  scheduled?: boolean;
  /**
   * The basis of the Message-ID of the incident's opening email to this recipient: an email about
   * the incident's later events answers it (In-Reply-To), so mail clients thread them.
   */
  threadId?: string;
  /**
   * An escalation's page: the level it pages (from 0) and the pages before it since the levels last
   * restarted, oldest first (the incident's timeline); `expired` when this page restarted them, after
   * an acknowledgement that timed out (`by` as people read it), whose round's pages are then none.
   */
  escalation?: { level: number; before: PriorPage[]; expired?: { by: string; at: string; after_seconds: number } };
  /**
   * A page's (opened, escalated) reach as its timeline entry recorded it: the people, each with the
   * schedule that put them on the level, and how many channels the level named. Absent for an
   * answer, and for a page written before people existed.
   */
  paged?: { people: ShownPagedPerson[]; channels: number };
  /**
   * The person this message goes to (their email, or a channel of their own) and their time zone;
   * absent for a destination others read too (a channel named on a level), which is told in UTC.
   */
  reader?: { user_id: string; time_zone: string };
  /** How many levels the incident's escalation policy has now; absent without a policy. */
  levels?: number;
  /**
   * Who acknowledged and resolved it as people read them (actorText: "key ops-bot", "Lifeline"),
   * for text; `incident` keeps the stored ids for machines.
   */
  shownBy: { acknowledged_by: string | null; resolved_by: string | null };
}

/**
 * A person a page reached, as the incident's timeline recorded them, as people read them: named
 * ("someone" where the timeline did not know the name), with the schedule's name now (null once it
 * was deleted) beside its id.
 */
export type ShownPagedPerson = PagedPerson & { name: string; schedule_name?: string | null };

/**
 * People a level names (`unnamed` for one whose name is not known), each with the name of the
 * schedule that put them on it (`schedules`: by id, as scheduleNames reads them): whom a page's
 * message says it reached, and whom the incident page says the next level pages.
 */
export function shownPeople(people: readonly PagedPerson[], schedules: ReadonlyMap<string, string>, unnamed: string): ShownPagedPerson[] {
  return people.map((u) => ({
    user_id: u.user_id,
    name: u.name ?? unnamed,
    ...(u.schedule_id !== undefined ? { schedule_id: u.schedule_id, schedule_name: schedules.get(u.schedule_id) ?? null } : {}),
  }));
}

/** A level paged before an escalation: whom it named, as people read them, and when. */
export interface PriorPage {
  /** Counted from 0, as the engine counts levels. */
  level: number;
  at: string;
  names: string[];
}

export interface ActionLinks {
  acknowledge?: string;
  resolve?: string;
}

export const DELIVERY_STATUSES = ['pending', 'sent', 'failed', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryRow {
  id: string;
  incident_id: string;
  event: IncidentEvent;
  event_key: string;
  /** Null for a person's email. */
  channel_id: string | null;
  /** The person told; null for a channel named on the level. */
  user_id: string | null;
  channel_type: string;
  status: DeliveryStatus;
  digest: boolean;
  attempts: number;
  last_error: string | null;
  occurred_at: Date;
  created_at: Date;
  enqueued_at: Date | null;
  sent_at: Date | null;
  /** When a failed row may be tried again (null unless failed). */
  next_attempt_at: Date | null;
  /** Until when (Postgres's clock) the sender holding `lease_token` alone may send the row. */
  lease_until: Date | null;
  lease_token: string | null;
}

/**
 * Whether an incident event (a ledger row's, a timeline entry's kind) is a page, one that calls
 * people to answer: opened and escalated. acknowledged and resolved tell those paged of an answer.
 */
export const isPageEvent = (event: string): boolean => event === 'opened' || event === 'escalated';

/**
 * The escalation step a page's ledger row belongs to, from its event key (fanOut writes `opened` for
 * step 0 and `escalated-<step>` after it); NaN for any other row.
 */
export const pageStep = (eventKey: string): number => (eventKey === 'opened' ? 0 : Number(/^escalated-(\d+)$/.exec(eventKey)?.[1]));

export interface NewDelivery {
  incidentId: string;
  event: IncidentEvent;
  eventKey: string;
  /** Null for a person's email. */
  channelId: string | null;
  /** The person told; absent for a channel named on the level. */
  userId?: string | null | undefined;
  channelType: string;
  occurredAt: Date;
  /** Held for the destination's storm digest instead of being sent alone. */
  digest?: boolean;
}

/**
 * Who a delivery goes to: a channel named on a level (no user), a person's email (no channel), or
 * one of a person's own channels (both).
 */
export interface Recipient {
  channel_id: string | null;
  user_id: string | null;
  channel_type: string;
}

/**
 * The ledger key, also the BullMQ job id and the webhook-id: stable across every retry.
 * `<incident>.<event_key>.<channel>` for a channel on the level, `<incident>.<event_key>.<user>.email`
 * and `<incident>.<event_key>.<user>.<channel>` for a person (BullMQ ids may not hold ':').
 */
export function deliveryId(incidentId: string, eventKey: string, channelId: string | null, userId: string | null = null): string {
  const to = userId === null ? channelId : `${userId}.${channelId ?? 'email'}`;
  return `${incidentId}.${eventKey}.${to}`;
}

/** Where a message lands, for storm counting and digests: its channel, or the person's mailbox. */
export const destinationKey = (r: Pick<Recipient, 'channel_id' | 'user_id'>): string => (r.channel_id ?? r.user_id)!;

/** A delivery to (re-)add to the queue, and when its next attempt is due. */
export type QueuedDelivery = Pick<DeliveryRow, 'id' | 'next_attempt_at'>;
