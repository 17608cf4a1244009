// Resolving an incident by hand while its node is still in the state it opened for: the one rule
// and the one sentence the console's incident page and a Resolve link's page both show before the
// button. Incidents open only on a change of state (followNodes), so until the node recovers and
// fails again nothing opens and nobody is paged, while a status page shows it down with no
// incident open.

import type { State } from '../health/decide.ts';
import { CATEGORIES, categoryFor } from './categorize.ts';
import type { IncidentRow, TimelineEntry } from './model.ts';

/** "down" or "degraded" while the unresolved incident's node is still in the state it opened for; otherwise undefined. */
export function stillFailing(incident: Pick<IncidentRow, 'status' | 'category'>, state: State | undefined): string | undefined {
  return incident.status !== 'resolved' && state !== undefined && categoryFor(state) === incident.category ? CATEGORIES[incident.category].word : undefined;
}

/** What resolving now leaves behind, said before the button. */
export function stillFailingWarning(nodeName: string, still: string): string {
  return `${nodeName} is still ${still}. Resolving does not change that: nothing new opens or pages until it leaves that state and turns down or degraded again.`;
}

/**
 * Why an incident's node fails, as of now, for whoever is told or shown the incident later than its
 * opening: while it is unresolved and its node is still in the state it opened for, the node's own
 * reason, which follows the evidence (a job that went down for a missed run and then failed says
 * how it failed); otherwise `last`, the latest reason its timeline recorded while it was open
 * (`reason_changed`), else the reason it opened with. So a resolve says what the node failed with
 * last, not what it says once recovered, nor what it says in a later outage, and a deleted node's
 * incident keeps what it has.
 */
export function reasonNow(
  incident: Pick<IncidentRow, 'status' | 'category' | 'reason'>,
  node: { state: State | null; reason: string | null } | undefined,
  last: string | undefined,
): string | null {
  if (node && node.reason !== null && stillFailing(incident, node.state ?? undefined)) return node.reason;
  return last ?? incident.reason;
}

/**
 * The reason of a timeline's last `reason_changed` line, the timeline in its order (by time, then as
 * written: timelinesOf), for reasonNow. endingsOf reads the same line in SQL for messages.
 */
export function lastReasonOf(timeline: readonly TimelineEntry[]): string | undefined {
  const last = timeline.findLast((e) => e.kind === 'reason_changed')?.detail.reason;
  return typeof last === 'string' ? last : undefined;
}
