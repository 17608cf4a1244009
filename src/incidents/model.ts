import type { LabelPair } from '../nodes/model.ts';
import type { PageRecipients } from '../outbox/topics.ts';
import type { Category, Severity } from './categorize.ts';

// An incident: a node down or degraded, from opening to resolution, with its timeline.

/** What can happen to an incident, each announced as an outbox event `incident.<event>`. */
export const INCIDENT_EVENTS = ['opened', 'escalated', 'acknowledged', 'resolved'] as const;
export type IncidentEvent = (typeof INCIDENT_EVENTS)[number];

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export interface IncidentRow {
  id: string;
  node_id: string;
  node_name: string;
  category: Category;
  severity: Severity;
  status: IncidentStatus;
  title: string;
  reason: string | null;
  policy_id: string | null;
  opened_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  escalation_level: number;
  escalation_step: number;
  /** Step escalation_step + 1 fell due while the node was in maintenance: it waits for the node to be judged down or degraded again. */
  escalation_held: boolean;
  /** What the steps' delays count from (escalationFrom): its opening was handled after opened_at, or a held step fired; null: opened_at. */
  escalation_from: Date | null;
  /** The schedule step an expired acknowledgement restarted the levels at (policyStep); 0: never reopened. */
  escalation_base: number;
  /** How many times an expired acknowledgement reopened it; keys the acknowledgement after each (fanOut). */
  reopenings: number;
  version: number;
}

/** An incident that is not resolved yet. */
export type OpenIncidentRow = IncidentRow & { status: Exclude<IncidentStatus, 'resolved'> };

/** An incident as a status page reads it: whose, what, and when. */
export type SpanRow = Pick<IncidentRow, 'node_id' | 'category' | 'severity' | 'status' | 'title' | 'opened_at' | 'acknowledged_at' | 'resolved_at'>;

/** A person a page reached, as the timeline recorded them (schedule_id absent: named on the level). */
export interface PagedPerson {
  user_id: string;
  name: string | null;
  schedule_id?: string;
}

/** One line of an incident's history: opened, escalated, notified, acknowledged, resolved … */
export interface TimelineEntry {
  incident_id: string;
  at: Date;
  kind: string;
  detail: Record<string, unknown>;
}

/**
 * The timeline kinds written under the incident's row lock: its own changes and notes. Not the
 * deliveries' (`notified`, `delivery_failed`, `not_notified`) nor a discarded event's, written by
 * the notifier or the outbox without that lock on their own process's clock, an hour ahead in one
 * case: a stamp that followed them put a note an hour in the future, above an acknowledgement
 * made a second later.
 */
export const LOCKED_KINDS: readonly string[] = [
  'opened', 'reached_nobody', 'escalated', 'escalation_suppressed', 'escalation_stopped', 'policy_replaced',
  'acknowledged', 'acknowledgement_expired', 'resolved', 'note',
];

/**
 * How far ahead of `now` a stamp may be put to follow an entry from a clock ahead of this one:
 * two engines' clocks a few seconds apart, or a batch read `now` seconds before it took the lock,
 * are ordered; a clock minutes ahead is a broken clock, and following it put entries in the future.
 */
const STAMP_AHEAD_MAX_MS = 60_000;

/**
 * When a change to a locked incident is stamped: at `now`, but no earlier than its latest entry
 * written under the lock (`latest`) nor its own `floor` (a node's transition, read on another
 * process's clock), so it reads after everything its writer could have seen; and never more than
 * STAMP_AHEAD_MAX_MS ahead of `now`.
 */
export function timelineStamp(now: Date, latest: Date | undefined, floor?: Date): Date {
  const after = Math.max(now.getTime(), latest?.getTime() ?? 0, floor?.getTime() ?? 0);
  return new Date(Math.min(after, now.getTime() + STAMP_AHEAD_MAX_MS));
}

export interface NewIncident {
  nodeId: string;
  nodeName: string;
  category: Category;
  severity: Severity;
  title: string;
  reason: string | null;
  policyId: string | null;
  openedAt: Date;
  /** When its steps' delays count from, if not openedAt: the moment its first page could go out (followNodes). */
  escalationFrom?: Date | null;
}

/** The most incidents one acknowledgement of several takes: a 300-node outage's, with room (PagerDuty takes 250). */
export const ACKNOWLEDGE_MAX = 500;

export interface IncidentFilter {
  /** 'unresolved': open or acknowledged, the console's default list (the API filters by one status). */
  status?: IncidentStatus | 'unresolved' | undefined;
  nodeId?: string | undefined;
  /** Only incidents whose node carries every one of these labels now (AND). */
  labels?: readonly LabelPair[] | undefined;
  /** Only incidents opened in [openedAfter, openedBefore): a review's week, say. */
  openedAfter?: Date | undefined;
  openedBefore?: Date | undefined;
  /** Keyset cursor: (opened_at, id) of the last item of the previous page. */
  after?: { openedAt: Date; id: string } | undefined;
  limit: number;
}

/** Something that happened to an incident, which the channels and people concerned are to be told. */
export interface IncidentNews {
  incidentId: string;
  event: IncidentEvent;
  /** When it happened. */
  at: Date;
  /** Escalations: the schedule step and the level it pages. */
  step?: number | undefined;
  level?: number | undefined;
  /** Pages: whom the level reached when it fired. Absent in events written before people existed: the level's channels. */
  recipients?: PageRecipients | undefined;
}

/** Mean, median and 90th percentile of a time in seconds; null when nothing was timed. */
export interface TimeFigures {
  mean_seconds: number | null;
  median_seconds: number | null;
  p90_seconds: number | null;
}

/**
 * The incidents opened in a range, for a review: all of them counted whatever their status now;
 * time to acknowledge over those acknowledged (resolved since or not), time to resolve over those
 * resolved (by a person or by Lifeline when the node recovered), each from its opening.
 */
export interface IncidentSummaryRow {
  count: number;
  acknowledged: number;
  resolved: number;
  time_to_acknowledge: TimeFigures;
  time_to_resolve: TimeFigures;
  by_category: Record<string, number>;
}
