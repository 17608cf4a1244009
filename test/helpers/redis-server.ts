import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { until } from './wait.ts';

/** A loopback port nothing listens on now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** The pid of the Redis answering on `port`, or undefined if none answers (yet). */
async function serverPid(port: number): Promise<number | undefined> {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    return Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/**
 * Starts redis-server on `port` and resolves once it answers there, or with undefined if it exited
 * first (the port was taken). Answering is checked by pid: a free port can be taken between
 * choosing it and binding it, by another run of the suite on this machine, whose server must not
 * be mistaken for ours.
 */
async function launch(port: number): Promise<ChildProcess | undefined> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let exited = false;
  void once(child, 'exit').then(() => (exited = true));
  const up = await until(`redis-server on port ${port}`, async () => (exited ? 'exited' : (await serverPid(port)) === child.pid ? 'up' : undefined));
  return up === 'up' ? child : undefined;
}

/**
 * A private Redis for one test file, so a test may stop it (an outage) without touching the
 * shared instance other files use. Stop and start keep the same port, as a restarted server would.
 */
export async function startPrivateRedis() {
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    child = await launch(port);
  }
  if (!child) throw new Error('could not start a private redis-server on a free port');
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = await launch(port);
      if (!child) throw new Error(`could not restart the private redis-server: port ${port} was taken while it was down`);
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
