import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

/**
 * Ports are drawn from 20000–32767: below every default ephemeral range (Linux 32768–60999,
 * macOS and Windows 49152–65535), so the OS never lends the kept port to an outgoing connection
 * and a restart finds it free; above the ports well-known services ship with.
 */
const LOW = 20_000;
const HIGH = 32_768;
const ATTEMPTS = 50;

/** Whether nothing listens on 127.0.0.1:`port` (a port in TIME_WAIT counts as free, as it does for Postgres). */
export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `kept` when it is still free, else a free port from the range. */
export async function choosePort(kept: number | undefined): Promise<number> {
  if (kept !== undefined && (await isFree(kept))) return kept;
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = randomInt(LOW, HIGH);
    if (port !== kept && (await isFree(port))) return port;
  }
  throw new Error(`no free port on 127.0.0.1 among ${ATTEMPTS} tried in ${LOW}–${HIGH - 1}`);
}
