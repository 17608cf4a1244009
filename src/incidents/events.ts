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
 * What an incident's steps count from: its opening, or, once a step held through maintenance has
 * fired, that moment less the step's delay, so the steps after it keep their gaps (see 0019).
 */
export const escalationFrom = (i: Pick<IncidentRow, 'opened_at' | 'escalation_from'>): Date => i.escalation_from ?? i.opened_at;

/** Step `step` of the policy as it now reads, for an incident whose steps count from `openedAt`; undefined past its end. */
export function policyStep(openedAt: Date, policy: PolicyRow, step: number): TimedStep | undefined {
  const s = escalationSteps(policy.levels, policy.repeat)[step - 1];
  return s && { ...s, dueAt: new Date(openedAt.getTime() + s.afterSeconds * 1000) };
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
    key: `incident:${incident.id}`,
    payload: { incident_id: incident.id, step: step.step, ...(now ? { at_once: true } : {}) },
    availableAt: now ?? step.dueAt,
  };
}

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
    key: why === 'released' ? `incident:${incident.id}` : recheckKey(incident.id),
    payload: { incident_id: incident.id, step: incident.escalation_step + 1, at_once: true, ...(why === 'released' ? { released: true as const } : { recheck: true as const }) },
    availableAt: at,
  };
}
