import type { ServerType } from '@hono/node-server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { ConfigError } from '../src/config.ts';
import { errorBody } from '../src/http/errors.ts';
import { probeOf } from '../src/http/probes.ts';

/** Codes that name an address this host does not have, or a name that does not resolve to one it can use. */
const HOST_CODES = new Set(['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_NONAME', 'EAI_AGAIN', 'EAFNOSUPPORT']);

/**
 * Why the address could not be listened on, as the variable to fix: a port in use or not allowed
 * is PORT's; an address this host does not have or a name that does not resolve is HOST's (it
 * surfaced as getaddrinfo's own stack trace, naming neither). Anything else (EMFILE, ENOMEM,
 * EPERM, ...) is no setting's fault: it is returned as it came, so the fatal log keeps its stack.
 */
export function listenProblem(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  if (err.code === 'EADDRINUSE') return new ConfigError('PORT', `${where} is in use by another process`);
  if (err.code === 'EACCES') return new ConfigError('PORT', `${where} may not be listened on by this user (a port below 1024?)`);
  if (err.code !== undefined && HOST_CODES.has(err.code)) {
    return new ConfigError('HOST', `cannot listen on ${where}: ${err.code} (not an address of this host, or a name that does not resolve)`);
  }
  return err;
}

/** The port `server` listens on once it does; rejects with listenProblem's error if it cannot. */
export function listen(server: ServerType, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(listenProblem(err, host, port)));
    if (server.listening) resolve((server.address() as AddressInfo).port);
    else server.once('listening', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Addresses that take connections on every interface, loopback included: `localhost` reaches them. */
const EVERY_INTERFACE = new Set(['0.0.0.0', '::']);

/**
 * Where a person opens the console of an engine listening on `host`:`port`: LIFELINE_PUBLIC_URL
 * when set (the address people reach it by), else this machine's own address for it. The default
 * HOST, 0.0.0.0, has no address to open, so it is named `localhost`; any other HOST (127.0.0.1,
 * a LAN address, a name) is the only address that answers, so it is named as given.
 */
export function consoleUrl(publicUrl: string | undefined, host: string, port: number): string {
  if (publicUrl) return `${publicUrl}/`;
  const name = EVERY_INTERFACE.has(host) ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  return `http://${name}:${port}/`;
}

/**
 * Where the CLI reaches an engine listening on `host`:`port` (`--url`, LIFELINE_URL): as
 * consoleUrl, but an every-interface HOST is reached at 127.0.0.1, the address of the CLI's own
 * default (DEFAULT_URL), so the default PORT and HOST need no URL at all.
 */
export function cliUrl(publicUrl: string | undefined, host: string, port: number): string {
  return publicUrl ?? consoleUrl(undefined, EVERY_INTERFACE.has(host) ? '127.0.0.1' : host, port).replace(/\/$/, '');
}

type Listener = (incoming: IncomingMessage, outgoing: ServerResponse) => void;

/**
 * Seconds a request the gate refuses is asked to wait: a start waiting on another start's lock
 * completes within moments of it, a process whose start failed is restarted by its supervisor
 * within a few, and an agent beating every few seconds retries about as often anyway.
 */
export const START_RETRY_AFTER_S = 5;

/** Whether `incoming` reads a probe: GET or HEAD of /healthz, /readyz or /metrics, answered while a start waits (see StartGate). */
function isProbe(incoming: IncomingMessage): boolean {
  return (incoming.method === 'GET' || incoming.method === 'HEAD') && probeOf(incoming.url) !== undefined;
}

const DID_NOT_START = 'This process did not start; nothing was stored. Send it to another process, or try again after Retry-After seconds.';
const HOLD_FULL = 'This process is starting and holds as many requests as it may until it has; nothing was stored. Try again after Retry-After seconds.';

/** Answers 503 in the API's error shape with Retry-After, closing the connection after it. */
function unavailable(outgoing: ServerResponse, message: string): void {
  outgoing.shouldKeepAlive = false;
  outgoing
    .writeHead(503, { 'content-type': 'application/json', connection: 'close', 'retry-after': String(START_RETRY_AFTER_S) })
    .end(JSON.stringify(errorBody('unavailable', message)));
}

/**
 * The gate of a server that listens before its process is ready to answer: a request that comes
 * before `open()` waits for it, up to `max` of them (a request whose client leaves meanwhile no
 * longer counts, and is never answered); past them, requests are answered 503 with Retry-After,
 * nothing stored. The probes go through at once (the app's /readyz answers 503 `starting` while
 * `starting` holds): a probe with a 1-5 s timeout saw a start waiting on a lock as a process that
 * does not answer. At `drop()` (the start failed) the waiting ones, and any that come after, are
 * answered 503 and their connections closed: held again, they kept the process's connections (and
 * the embedded Postgres's stop) waiting for ever. Once open, requests go straight through.
 */
export class StartGate {
  private state: 'held' | 'open' | 'dropped' = 'held';
  /** The requests waiting for the start, in the order they came, each with what answers it. */
  private held = new Map<IncomingMessage, { outgoing: ServerResponse; answer: () => void }>();
  private toldFull = false;

  /** `full` is told the first time a request is refused because `max` are held. */
  constructor(private readonly o: { max: number; full?: (max: number) => void }) {}

  /** Whether the start is still under way: requests other than the probes wait. */
  get starting(): boolean {
    return this.state === 'held';
  }

  wrap(listener: Listener): Listener {
    return (incoming, outgoing) => {
      if (this.state === 'open' || (this.state === 'held' && isProbe(incoming))) listener(incoming, outgoing);
      else if (this.state === 'dropped') unavailable(outgoing, DID_NOT_START);
      else if (this.held.size >= this.o.max) {
        if (!this.toldFull) this.o.full?.(this.o.max);
        this.toldFull = true;
        unavailable(outgoing, HOLD_FULL);
      } else {
        this.held.set(incoming, { outgoing, answer: () => listener(incoming, outgoing) });
        // The request's own close, not its response's: node:http gives a response its socket only
        // once the answers before it on the connection are sent, so the response of the second
        // and later requests pipelined on one connection never closes when its client leaves
        // (one connection's 2,000 pipelined requests kept every place taken after it closed).
        // node:http destroys every request still unanswered when its connection closes, and a
        // held one is never read, so it does not end, and close, by itself.
        incoming.once('close', () => this.held.delete(incoming));
      }
    };
  }

  open(): void {
    this.state = 'open';
    for (const { answer } of this.release()) answer();
  }

  drop(): void {
    this.state = 'dropped';
    for (const { outgoing } of this.release()) unavailable(outgoing, DID_NOT_START);
  }

  /**
   * The held requests whose clients are still there, none held any more. A request's close is
   * told a tick after it is destroyed: one destroyed meanwhile is left out, never answered.
   */
  private release(): { outgoing: ServerResponse; answer: () => void }[] {
    const held = [...this.held].filter(([incoming]) => !incoming.destroyed).map(([, h]) => h);
    this.held = new Map();
    return held;
  }
}
