// Runs of scheduled jobs, from their pings: what a ping says, and how a flush's pings become run
// rows. Pure: the open runs and the pings arrive as arguments.

import { isUtc } from '../local-time.ts';

/** What a ping says: /start, a success (/ or /0), a failure (/fail or /1…255), or a /log message. */
export type PingKind = 'start' | 'success' | 'failure' | 'log';

export const RUN_STATUSES = ['running', 'success', 'failure', 'log', 'unfinished'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * The most of a ping's POST body that is read (larger: 413). Only its end is held as it arrives,
 * so this bounds the time spent reading, not memory: the API's body limit (src/http/gate.ts),
 * ten times the 100 kB Healthchecks stores, so a `curl --data-binary @job.log` it takes is taken.
 */
export const MAX_PING_BODY_BYTES = 1024 * 1024;
/** What a run keeps of its output: the end, where a failing command says why. */
export const KEPT_OUTPUT_BYTES = 10 * 1024;
/** Runs kept per node; older ones are deleted as new ones arrive. */
export const RUNS_KEPT = 100;

/** One ping as ingest buffered it, at its receive time. */
export interface PingEvent {
  nodeId: string;
  at: Date;
  kind: PingKind;
  /** /0…/255; null for /, /fail, /start and /log. */
  exitCode: number | null;
  /** The kept end of a POST body; null without one. */
  output: string | null;
  /** The client's run id (`?rid=`, a UUID) that pairs a start with its end; null without one. */
  rid: string | null;
}

/** A node's run in progress as stored: the newest `running` row of each run id (and of none). */
export interface OpenRun {
  id: string;
  nodeId: string;
  startedAt: Date;
  rid: string | null;
}

/** A run row to insert, or the new values of a stored one. */
export interface RunValues {
  nodeId: string;
  startedAt: Date | null;
  finishedAt: Date | null;
  exitCode: number | null;
  status: RunStatus;
  output: string | null;
  rid: string | null;
}

export interface RunWrites {
  inserts: RunValues[];
  /** Stored runs that ended (or were superseded by a new start), by id. */
  updates: Array<RunValues & { id: string }>;
  /** The run start each touched node has after these pings (null: no run in progress). */
  runStarted: Map<string, Date | null>;
}

type PlannedRun = RunValues & { id?: string };

/** Open runs are keyed by node and run id: runs of one job may overlap when each has its own. */
const runKey = (nodeId: string, rid: string | null) => `${nodeId} ${rid ?? ''}`;

/**
 * The run rows a flush's pings make, in the order they arrived. A start opens a run (a run still
 * open with the same run id, or with none for a start without one, is then `unfinished`), its body
 * the run's output while it runs; a success or failure ends the open run of its run id with its
 * duration, exit code and its own output, none if it carried none; without such an open run, an
 * end is recorded only when it says more than "ok" (a failure, an exit code or an output): a job
 * that only pings success costs no row per ping. A log is a row of its own. (As one row per plain
 * ping, a job pinging every 10 s pushed its last failure out of the newest RUNS_KEPT after 17
 * min, and 1,184 pings/s cost a trim of each pinged node per flush.) Pairing by run id, as
 * Healthchecks' `?rid=`, keeps overlapping runs apart: by latest start alone, A started at 0 s and
 * B at 1 s, A's exit 0 ended B with A's duration and B's exit 2 was a row without a start.
 *
 * A node's run start (`runStarted`, what max_run_seconds is measured from) is its latest start's,
 * until that run ends; the end of an older overlapping run leaves it, so a run that was killed and
 * never ended does not keep its node judged by it once a newer run has ended.
 */
export function planRuns(pings: PingEvent[], open: OpenRun[]): RunWrites {
  const current = new Map<string, PlannedRun>();
  // The run whose start is the node's run start: the newest open one (open rows are by id).
  const latest = new Map<string, PlannedRun>();
  for (const r of [...open].sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)))) {
    const run: PlannedRun = { id: r.id, nodeId: r.nodeId, startedAt: r.startedAt, finishedAt: null, exitCode: null, status: 'running', output: null, rid: r.rid };
    current.set(runKey(r.nodeId, r.rid), run);
    latest.set(r.nodeId, run);
  }
  const inserts: RunValues[] = [];
  const updated = new Map<string, RunValues & { id: string }>();
  const runStarted = new Map<string, Date | null>();
  const end = (run: PlannedRun, to: Partial<RunValues>) => {
    Object.assign(run, to);
    if (run.id !== undefined) updated.set(run.id, run as RunValues & { id: string });
  };
  for (const p of pings) {
    const key = runKey(p.nodeId, p.rid);
    const run = current.get(key);
    if (p.kind === 'start') {
      if (run) end(run, { status: 'unfinished' });
      const started: RunValues = { nodeId: p.nodeId, startedAt: p.at, finishedAt: null, exitCode: null, status: 'running', output: p.output, rid: p.rid };
      inserts.push(started);
      current.set(key, started);
      latest.set(p.nodeId, started);
      runStarted.set(p.nodeId, p.at);
    } else if (p.kind === 'log') {
      inserts.push({ nodeId: p.nodeId, startedAt: null, finishedAt: p.at, exitCode: null, status: 'log', output: p.output, rid: p.rid });
    } else {
      // The end's own body, or none: a start's body is the run's output only while it runs (as
      // Healthchecks keeps each ping's body with its ping), so a bare /fail never shows it as why.
      const ended = { finishedAt: p.at, exitCode: p.exitCode, status: p.kind, output: p.output };
      if (run) {
        end(run, ended);
        current.delete(key);
        if (latest.get(p.nodeId) === run) {
          latest.delete(p.nodeId);
          runStarted.set(p.nodeId, null);
        }
      } else if (p.kind === 'failure' || p.exitCode !== null || p.output !== null) {
        inserts.push({ nodeId: p.nodeId, startedAt: null, ...ended, rid: p.rid });
      }
    }
  }
  return { inserts, updates: [...updated.values()], runStarted };
}

