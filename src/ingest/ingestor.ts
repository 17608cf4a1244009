import type { IdentityCache } from '../access/identity-cache.ts';
import type { Principal } from '../access/model.ts';

type KeyPrincipal = Extract<Principal, { kind: 'key' }>;
import { actorOf, type Acting } from '../audit/model.ts';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import type { Checks, HeartbeatStatus } from '../health/decide.ts';
import { UNADDRESSABLE_NAME, unaddressableName } from '../nodes/model.ts';
import { registerNodes } from '../nodes/service.ts';
import { Refusal, validationFailed } from '../errors.ts';
import type { PingKind } from '../jobs/model.ts';
import type { HeartbeatBuffer } from './buffer.ts';
import { PingKeys } from './ping-keys.ts';

export interface IncomingHeartbeat {
  node?: string | undefined;
  status: HeartbeatStatus;
  checks?: Checks | undefined;
  seq?: number | undefined;
  /** The sender's interval: a node this heartbeat registers gets it. */
  interval_seconds?: number | undefined;
}

/** Decides whether an ingest key may register this many nodes now; throws to refuse. */
export type Admit = (keyId: string, count: number) => void;

/** A name in a batch that was not registered (its heartbeats were not stored), and why. */
export interface RefusedNode {
  node: string;
  message: string;
}

/** What a request's heartbeats came to: `accepted` counts the `stale` ones, not the refused ones. */
export interface Intake {
  accepted: number;
  stale: number;
  refused: RefusedNode[];
  /** Refused heartbeats of new names past the key's registration budget (the rest named no node). */
  overLimit: number;
}

/**
 * Turns authenticated heartbeat requests into buffered, coalesced heartbeats. Every check that can
 * reject a request (ownership, unknown nodes) runs before anything is buffered, so a rejected
 * request leaves no trace. Name → id lookups go through the identity cache, so a fleet posting by
 * name costs no query per request.
 */
export class Ingestor {
  private readonly pingKeys: PingKeys;

  constructor(
    private readonly sql: Sql,
    private readonly buffer: HeartbeatBuffer,
    private readonly identity: IdentityCache,
    private readonly autoRegister: boolean,
  ) {
    this.pingKeys = new PingKeys(sql);
  }

  /**
   * A scheduled job's ping, buffered like a heartbeat: false when no node has the key. A success or
   * a failure is also a heartbeat (ok or failing) of the node, which is what its state is judged
   * on; every ping goes to planRuns (a plain success makes no run row). `output` is read only once the key is known: reading
   * up to 8 MiB costs far more than the lookup (cached, known or not), and a stranger guessing keys
   * must not get it for free. The receive time is read after both, for the same reason as in
   * accept().
   */
  async ping(key: string, kind: PingKind, exitCode: number | null, rid: string | null, output: () => Promise<string | null>, clock: Clock): Promise<boolean> {
    const nodeId = await this.pingKeys.nodeId(key);
    if (nodeId === null) return false;
    const text = await output();
    const at = clock.now();
    if (kind === 'success' || kind === 'failure') {
      this.buffer.add({ nodeId, at, status: kind === 'success' ? 'ok' : 'failing', checks: null, seq: null });
    }
    this.buffer.addPing({ nodeId, at, kind, exitCode, output: text, rid });
    return true;
  }

  /** Whether flushes reach Postgres (PostgresReach): while they do not, heartbeats and pings are refused (HeartbeatBuffer.writable). */
  get writable(): boolean {
    return this.buffer.writable;
  }

  /** A ping key that no longer names its node (moved, rotated, or the node deleted), or that now names one. */
  forgetPingKey(key: string): void {
    this.pingKeys.forget(key);
  }

  /** A deleted node: its ping key, and the failure kept for its recovery (HeartbeatBuffer.forget). */
  forgetNode(nodeId: string, pingKey: string): void {
    this.forgetPingKey(pingKey);
    this.buffer.forget(nodeId);
  }

  /** Forgets ping keys as they change in any process (PingKeys.listen); returns the way to stop. */
  listen(): Promise<() => Promise<void>> {
    return this.pingKeys.listen();
  }

