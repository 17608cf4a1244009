import type { ServerType } from '@hono/node-server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { ConfigError } from '../src/config.ts';

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
 * `listener` for a server that listens before its process is ready to answer: a request that
 * comes before `open()` waits for it. At `drop()` (the start failed) the waiting ones, and any that
 * come after, are answered 503 and their connections closed: held again, they kept the process's
 * connections (and the embedded Postgres's stop) waiting for ever. Once open, requests go
 * straight through.
 */
export function heldUntilOpen(listener: Listener): { listener: Listener; open: () => void; drop: () => void } {
  let state: 'held' | 'open' | 'dropped' = 'held';
  let held: Array<[IncomingMessage, ServerResponse]> = [];
  const refuse = (outgoing: ServerResponse) => {
    outgoing.shouldKeepAlive = false;
    outgoing.writeHead(503, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error: { code: 'unavailable', message: 'This process did not start; nothing was stored. Send it to another process.' } }));
  };
  return {
    listener: (incoming, outgoing) => {
      if (state === 'open') listener(incoming, outgoing);
      else if (state === 'dropped') refuse(outgoing);
      else held.push([incoming, outgoing]);
    },
    open: () => {
      const waiting = held;
      held = [];
      state = 'open';
      for (const [incoming, outgoing] of waiting) listener(incoming, outgoing);
    },
    drop: () => {
      const waiting = held;
      held = [];
      state = 'dropped';
      for (const [, outgoing] of waiting) refuse(outgoing);
    },
  };
}
