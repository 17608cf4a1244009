import type { ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../src/config.ts';

/**
 * Why the address could not be listened on, as the variable to fix: a port in use or not allowed
 * is PORT's; an address this host does not have or a name that does not resolve is HOST's (it
 * surfaced as getaddrinfo's own stack trace, naming neither).
 */
export function listenProblem(err: NodeJS.ErrnoException, host: string, port: number): ConfigError {
  const where = `${host}:${port}`;
  if (err.code === 'EADDRINUSE') return new ConfigError('PORT', `${where} is in use by another process`);
  if (err.code === 'EACCES') return new ConfigError('PORT', `${where} may not be listened on by this user (a port below 1024?)`);
  return new ConfigError('HOST', `cannot listen on ${where}: ${err.code ?? err.message} (not an address of this host, or a name that does not resolve)`);
}

/** The port `server` listens on once it does; rejects naming the variable to fix if it cannot. */
export function listen(server: ServerType, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(listenProblem(err, host, port)));
    if (server.listening) resolve((server.address() as AddressInfo).port);
    else server.once('listening', () => resolve((server.address() as AddressInfo).port));
  });
}
