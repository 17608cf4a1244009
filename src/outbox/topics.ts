import type { State } from '../health/decide.ts';
import type { IncidentEvent } from '../incidents/model.ts';
import type { PagedUser } from '../oncall/model.ts';

// Every outbox topic and the payload its events carry, in one place: producers (insertOutbox) and
// handlers (HandlerRegistry.on) are typed by this map, so a handler reads its payload's fields as
// what they are, and a producer cannot write an event its handlers would not understand. Payloads
// are JSON, so times travel as RFC 3339 strings with milliseconds.

/** A node's health changed (written by the evaluator, in SQL: src/health/store.ts). Keyed by node. */
export interface NodeStateChanged {
  node_id: string;
  node_name: string;
  from: State;
  to: State;
  at: string;
  reason: string;
  state_version: number;
}

/**
 * A node stays down (or degraded) for a new reason (written by the evaluator with the node's new
 * reason, in SQL: src/health/store.ts): the same outage, so no transition and nobody paged; its open
 * incident's timeline says so. Keyed by node, so it follows the transition that opened the incident.
 */
export interface NodeReasonChanged {
  node_id: string;
  node_name: string;
  state: State;
  at: string;
  reason: string;
  /** The node's version it was written at (no new one: its state did not change). */
  state_version: number;
}

/** A node was deleted with its rows; handlers close what they opened for it. Keyed by node. */
export interface NodeDeleted {
  node_id: string;
  node_name: string;
  at: string;
}

/**
 * Something happened to an incident (topic `incident.<event>`). Keyed by the incident's node.
 * `incident.opened` is written by older versions only (a page at opening now leaves with its
 * transition, src/incidents/handlers.ts); it is still handled, for a rolling upgrade.
 */
export interface IncidentChanged {
  incident_id: string;
  node_id: string;
  event: IncidentEvent;
  at: string;
  /** acknowledged, resolved: who did it. */
  by?: string;
  /**
   * escalated: the level paged and the schedule step that paged it. acknowledged: how many times
   * an expired acknowledgement had reopened the incident, absent before any did (one ledger key each).
   */
  level?: number;
  step?: number;
  /**
   * opened, escalated: whom the level reached when it fired, its schedules resolved to the people
   * on call then. Absent in events written before people existed: the level's channels.
   */
  recipients?: PageRecipients;
}

/** Whom a page reaches: channels named on the level, and people (named, or on call for a schedule). */
export interface PageRecipients {
  channel_ids: string[];
  users: PagedUser[];
}

/** An escalation timer: step `step` of the incident's schedule is due. Keyed by incident. */
export interface EscalationDue {
  incident_id: string;
  step: number;
  /** Armed at once because the level before reached nobody, or a held step was released or is re-checked: not at the step's own time. */
  at_once?: true;
  /** A step held through maintenance, released when the node was judged down or degraded again: the steps after it count from its firing. */
  released?: true;
  /** A re-check of a held step: pages it only if the node is judged down or degraded by then, in case its release was missed. */
  recheck?: true;
}

/**
 * An acknowledgement timeout: the incident, if still acknowledged at `acknowledged_at`, goes back
 * to open and pages level 0 again. Keyed `ack:<incident>`. A topic of its own, so a worker of an
 * earlier release leaves it to an upgraded one (claimOutbox) rather than completing it unhandled.
 */
export interface AckTimeoutDue {
  incident_id: string;
  acknowledged_at: string;
  /** The policy's timeout when it was armed, for the timeline. */
  timeout_seconds: number;
}

export interface Topics {
  'node.state_changed': NodeStateChanged;
  'node.reason_changed': NodeReasonChanged;
  'node.deleted': NodeDeleted;
  'incident.opened': IncidentChanged;
  'incident.escalated': IncidentChanged;
  'incident.acknowledged': IncidentChanged;
  'incident.resolved': IncidentChanged;
  'incident.escalation_due': EscalationDue;
  'incident.ack_timeout_due': AckTimeoutDue;
}

export type Topic = keyof Topics & string;

/** Every topic the engine writes, next to Topics: what must know them all at start (their counters start at 0) reads it. */
export const TOPICS = [
  'node.state_changed',
  'node.reason_changed',
  'node.deleted',
  'incident.opened',
  'incident.escalated',
  'incident.acknowledged',
  'incident.resolved',
  'incident.escalation_due',
  'incident.ack_timeout_due',
] as const satisfies readonly Topic[];

export type IncidentTopic = `incident.${IncidentEvent}`;
export const INCIDENT_TOPICS = ['incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved'] as const satisfies readonly IncidentTopic[];

/** An event as a handler receives it: its topic says what its payload is. */
export type OutboxEvent<T extends Topic = Topic> = {
  [K in T]: { id: string; topic: K; key: string; payload: Topics[K]; created_at: Date; attempts: number };
}[T];

/** An event to write. Events sharing a key are handled strictly in insertion order. */
export type NewOutboxEvent<T extends Topic = Topic> = {
  [K in T]: {
    topic: K;
    key: string;
    payload: Topics[K];
    /** Delayed work (escalations): not handled before this instant. */
    availableAt?: Date;
  };
}[T];
