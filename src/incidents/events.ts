import { escalationSteps, type EscalationStep } from '../oncall/escalation.ts';
import type { PolicyRow } from '../oncall/model.ts';
import type { IncidentChanged, IncidentTopic, NewOutboxEvent } from '../outbox/topics.ts';
import type { IncidentEvent, IncidentRow } from './model.ts';

/** The outbox event announcing an incident change; keyed by node so it follows the node's order. */
export function incidentEvent(
  incident: IncidentRow,
  event: IncidentEvent,
  at: Date,
  extra: Pick<IncidentChanged, 'by' | 'level' | 'step' | 'recipients'> = {},
): NewOutboxEvent<IncidentTopic> {
  return {
    topic: `incident.${event}` as const,
    key: incident.node_id,
    payload: { incident_id: incident.id, node_id: incident.node_id, event, at: at.toISOString(), ...extra },
  };
}

/** A step of an incident's escalation, with when it is due: opening + the step's delay. */
export type TimedStep = EscalationStep & { dueAt: Date };

/**
 * What an incident's steps count from: its opening, or when the engine opened it if later (an
 * opening back-dated to the node's deadline pages level 0 only then), or, once a step held through
 * maintenance has fired, that moment less the step's delay, so the steps after it keep their gaps (see 0019).
 */
export const escalationFrom = (i: Pick<IncidentRow, 'opened_at' | 'escalation_from'>): Date => i.escalation_from ?? i.opened_at;

/**
 * Step `step` of the policy as it now reads for this incident, due from escalationFrom; undefined
 * past its end. Steps count on across a reopening (an acknowledgement that expired), which
 * restarts the levels at step `escalation_base`: that step pages level 0 at once, the next one
 * level 1 at its own delay, and so on.
 */
export function policyStep(incident: Pick<IncidentRow, 'opened_at' | 'escalation_from' | 'escalation_base'>, policy: PolicyRow, step: number): TimedStep | undefined {
  const n = step - incident.escalation_base;
  const s = n === 0 ? { level: 0, afterSeconds: 0 } : escalationSteps(policy.levels, policy.repeat)[n - 1];
  return s && { step, level: s.level, afterSeconds: s.afterSeconds, dueAt: new Date(escalationFrom(incident).getTime() + s.afterSeconds * 1000) };
}

/**
 * The durable timer for a step of an incident's schedule (policyStep): an outbox row that becomes
 * available when the step is due, or at `now` when given (the step before reached nobody, so this
 * one fires at once, and says so: `at_once` keeps it from being put back to its own time). None
 * past the schedule's end. Keyed by incident, not node, so a pending timer never holds back the
 * node's own events; a restart or failover simply finds it in the table.
 */
export function escalationTimer(incident: IncidentRow, step: TimedStep | undefined, now?: Date): NewOutboxEvent<'incident.escalation_due'> | undefined {
  if (!step) return undefined;
  return {
    topic: 'incident.escalation_due',
    key: escalationKey(incident.id),
    payload: { incident_id: incident.id, step: step.step, ...(now ? { at_once: true } : {}) },
    availableAt: now ?? step.dueAt,
  };
}

/** The key of an incident's escalation timers: one at a time, in order. */
export const escalationKey = (incidentId: string) => `incident:${incidentId}`;

/** The key of an incident's re-checks, apart from its other timers (heldStepTimer). */
export const recheckKey = (incidentId: string) => `held:${incidentId}`;

/**
 * A timer for the held step of an incident (its next one): `released` when the node was judged down
 * or degraded again (due at once, the steps after it counting from its firing), `recheck` when it
 * is held (due when the hold is next looked at: escalate). Either is `at_once`: its step is not
 * retimed by policy edits (pendingEscalations) nor put back to its own time. A re-check has a key
 * of its own: events of one key go in order (claimOutbox), and one due at a window's end hours
 * away would hold back the release's timer, due at once, until then.
 */
export function heldStepTimer(incident: IncidentRow, at: Date, why: 'released' | 'recheck'): NewOutboxEvent<'incident.escalation_due'> {
  return {
    topic: 'incident.escalation_due',
    key: why === 'released' ? escalationKey(incident.id) : recheckKey(incident.id),
    payload: { incident_id: incident.id, step: incident.escalation_step + 1, at_once: true, ...(why === 'released' ? { released: true as const } : { recheck: true as const }) },
    availableAt: at,
  };
}

/**
 * The timer that expires an acknowledgement, due `ack_timeout_seconds` after it; none when the
 * policy has no timeout. It carries the acknowledgement's time, so one armed by an earlier
 * acknowledgement finds the incident acknowledged at another time and does nothing (stillAcknowledged).
 * Keyed apart from the escalation timers: events of one key go in order (claimOutbox), and a day's
 * timeout would hold back the steps of an incident reopened in the meantime.
 */
export function ackTimeoutTimer(incident: IncidentRow, policy: Pick<PolicyRow, 'ack_timeout_seconds'> | undefined): NewOutboxEvent<'incident.ack_timeout_due'> | undefined {
  const seconds = policy?.ack_timeout_seconds;
  const at = incident.acknowledged_at;
  if (!seconds || !at) return undefined;
  return {
    topic: 'incident.ack_timeout_due',
    key: `ack:${incident.id}`,
    payload: { incident_id: incident.id, acknowledged_at: at.toISOString(), timeout_seconds: seconds },
    availableAt: new Date(at.getTime() + seconds * 1000),
  };
}

/** Whether the acknowledgement a timer was armed for still stands: not resolved, not reopened and acknowledged again since. */
export const stillAcknowledged = (incident: IncidentRow | undefined, acknowledgedAt: Date): incident is IncidentRow =>
  incident?.status === 'acknowledged' && incident.acknowledged_at?.getTime() === acknowledgedAt.getTime();
