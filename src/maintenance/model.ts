import type { ErrorDetail } from '../errors.ts';

// Maintenance windows: time in which the nodes a window covers are in maintenance, so neither an
// incident nor a page comes of them.

export interface MaintenanceRow {
  id: string;
  node_ids: string[];
  labels: Record<string, string>;
  starts_at: Date;
  /** null = open-ended. A window cancelled before it began has ends_at = starts_at. */
  ends_at: Date | null;
  reason: string | null;
  /**
   * The IANA zone its times were typed in (the console's form), to show them on that clock; null
   * for a window given as instants only, shown in UTC. starts_at and ends_at are the instants either way.
   */
  time_zone: string | null;
  created_at: Date;
}

/** time_zone may be left out: a window given as instants only. */
export type NewMaintenance = Omit<MaintenanceRow, 'id' | 'created_at' | 'time_zone'> & { time_zone?: string | null | undefined };

/**
 * A window as asked for: its start may be left out, and its end given as a length from its start
 * (`duration_seconds`) instead of an instant, never both (requestProblems).
 */
export type MaintenanceRequest = Omit<NewMaintenance, 'starts_at' | 'ends_at'> & {
  starts_at?: Date | undefined;
  ends_at?: Date | null | undefined;
  duration_seconds?: number | undefined;
};

/** The last instant the API stores, as its timestamps are bounded (1970 to 9999). */
const LATEST_MS = Date.UTC(10_000, 0, 1) - 1;

/** The end a duration asks for: that long after the start, which is now when left out. */
const endOf = (w: MaintenanceRequest, now: Date, seconds: number) => new Date((w.starts_at ?? now).getTime() + seconds * 1000);

/**
 * A window asked for without a start starts now: a deploy step opening one for the hosts it
 * restarts means now. A duration ends it that long after, by the same clock, so a retried
 * request with the same body asks for the same thing whenever it is sent.
 */
export const startedBy = ({ duration_seconds, ...w }: MaintenanceRequest, now: Date): NewMaintenance => ({
  ...w,
  starts_at: w.starts_at ?? now,
  ends_at: duration_seconds === undefined ? (w.ends_at ?? null) : endOf(w, now, duration_seconds),
});

/** What is wrong with the end asked for before it is resolved: both forms given, or a duration ending past or after 9999. */
export function requestProblems(w: MaintenanceRequest, now: Date): ErrorDetail[] {
  if (w.duration_seconds === undefined) return [];
  if (w.ends_at !== undefined) return [{ field: 'duration_seconds', message: 'give ends_at or duration_seconds, not both' }];
  const end = endOf(w, now, w.duration_seconds);
  if (end <= now) return [{ field: 'duration_seconds', message: 'must end in the future: a window that already ended changes nothing' }];
  if (end.getTime() > LATEST_MS) return [{ field: 'duration_seconds', message: 'must end by 9999' }];
  return [];
}

/** A node's maintenance as the evaluator needs it: covered now (since when, until when), or next. */
export interface MaintenanceSpan {
  from: Date | null;
  until: Date | null;
  nextStart: Date | null;
  /**
   * For a node whose state is maintenance and that no window covers now: the latest moment it can
   * have left maintenance (see maintenanceExits in store.ts).
   */
  endedAt: Date | null;
}

/** A window open now or yet to begin, with the ids of the nodes asked about that it covers. */
export interface WindowAhead {
  starts_at: Date;
  /** null = open-ended. */
  ends_at: Date | null;
  /** The zone it was typed in, as MaintenanceRow's: a status page says its times on that clock. */
  time_zone: string | null;
  node_ids: string[];
}

/** Newest first: the cursor is the last item's (created_at, id). */
export type MaintenanceCursor = [createdAt: string, id: string];

export interface MaintenanceFilter {
  /** true: only windows open at `now`; false: only the others; undefined: all. */
  active?: boolean | undefined;
  now: Date;
  after?: MaintenanceCursor | undefined;
  limit: number;
}

/** Whether the window covers the instant `at`: begun, and not yet ended (a cancelled window never is). */
export const isOpenAt = (m: Pick<MaintenanceRow, 'starts_at' | 'ends_at'>, at: Date): boolean => m.starts_at <= at && (m.ends_at === null || m.ends_at > at);

/**
 * Whether the window is over at `at`: ended by then, or cancelled (ends_at = starts_at, which may
 * still lie ahead). Ending it again would change nothing but re-audit it and wake its nodes, so
 * neither the console nor endWindow does (endMaintenance asks the same in its SQL).
 */
export const isOverAt = (m: Pick<MaintenanceRow, 'starts_at' | 'ends_at'>, at: Date): boolean => m.ends_at !== null && m.ends_at.getTime() <= Math.max(at.getTime(), m.starts_at.getTime());

/** Nodes and labels a window's name spells out before "and N more". */
const COVERS_NAMED = 3;

/**
 * "web-1, role=web": what a window covers, by node names (`names`: id → name) and labels, as its
 * audit rows and the console's end question name it; an id no longer in `names` is "a deleted
 * node". Past four it is "web-1, web-2, web-3 and 997 more": a window may name 1,000 nodes, whose
 * names of up to 128 characters each made one audit row's name up to 130 KB (its `detail` keeps every
 * id, and the console's list every name). Four stay whole, as "and 1 more" is no shorter.
 */
export const windowCovers = (m: Pick<MaintenanceRow, 'node_ids' | 'labels'>, names: Map<string, string>): string => {
  const parts = [...m.node_ids.map((id) => names.get(id) ?? 'a deleted node'), ...Object.entries(m.labels).map(([k, v]) => `${k}=${v}`)];
  if (parts.length <= COVERS_NAMED + 1) return parts.join(', ');
  return `${parts.slice(0, COVERS_NAMED).join(', ')} and ${parts.length - COVERS_NAMED} more`;
};

/**
 * A window typed in the console starts no earlier than it is created. Its From is pre-filled with
 * now to the minute (datetime-local has no seconds), so a window sent at 04:55:33 began at
 * 04:55:00, and the evaluator stamps `maintenance` from a window's start: 33 s of a down node's
 * recorded outage became maintenance, and its uptime changed after the fact. The API keeps a past
 * starts_at as given (ARCHITECTURE.md, "Maintenance is typed on a zone's clock").
 */
export const notBefore = (w: NewMaintenance, now: Date): NewMaintenance => (w.starts_at < now ? { ...w, starts_at: now } : w);

/** What a window's fields cannot say about themselves: its shape against each other and now. */
export function windowProblems(w: NewMaintenance, now: Date): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (w.ends_at !== null && w.ends_at <= w.starts_at) problems.push({ field: 'ends_at', message: 'must be after starts_at' });
  else if (w.ends_at !== null && w.ends_at <= now) problems.push({ field: 'ends_at', message: 'must be in the future: a window that already ended changes nothing' });
  if (w.node_ids.length === 0 && Object.keys(w.labels).length === 0) {
    const message = 'node_ids or labels must name at least one node or label';
    problems.push({ field: 'node_ids', message }, { field: 'labels', message });
  }
  return problems;
}
