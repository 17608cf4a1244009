// Runs of scheduled jobs, from their pings: what a ping says, and how a flush's pings become run
// rows. Pure: the open runs and the pings arrive as arguments.

import { isUtc } from '../local-time.ts';
import { boundaryAtOrAfter } from '../utf8-boundary.ts';

/** What a ping says: /start, a success (/ or /0), a failure (/fail or /1…255), or a /log message. */
export type PingKind = 'start' | 'success' | 'failure' | 'log';

export const RUN_STATUSES = ['running', 'success', 'failure', 'log', 'unfinished'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * The most of a ping's POST body that is read, in bytes and in chunks as they arrive; past either,
 * the ping is recorded with what was read, its output saying the rest was not, and the connection
 * is closed. Only the end is held, so these bound the CPU a body costs, not memory: ~3 ms per MiB
 * in 64 KB chunks, and ~5 µs more per chunk whatever its size (1 MiB in 1-byte chunks took
 * 3.5-4.8 s). 8 MiB in 4,096 chunks of 2 KB, the worst within both, cost the engine 50-100 ms on a
 * loaded machine where a 10-byte ping cost 10-40 (ARCHITECTURE.md, "Bodies"). `curl --data-binary
 * @job.log` arrives in 64 KB chunks: 8 MiB is 128 of them.
 */
export const PING_BODY_READ_BYTES = 8 * 1024 * 1024;
export const PING_BODY_READ_CHUNKS = 4096;
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

/**
 * How soon after an open run's start a start of the same run id is that start retried. `lifeline
 * run` retries a start for about 5 s (3 attempts, 2 s timeouts); a minute leaves room for a slow
 * machine and a late flush. A later start with the same run id is a new run: a crontab passing a
 * fixed rid whose run crashed yesterday starts today's run anew, its max_run counted from today.
 */
export const START_RETRY_WINDOW_MS = 60_000;

/** Open runs are keyed by node and run id: runs of one job may overlap when each has its own. */
const runKey = (nodeId: string, rid: string | null) => `${nodeId} ${rid ?? ''}`;

/**
 * The run rows a flush's pings make, in the order they arrived. A start opens a run, its body the
 * run's output while it runs: a start without a run id leaves a run still open without one
 * `unfinished` (nothing says it is the same run), while a start with the run id of a run opened
 * within START_RETRY_WINDOW_MS is that run's, retried, and changes only its output; a success or failure ends the open run of its run id with its
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
      // A start of a run id whose run opened within START_RETRY_WINDOW_MS is that run's start
      // again: a retry, the first one taken though its answer never came (`lifeline run` timing
      // out on a busy machine). The run keeps its first start; a body, if the retry has one, is its
      // output as a start's is. An older open run of that run id is left unfinished, as without one.
      if (run && p.rid !== null && run.startedAt !== null && p.at.getTime() - run.startedAt.getTime() <= START_RETRY_WINDOW_MS) {
        if (p.output !== null) end(run, { output: p.output });
        continue;
      }
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
 * Room at the start of a kept output that was cut for the line saying so (cutLine: under 120
 * bytes), so that line and the end after it are at most KEPT_OUTPUT_BYTES together.
 */
const CUT_LINE_ROOM = 128;
const count = (n: number) => n.toLocaleString('en-US');

/**
 * The first line of a kept output that is not the whole of what was sent: how many bytes before
 * it were cut, and whether the body went on past what a ping reads. Runs, the console and the CLI
 * show an output as text, so the cut is said where it is, at the start, rather than in a field of
 * its own; the end, which a failure's reason is read from, stays the command's.
 */
export function cutLine(cut: number, unread: boolean): string {
  if (!unread) return `[… ${count(cut)} bytes cut]\n`;
  return `[… ${count(cut)} bytes cut, and the body after this was not read: a ping reads up to ${PING_BODY_READ_BYTES / 1024 / 1024} MiB in ${count(PING_BODY_READ_CHUNKS)} chunks]\n`;
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
  private pushed = 0;

  /** The bytes pushed so far. */
  get length(): number {
    return this.pushed;
  }

  push(chunk: Uint8Array): void {
    this.pushed += chunk.length;
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
   * The kept end as a run stores it, null when nothing was pushed: the whole output when it fits
   * in KEPT_OUTPUT_BYTES, else cutLine and as much of the end as fits after it, from a character
   * boundary. `unread`: the output went on past what was pushed (a ping's body past what is
   * read), which the cut line says. NUL becomes U+FFFD first: Postgres text refuses it, and a
   * binary byte in a job's output must not cost the job its ping. Decoding UTF-8 never yields a
   * lone surrogate (an encoded one is invalid, so U+FFFD too). The bytes said to be cut are the
   * output's, a U+FFFD among them counted as stored (3 bytes for a NUL).
   */
  text(unread = false): string | null {
    // Held from the middle of the output, the buffer may start inside a character: from its next one.
    const from = this.pushed > this.end ? boundaryAtOrAfter(this.buffer.subarray(0, this.end), 0) : 0;
    const decoded = Buffer.from(this.buffer.buffer, from, this.end - from).toString('utf8').replaceAll('\u0000', '\uFFFD');
    const held = Buffer.from(decoded, 'utf8');
    const dropped = this.pushed - this.end + from;
    if (!unread && dropped === 0 && held.length <= KEPT_OUTPUT_BYTES) return held.length === 0 ? null : decoded;
    const kept = held.subarray(boundaryAtOrAfter(held, held.length - (KEPT_OUTPUT_BYTES - CUT_LINE_ROOM)));
    return cutLine(dropped + held.length - kept.length, unread) + Buffer.from(kept).toString('utf8');
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