/**
 * The last KEPT_OUTPUT_BYTES of `body` as text, cut at a character boundary; null for an empty
 * body. Called by OutputTail.text only, which gives it valid UTF-8 without NUL (bytes that were
 * not UTF-8, and NUL, are U+FFFD by then).
 */
function keptOutput(body: Uint8Array): string | null {
  if (body.length === 0) return null;
  let start = Math.max(0, body.length - KEPT_OUTPUT_BYTES);
  // A UTF-8 continuation byte (10xxxxxx) is the middle of a character: start after it.
  while (start > 0 && start < body.length && (body[start]! & 0xc0) === 0x80) start += 1;
  return new TextDecoder('utf-8').decode(body.subarray(start));
}

/**
 * Bytes held before the kept end: a UTF-8 character is at most 4 bytes, so the 3 before it are
 * enough to decode the kept end's first character as the whole output would, not as U+FFFD.
 */
const LEAD_BYTES = 3;
const HELD_BYTES = KEPT_OUTPUT_BYTES + LEAD_BYTES;

/**
 * The end of an output that arrives in chunks (a command's stdout and stderr, a ping's body) in
 * one buffer of twice the bytes it holds, however the output is cut: a chunk is copied in, and
 * when the buffer is full its last HELD_BYTES are moved to its front. A move copies at most as
 * many bytes as were appended since the last one, so a push costs its own length, whatever the
 * chunking (a body of a million 1-byte chunks is a million small copies, not a growing array).
 */
export class OutputTail {
  private readonly buffer = new Uint8Array(2 * HELD_BYTES);
  private end = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length >= HELD_BYTES) {
      this.buffer.set(chunk.subarray(chunk.length - HELD_BYTES));
      this.end = HELD_BYTES;
      return;
    }
    if (this.end + chunk.length > this.buffer.length) {
      // end > HELD_BYTES here, so `keep` bytes are there to move.
      const keep = HELD_BYTES - chunk.length;
      this.buffer.copyWithin(0, this.end - keep, this.end);
      this.end = keep;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  /**
   * The kept end as a run stores it (keptOutput), null when empty. NUL becomes U+FFFD first:
   * Postgres text refuses it, and a binary byte in a job's output must not cost the job its ping.
   * Decoding UTF-8 never yields a lone surrogate (an encoded one is invalid, so U+FFFD too).
   */
  text(): string | null {
    const decoded = Buffer.from(this.buffer.buffer, 0, this.end).toString('utf8');
    return keptOutput(Buffer.from(decoded.replaceAll('\u0000', '\uFFFD'), 'utf8'));
  }
}

/** A run's duration in ms, when it has both ends. */
export const runDurationMs = (r: Pick<RunValues, 'startedAt' | 'finishedAt'>): number | null =>
  r.startedAt && r.finishedAt ? r.finishedAt.getTime() - r.startedAt.getTime() : null;

/**
 * The crontab lines that run `command` at a job's scheduled times, as `lifeline nodes add` prints
 * them and the console's page for a new job shows them. cron reads a line on the host's clock:
 * CRON_TZ (cronie, systemd-cron) has it read on the job's, so a Berlin 03:00 is not run at 03:00
 * UTC, an hour or two off. It holds for every line below it, so the lines set it back; to the
 * host's zone by name, as an empty CRON_TZ becomes TZ="", which glibc reads as UTC, not as the
 * host's clock. A job on UTC is one line, with no CRON_TZ.
 */
export function crontabLines(schedule: { cron: string; time_zone: string }, command: string): string[] {
  const line = `${schedule.cron} ${command}`;
  if (isUtc(schedule.time_zone)) return [line];
  return [
    `CRON_TZ=${schedule.time_zone}`,
    line,
    "# CRON_TZ holds for every line below it: set it back to the host's zone for the lines after the job",
    'CRON_TZ=<host zone>',
  ];
}
