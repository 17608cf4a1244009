import type { Sql } from '../db/client.ts';
import { getIncidents } from '../incidents/store.ts';
import { incidentView } from '../incidents/view.ts';
import type { Logger } from '../logger.ts';
import { LIVE_CHANNEL, parseNotice, type EventType, type LiveEvent, type Notice } from './model.ts';
import { readReasons, readTransitions } from './store.ts';

export interface Subscriber {
  types: ReadonlySet<EventType>;
  /** Events in commit order (per node, transitions in version order); must not block. */
  deliver(events: LiveEvent[]): void;
  /** The feed is closing: end the stream. */
  end(): void;
}

/**
 * The api process's end of the live feed. Writers in any process NOTIFY ids when they commit a
 * transition, a node's new reason or an incident change (src/live/model.ts); this LISTENs, reads the rows those ids name
 * once per burst, whatever the number of subscribers, and hands each subscriber the events of the
 * types it asked for. Nothing is read while nobody listens. There is no replay: a subscriber that
 * reconnects re-reads what it shows (the console does so on every connection).
 */
export class LiveFeed {
  private readonly subscribers = new Set<Subscriber>();
  private pending: Notice[] = [];
  private draining = false;
  private closed = false;
  /** A notice this version cannot read (a later release's) is warned of once, not at every one. */
  private warnedUnread = false;

  constructor(
    private readonly sql: Sql,
    private readonly log: Logger,
  ) {}

  /** Starts listening; returns the way to stop, which also ends every subscriber's stream. */
  async listen(): Promise<() => Promise<void>> {
    const listener = await this.sql.listen(LIVE_CHANNEL, (payload) => this.hear(payload));
    return async () => {
      this.close();
      await listener.unlisten();
    };
  }

  /** A stream opened after close() ends at once: its client reconnects, to another replica. */
  subscribe(s: Subscriber): () => void {
    if (this.closed) {
      s.end();
      return () => {};
    }
    this.subscribers.add(s);
    return () => void this.subscribers.delete(s);
  }

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Ends every stream, and every one opened from now on: a stopping server must not wait for
   * clients that never hang up, nor keep a drain open for them.
   */
  close(): void {
    this.closed = true;
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
  }

  private hear(payload: string): void {
    if (this.subscribers.size === 0) return;
    const notice = parseNotice(payload);
    if (!notice) {
      if (!this.warnedUnread) this.log.warn({ channel: LIVE_CHANNEL }, 'ignoring live notices this version cannot read (a later release sends them; upgrade this process)');
      this.warnedUnread = true;
      return;
    }
    this.pending.push(notice);
    if (this.draining) return;
    this.draining = true;
    void this.drain();
  }

  /** Reads and hands out everything heard, burst by burst, until nothing is left. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const notices = this.pending;
        this.pending = [];
        try {
          this.publish(await this.read(notices));
        } catch (err) {
          // Subscribers miss these events; the console re-reads its pages on its own schedule too.
          this.log.warn({ err }, 'the live feed could not read what changed');
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async read(notices: Notice[]): Promise<LiveEvent[]> {
    const changes = notices.flatMap((n) => (n.kind === 'nodes' ? n.changes : []));
    const renamed = notices.flatMap((n) => (n.kind === 'reasons' ? n.changes : []));
    const ids = [...new Set(notices.flatMap((n) => (n.kind === 'incidents' ? n.ids : [])))];
    const [transitions, reasons, incidents] = await Promise.all([readTransitions(this.sql, changes), readReasons(this.sql, renamed), getIncidents(this.sql, ids)]);
    // A node's new reason after its transitions: the evaluator writes it after them, at their version.
    return [
      ...transitions.map((data): LiveEvent => ({ type: 'node.state_changed', data })),
      ...reasons.map((data): LiveEvent => ({ type: 'node.reason_changed', data })),
      ...ids.flatMap((id): LiveEvent[] => {
        const row = incidents.get(id);
        return row ? [{ type: 'incident.changed', data: incidentView(row) }] : [];
      }),
    ];
  }

  private publish(events: LiveEvent[]): void {
    if (events.length === 0) return;
    for (const s of this.subscribers) {
      const mine = events.filter((e) => s.types.has(e.type));
      if (mine.length > 0) s.deliver(mine);
    }
  }
}
