import { ManualClock } from './clock.ts';
import { createSql } from '../../src/db/client.ts';
import type { NodeSettings } from '../../src/nodes/model.ts';
import { insertNode } from '../../src/nodes/store.ts';
import type { HeartbeatStatus, Checks } from '../../src/health/decide.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { IngestFlusher } from '../../src/ingest/flusher.ts';
import { hashSecret, generateSecret } from '../../src/secrets.ts';
import type { TestDatabase } from './db.ts';
import { testLog } from './log.ts';

export const GAP_MS = 5_000;

/**
 * The heartbeat → evaluator half of the engine, in process, on a manual clock: every step is an
 * awaited call, so tests drive time exactly and never sleep.
 */
export function createPipeline(db: TestDatabase, clock: ManualClock) {
  let buffer = new HeartbeatBuffer();
  let flusher = new IngestFlusher({ sql: db.sql, buffer, clock, log: testLog, gapMs: GAP_MS });
  const leadership = new Leadership(() => createSql(db.url, { dedicated: true, applicationName: 'lifeline-test-evaluator' }), testLog);
  const evaluator = new Evaluator({ leadership, clock, log: testLog, intervalMs: 1000, coverageGapMs: GAP_MS, reader: db.sql });

  return {
    get buffer() {
      return buffer;
    },
    leadership,
    evaluator,
    async addNode(name: string, settings: Partial<NodeSettings & { escalation_policy_id: string | null }> = {}): Promise<string> {
      return db.sql.begin((tx) =>
        insertNode(
          tx,
          {
            name,
            labels: {},
            heartbeat_interval_seconds: 10,
            grace_seconds: 0,
            failures_for_down: 2,
            successes_for_recovery: 1,
            escalation_policy_id: null,
            token_hash: hashSecret(generateSecret('lln')),
            ...settings,
          },
          clock.now(),
        ),
      );
    },
    beat(nodeId: string, status: HeartbeatStatus = 'ok', checks: Checks | null = null, seq: number | null = null) {
      return buffer.add({ nodeId, at: clock.now(), status, checks, seq });
    },
    /** A node (with addNode's defaults: 10 s × 2) that beat once, fell silent and is judged down 20 s later. */
    async addNodeGoneDown(name: string): Promise<string> {
      const id = await this.addNode(name);
      this.beat(id);
      await this.tick();
      await this.runUntil(new Date(clock.now().getTime() + 20_000));
      await this.tick();
      return id;
    },
    flush: () => flusher.runOnce(),
    /**
     * Moves time forward as a running engine would live it: ingest flushing every second of the
     * way (so no coverage gap opens), without evaluating.
     */
    async runUntil(t: Date) {
      while (clock.now().getTime() < t.getTime()) {
        clock.set(new Date(Math.min(t.getTime(), clock.now().getTime() + 1000)));
        await flusher.runOnce();
      }
    },
    /** A flush (advancing the watermark to now) then an evaluator pass. */
    async tick() {
      await flusher.runOnce();
      return evaluator.runOnce();
    },
    /** A new ingest process: new buffer, new instance id (as after a restart). */
    restartIngest() {
      buffer = new HeartbeatBuffer();
      flusher = new IngestFlusher({ sql: db.sql, buffer, clock, log: testLog, gapMs: GAP_MS });
    },
    async close() {
      await leadership.release().catch(() => {});
      await leadership.close();
    },
  };
}

/**
 * A clean slate for a file's next test: the previous pipeline closed, nodes and ingest state
 * emptied, and a new pipeline whose ingest has been watching since `t0`.
 */
export async function freshPipeline(db: TestDatabase, previous: ReturnType<typeof createPipeline> | undefined, t0: Date) {
  await previous?.close();
  await db.sql`truncate nodes, node_state_log, outbox, outbox_dead, ingest_coverage, ingest_presence cascade`;
  const clock = new ManualClock(t0);
  const p = createPipeline(db, clock);
  await p.flush();
  return { clock, p };
}

export interface LoggedTransition {
  from_state: string;
  to_state: string;
  at: Date;
  state_version: number;
  reason: string | null;
}

export async function transitionsOf(db: TestDatabase, nodeId: string): Promise<LoggedTransition[]> {
  return db.sql<LoggedTransition[]>`
    select from_state, to_state, at, state_version, reason from node_state_log where node_id = ${nodeId} order by state_version`;
}

export const brief = (ts: LoggedTransition[], origin: Date) =>
  ts.map((t) => `${t.from_state}->${t.to_state}@${(t.at.getTime() - origin.getTime()) / 1000}`);
