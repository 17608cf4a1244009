import { createServer, connect, type Server, type Socket } from 'node:net';
import { BASE_URL } from './db.ts';

/**
 * A TCP proxy to the test Postgres that a test can break: `cut()` closes every connection and the
 * listener (Postgres gone), `reopen()` listens again on the same port, and `resetting(true)` answers
 * whatever a client sends next, on a connection open or new, with a TCP reset (ECONNRESET on the
 * client's read), as a balancer or a NAT that dropped its state does; `pause()` lets nothing pass
 * either way from then on, with every connection left open (Postgres hangs, as behind a lost route).
 */
export async function postgresProxy() {
  const target = new URL(BASE_URL);
  const sockets = new Set<Socket>();
  let reset = false;
  let paused = false;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    if (paused) return;
    client.on('data', (chunk: Buffer) => {
      if (!reset) return void upstream.write(chunk);
      client.resetAndDestroy();
      upstream.destroy();
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    /** `url` (a test database's) through the proxy. */
    via(url: string): string {
      const u = new URL(url);
      u.port = String(port);
      return u.href;
    },
    resetting(on: boolean): void {
      reset = on;
    },
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
    /** Postgres back, on the same port. */
    async reopen() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      // Does not keep the test process alive once the engine is gone.
      server.unref();
    },
    /** Nothing passes from now on, on open connections and new ones alike; nothing is closed. */
    pause() {
      paused = true;
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
  };
}