  /**
   * `batch` says whether the request used the batch form (so errors name `heartbeats.<i>.…`).
   * The receive time is read after any lookup and buffered in the same synchronous step: a flush
   * running during the lookup has already advanced the watermark, so an earlier stamp would land
   * behind it and a deadline the heartbeat met could be judged missed. `admit` is asked before an
   * ingest key registers nodes (it throws to refuse them all). A refusal costs only the names it
   * refuses (names of no node that the key may not register, new names past its budget): the
   * heartbeats of nodes that exist are buffered and the refused names are returned, so a bridge
   * whose batches still carry a deleted node, or one new name too many, does not take its fleet
   * down with it. When every heartbeat names a refused node nothing would be stored, and the
   * request is refused: 404 when a name is unknown, else the budget's refusal.
   */
  async accept(
    principal: Principal,
    heartbeats: IncomingHeartbeat[],
    batch: boolean,
    clock: Clock,
    /** The request's X-Request-Id, for the audit rows of the nodes it registers. */
    requestId: string,
    admit: Admit = () => {},
  ): Promise<Intake> {
    // A node token's heartbeats are its own node's: no lookup, no await (one promise and one
    // microtask fewer on every agent's heartbeat, and no array of the same id).
    const own = principal.kind === 'node' ? ownNode(principal, heartbeats) : undefined;
    const resolved = principal.kind === 'key' ? await this.resolve(principal, heartbeats, batch, clock.now(), requestId, admit) : undefined;
    const now = clock.now();
    let stale = 0;
    let accepted = 0;
    let overLimit = 0;
    for (let i = 0; i < heartbeats.length; i++) {
      const hb = heartbeats[i]!;
      const nodeId = own ?? resolved!.ids[i];
      if (nodeId === undefined) {
        if (resolved!.overBudget.has(hb.node!)) overLimit += 1;
        continue;
      }
      accepted += 1;
      const fresh = this.buffer.add({ nodeId, at: now, status: hb.status, checks: hb.checks ?? null, seq: hb.seq ?? null });
      if (!fresh) stale += 1;
    }
    return { accepted, stale, refused: resolved?.refused ?? [], overLimit };
  }

  /** Each heartbeat's node id (undefined for a refused name or id), those refusals, and the names refused past the budget. */
  private async resolve(
    principal: KeyPrincipal,
    heartbeats: IncomingHeartbeat[],
    batch: boolean,
    now: Date,
    requestId: string,
    admit: Admit,
  ): Promise<{ ids: (string | undefined)[]; refused: RefusedNode[]; overBudget: ReadonlySet<string> }> {
    const missing = heartbeats.flatMap((hb, i) =>
      hb.node === undefined ? [{ field: batch ? `heartbeats.${i}.node` : 'node', message: 'is required with an API key' }] : [],
    );
    if (missing.length) throw validationFailed(missing);
    const wanted = [...new Set(heartbeats.map((hb) => hb.node!))];
    // Names of no node that this key may not register, and new names past its budget.
    const absent: string[] = [];
    const overBudget: { names: string[]; err?: Error } = { names: [] };
    const known = await this.identity.nodeIds(wanted, async (unknown) => {
      // An unknown UUID is a wrong id far more often than a name someone chose: never registered.
      const registers = this.autoRegister && principal.scope === 'ingest';
      const names: string[] = [];
      for (const ref of unknown) (registers && !isUuid(ref) && !unaddressableName(ref) ? names : absent).push(ref);
      if (names.length === 0) return [];
      try {
        admit(principal.keyId, names.length);
      } catch (err) {
        overBudget.names = names;
        overBudget.err = err as Error;
        return [];
      }
      // A name sent twice in one batch registers with its first heartbeat's interval.
      const intervals = new Map<string, number | undefined>();
      for (const hb of heartbeats) if (!intervals.has(hb.node!)) intervals.set(hb.node!, hb.interval_seconds);
      const acting: Acting = { actor: actorOf(principal), via: 'api', requestId };
      return registerNodes(this.sql, names.map((name) => ({ name, heartbeat_interval_seconds: intervals.get(name) })), now, acting);
    });
    const ids = heartbeats.map((hb) => known.get(hb.node!));
    if (absent.length === 0 && !overBudget.err) return { ids, refused: [], overBudget: new Set() };
    if (ids.every((id) => id === undefined)) {
      // Nothing would be stored: the request is refused, by the 404 naming unknown nodes before the budget's 429.
      if (absent.length === 0) throw overBudget.err;
      throw new Refusal('not_found', `Unknown node${absent.length > 1 ? 's' : ''}: ${absent.slice(0, 10).join(', ')}.`);
    }
    const refused = absent.map((node) => ({ node, message: this.absence(node) }));
    for (const node of overBudget.names) refused.push({ node, message: overBudget.err!.message });
    return { ids, refused, overBudget: new Set(overBudget.names) };
  }

  /** Why a name of a batch stored none of its heartbeats, when no node has it and it was not registered. */
  private absence(ref: string): string {
    if (isUuid(ref)) return 'No node has this id.';
    if (unaddressableName(ref)) return `No node has this name, and a new one's name ${UNADDRESSABLE_NAME}.`;
    if (!this.autoRegister) return 'No node has this name, and auto-registration is off (LIFELINE_AUTO_REGISTER).';
    return 'No node has this name, and only an ingest key registers nodes.';
  }
}

/** The node a node token's heartbeats are for; 403 when one of them names another node. */
function ownNode(principal: Extract<Principal, { kind: 'node' }>, heartbeats: IncomingHeartbeat[]): string {
  for (let i = 0; i < heartbeats.length; i++) {
    const named = heartbeats[i]!.node;
    if (named !== undefined && named !== principal.nodeName && named !== principal.nodeId) {
      throw new Refusal('forbidden', `A node token may only post heartbeats for its own node (item ${i} names "${named}").`);
    }
  }
  return principal.nodeId;
}
