import type { IdentityCache } from '../access/identity-cache.ts';
import type { Principal } from '../access/model.ts';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import type { Checks, HeartbeatStatus } from '../health/decide.ts';
import { registerNodes } from '../nodes/service.ts';
import { Refusal, validationFailed } from '../errors.ts';
import type { HeartbeatBuffer } from './buffer.ts';

export interface IncomingHeartbeat {
  node?: string | undefined;
  status: HeartbeatStatus;
  checks?: Checks | undefined;
  seq?: number | undefined;
  /** The sender's interval: a node this heartbeat registers gets it. */
  interval_seconds?: number | undefined;
}

/**
 * Turns authenticated heartbeat requests into buffered, coalesced heartbeats. Every check that can
 * reject a request (ownership, unknown nodes) runs before anything is buffered, so a rejected
 * request leaves no trace. Name → id lookups go through the identity cache, so a fleet posting by
 * name costs no query per request.
 */
export class Ingestor {
  constructor(
    private readonly sql: Sql,
    private readonly buffer: HeartbeatBuffer,
    private readonly identity: IdentityCache,
    private readonly autoRegister: boolean,
  ) {}

  /**
   * `batch` says whether the request used the batch form (so errors name `heartbeats.<i>.…`).
   * The receive time is read after any lookup and buffered in the same synchronous step: a flush
   * running during the lookup has already advanced the watermark, so an earlier stamp would land
   * behind it and a deadline the heartbeat met could be judged missed.
   */
  async accept(
    principal: Principal,
    heartbeats: IncomingHeartbeat[],
    batch: boolean,
    clock: Clock,
  ): Promise<{ accepted: number; stale: number }> {
    const ids = await this.resolve(principal, heartbeats, batch, clock.now());
    const now = clock.now();
    let stale = 0;
    heartbeats.forEach((hb, i) => {
      const fresh = this.buffer.add({
        nodeId: ids[i]!,
        at: now,
        status: hb.status,
        checks: hb.checks ?? null,
        seq: hb.seq ?? null,
      });
      if (!fresh) stale += 1;
    });
    return { accepted: heartbeats.length, stale };
  }

  private async resolve(principal: Principal, heartbeats: IncomingHeartbeat[], batch: boolean, now: Date): Promise<string[]> {
    if (principal.kind === 'node') {
      for (const [i, hb] of heartbeats.entries()) {
        if (hb.node !== undefined && hb.node !== principal.nodeName && hb.node !== principal.nodeId) {
          throw new Refusal('forbidden', `A node token may only post heartbeats for its own node (item ${i} names "${hb.node}").`);
        }
      }
      return heartbeats.map(() => principal.nodeId);
    }
    const missing = heartbeats.flatMap((hb, i) =>
      hb.node === undefined ? [{ field: batch ? `heartbeats.${i}.node` : 'node', message: 'is required with an API key' }] : [],
    );
    if (missing.length) throw validationFailed(missing);
    const wanted = [...new Set(heartbeats.map((hb) => hb.node!))];
    const known = await this.identity.nodeIds(wanted, async (unknown) => {
      // An unknown UUID is a wrong id far more often than a name someone chose.
      if (!this.autoRegister || principal.scope !== 'ingest' || unknown.some(isUuid)) {
        throw new Refusal('not_found', `Unknown node${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 10).join(', ')}.`);
      }
      // A name sent twice in one batch registers with its first heartbeat's interval.
      const intervals = new Map<string, number | undefined>();
      for (const hb of heartbeats) if (!intervals.has(hb.node!)) intervals.set(hb.node!, hb.interval_seconds);
      return registerNodes(this.sql, unknown.map((name) => ({ name, heartbeat_interval_seconds: intervals.get(name) })), now);
    });
    return heartbeats.map((hb) => known.get(hb.node!)!);
  }
}
