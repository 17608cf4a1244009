// The HTTP side of a graceful stop: from SIGTERM the process says it is not ready and asks every
// client to leave after its answer, while it keeps serving, so a balancer moves its traffic to
// another replica before the port closes (ARCHITECTURE.md, "Draining before the port closes").
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { probeOf } from './probes.ts';

/** How a drain ended: no connection open for QUIET_MS, or its window ran out with some still open. */
export type DrainEnd = { by: 'quiet' } | { by: 'window'; open: number };

/**
 * How long a drain waits with no connection open before it ends early. A client told to leave
 * reconnects within milliseconds (30 beating back to back left the process with no connection
 * at some instant within 0.2 s), so a momentary zero means nothing; a balancer still routing here
 * at 10 requests a second over fresh connections leaves a 1 s gap once in e^10 (~22,000) seconds.
 * A quiet `npm start` stops 1 s after its last client left.
 *
 * The early end waits for a balancer that reads /readyz: once /readyz was asked since the process
 * started, only after a /readyz 503 has been answered in the drain. A lightly used api otherwise
 * closed its port 1-2 s after SIGTERM, before a readiness probe every 10 s (or HAProxy's checks)
 * saw the 503, and clients behind a Kubernetes Service were refused. A /readyz read longer than
 * PROBE_GONE_MS before the drain began is no balancer's probe (a person's curl after start): then
 * a quiet `npm start` stops 1 s after its last client left, not at the end of the window.
 */
export const QUIET_MS = 1_000;

/**
 * How long after its last /readyz read a reader counts as a probe still polling: three times
 * Kubernetes' default period (10 s) and fifteen times HAProxy's default check interval (2 s).
 */
export const PROBE_GONE_MS = 30_000;

export class HttpDrain {
  private started = false;
  private open = 0;
  /** When /readyz was last read before the drain (ms since the epoch): a probe polling it must see the drain's 503. */
  private probedAt: number | undefined;
  /** Whether a /readyz 503 was answered since the drain began. */
  private probeTold = false;
  /**
   * Answers under way, by connection: told `Connection: close` when the drain begins. Each leaves
   * when it closes, and all of a connection's when that closes: node:http gives a response its
   * socket only once the answers before it on the connection are sent, so the answers queued
   * behind another on a pipelining connection never close once their client left. Not the
   * request's close, as StartGate has: a request that was read closes at its body's end, before
   * its answer is given.
   */
  private readonly answering = new Map<Socket, Set<ServerResponse>>();
  /** While a drain waits: told when the last connection closes, when a new one opens, and when a probe saw the 503. */
  private watch: { emptied(): void; entered(): void } | undefined;

  /** Whether the drain began: /readyz answers 503 and every answer carries `Connection: close`. */
  get draining(): boolean {
    return this.started;
  }

  /** Whether the drain may end before its window: nobody polls /readyz, or it has answered one 503. */
  private get mayEndEarly(): boolean {
    return this.probedAt === undefined || Date.now() - this.probedAt > PROBE_GONE_MS || this.probeTold;
  }

  /**
   * `listener`, with every answer given once the drain began saying `Connection: close`: node:http
   * then closes the connection after that answer, and a keep-alive client opens its next one where
   * its balancer sends it, instead of finding this one reset when the port closes. An answer
   * already under way when the drain begins is told so too (begin).
   */
  wrap(listener: (incoming: IncomingMessage, outgoing: ServerResponse) => void): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
    return (incoming, outgoing) => {
      if (this.started) outgoing.setHeader('connection', 'close');
      else this.underWay(incoming.socket, outgoing);
      if (probeOf(incoming.url) === 'readyz') {
        if (!this.started) this.probedAt = Date.now();
        outgoing.once('finish', () => {
          if (!this.started || outgoing.statusCode !== 503 || this.probeTold) return;
          this.probeTold = true;
          if (this.open === 0) this.watch?.emptied();
        });
      }
      listener(incoming, outgoing);
    };
  }

  private underWay(socket: Socket, outgoing: ServerResponse): void {
    const answers = this.answering.get(socket) ?? new Set<ServerResponse>();
    if (!this.answering.has(socket)) {
      this.answering.set(socket, answers);
      socket.once('close', () => this.answering.delete(socket));
    }
    answers.add(outgoing);
    outgoing.once('close', () => answers.delete(outgoing));
  }

  /** Counts `server`'s open connections, from before it listens. */
  track(server: Server): void {
    server.on('connection', (socket) => {
      if (this.open++ === 0) this.watch?.entered();
      socket.once('close', () => {
        if (--this.open === 0) this.watch?.emptied();
      });
    });
  }

  /**
   * Begins the drain, and settles once no connection has been open for `quietMs` (and a /readyz
   * reader, if any, was answered 503), or after `windowMs`, whichever comes first (at once with a
   * window of 0). The port stays open meanwhile: a client its balancer has not yet moved still
   * connects, and is answered.
   */
  begin(windowMs: number, quietMs = QUIET_MS): Promise<DrainEnd> {
    this.started = true;
    for (const outgoing of [...this.answering.values()].flatMap((answers) => [...answers])) {
      outgoing.shouldKeepAlive = false;
      if (!outgoing.headersSent) outgoing.setHeader('connection', 'close');
    }
    this.answering.clear();
    if (windowMs <= 0) return Promise.resolve(this.open === 0 ? { by: 'quiet' } : { by: 'window', open: this.open });
    return new Promise((resolve) => {
      let quiet: NodeJS.Timeout | undefined;
      const end = (how: DrainEnd) => {
        clearTimeout(window);
        clearTimeout(quiet);
        this.watch = undefined;
        resolve(how);
      };
      const window = setTimeout(() => end({ by: 'window', open: this.open }), windowMs);
      const emptied = () => {
        clearTimeout(quiet);
        if (this.mayEndEarly) quiet = setTimeout(() => end({ by: 'quiet' }), quietMs);
      };
      this.watch = { emptied, entered: () => clearTimeout(quiet) };
      if (this.open === 0) emptied();
    });
  }
}
