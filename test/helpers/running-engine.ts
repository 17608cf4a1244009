import assert from 'node:assert/strict';
import { createSql } from '../../src/db/client.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import { nodeEventsHandler, reasonHandler } from '../../src/incidents/handlers.ts';
import { IngestFlusher } from '../../src/ingest/flusher.ts';
import { OutboxDispatcher } from '../../src/outbox/dispatcher.ts';
import { HandlerRegistry } from '../../src/outbox/registry.ts';
import { uptimeHandler } from '../../src/uptime/handlers.ts';
import { UptimeHousekeeping } from '../../src/uptime/housekeeping.ts';
import type { Harness } from './app.ts';
import { testLog } from './log.ts';

const RETENTION = { hourlyDays: 90, dailyDays: 1095 };

export type AgentStatus = 'ok' | 'degraded' | 'failing';

/**
 * The engine around a harness's app, on its manual clock, moved in steps as large as a test likes:
 * at each step every agent posts a heartbeat through the API, ingest flushes, the leader evaluates,
 * the outbox runs the uptime handler (and, with `incidents`, the incident handler) to the end, and
 * uptime housekeeping closes the hours. Ingest counts a silence longer than `gapMs` as the engine
 * being blind, so steps must be shorter than that unless a test wants such a gap.
 */
export function runningEngine(h: Harness, o: { gapMs: number; incidents?: boolean }) {
  const leadership = new Leadership(() => createSql(h.db.url, { dedicated: true, applicationName: 'lifeline-test-evaluator' }), testLog);
  const evaluator = new Evaluator({ leadership, clock: h.clock, log: testLog, intervalMs: 1000, coverageGapMs: o.gapMs, reader: h.sql });
  const flusher = new IngestFlusher({ sql: h.sql, buffer: h.buffer, clock: h.clock, log: testLog, gapMs: o.gapMs });
  // The reason handler must be registered even without incidents (it then writes nothing): the
  // outbox delivers a node's events in order (keyed by node), so a `node.reason_changed` that no
  // handler claims holds back every later event of that node, its transitions included, for good.
  const registry = new HandlerRegistry().on('node.state_changed', 'uptime', uptimeHandler(RETENTION)).on('node.reason_changed', 'incidents', reasonHandler());
  if (o.incidents) {
    // Incidents only: no notifications run here, so the pages of what opens go nowhere.
    const incidents = nodeEventsHandler(async () => {}, { emailConfigured: false });
    registry.on('node.state_changed', 'incidents', incidents).on('node.deleted', 'incidents', incidents);
  }
  const dispatcher = new OutboxDispatcher({ sql: h.sql, registry, clock: h.clock, log: testLog, maxAttempts: 3 });
  const upkeep = new UptimeHousekeeping({ sql: h.sql, clock: h.clock, retention: RETENTION });
  /** Node tokens of the agents that report at every step, and what they report; a node missing here is silent. */
  const agents = new Map<string, { token: string; status: AgentStatus }>();

  /** Runs the outbox until nothing is left. */
  const drain = async () => {
    while ((await dispatcher.runOnce()) > 0);
  };

  /** One moment of a running engine: agents report, ingest flushes, the evaluator ticks, the outbox drains, upkeep runs. */
  async function step() {
    for (const a of agents.values()) {
      const res = await h.req('POST', '/v1/heartbeats', { token: a.token, json: { status: a.status } });
      assert.equal(res.status, 202, await res.text());
    }
    await flusher.runOnce();
    await evaluator.runOnce();
    await drain();
    await upkeep.runOnce();
  }

  return {
    agents,
    flusher,
    evaluator,
    upkeep,
    drain,
    step,
    /** Lives until `t` in steps of `stepMs`, a step at each stop, the last exactly at `t`. */
    async liveUntil(t: string | number, stepMs: number) {
      const end = new Date(t).getTime();
      while (h.clock.now().getTime() < end) {
        h.clock.set(new Date(Math.min(end, h.clock.now().getTime() + stepMs)));
        await step();
      }
    },
    async close() {
      await leadership.release().catch(() => {});
      await leadership.close();
    },
  };
}
