// What a request held for a start costs the process holding it (workers/listen.ts, StartGate):
// a child serves through a gate that never opens, and reports its memory, after a full GC, with
// none held and with N held heartbeats (each on its own connection, as a fleet's agents send them).
//
//   nice -n 19 node --import tsx test/bench/held-requests.ts [N=1024] [BODY_BYTES=64]
//
// BODY_BYTES is each request's body: a heartbeat is ~60 bytes; 1048576 is the largest body the API
// takes, which a held request leaves unread.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { StartGate } from '../../workers/listen.ts';
import { guardChild } from './child-guard.ts';

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  held: number;
}

if (process.argv[2] === 'serve') {
  guardChild(600);
  const gate = new StartGate({ max: Number.MAX_SAFE_INTEGER });
  let held = 0;
  const server = createServer(gate.wrap(() => {}));
  // Counted as they reach the gate: each is held, since the gate never opens.
  server.on('request', () => held++);
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('message', () => {
    globalThis.gc!();
    const m = process.memoryUsage();
    process.send!({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, held } satisfies Memory);
  });
} else {
  const n = Number(process.argv[2] ?? 1024);
  const bodyBytes = Number(process.argv[3] ?? 64);
  const child = fork(fileURLToPath(import.meta.url), ['serve'], { execArgv: ['--import', 'tsx', '--expose-gc'] });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  const measure = async (): Promise<Memory> => {
    child.send('measure');
    return ((await once(child, 'message')) as [Memory])[0];
  };
  const before = await measure();
  const body = 'x'.repeat(bodyBytes);
  const request = `POST /v1/heartbeats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer llk_${'0'.repeat(40)}\r\nContent-Type: application/json\r\nContent-Length: ${bodyBytes}\r\n\r\n${body}`;
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write(request);
    sockets.push(socket);
  }
  let during = await measure();
  while (during.held < n) during = await measure();
  const per = (k: keyof Memory) => Math.round((during[k] - before[k]) / n);
  console.log(
    JSON.stringify({
      held: n,
      body_bytes: bodyBytes,
      none_held_mb: { rss: +(before.rss / 2 ** 20).toFixed(1), heap_used: +(before.heapUsed / 2 ** 20).toFixed(1) },
      per_request_bytes: { rss: per('rss'), heap_used: per('heapUsed'), external: per('external') },
      total_mb: { rss: +((during.rss - before.rss) / 2 ** 20).toFixed(1), heap_used: +((during.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1) },
    }),
  );
  for (const s of sockets) s.destroy();
  child.kill();
}
