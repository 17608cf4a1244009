import { createServer, connect, type Server, type Socket } from 'node:net';
import { BASE_URL } from './db.ts';

/**
 * A TCP proxy to the test Postgres that a test can cut (every connection, and the listener,
 * closed: Postgres refuses) or pause (connections stay open and nothing passes either way:
 * Postgres hangs, as behind a lost route or a stuck lock).
 */
export async function postgresProxy() {
  const target = new URL(BASE_URL);
  const sockets = new Set<Socket>();
  let paused = false;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    if (!paused) client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    /** Postgres refuses: every connection and the listener closed (also the end of a test). */
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
