// A lean HTTP/1.1 client that sends GET requests at a fixed rate over keep-alive connections and
// reads the answers with just enough parsing to find where each ends, in a process of its own. It
// stands for a crowd of readers elsewhere: autocannon spends ~0.4 ms of CPU parsing each page
// answer, and in the benchmark's own process it would also share the event loop of the load
// generator it runs beside; either would take time from what is measured rather than from the
// readers' own machines.
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { spawnScript } from './children.ts';
import type { Scope } from './scope.ts';

export interface SteadyLoad {
  /** Base URL of the server (http only). */
  url: string;
  /** Requests per second, spread evenly. */
  rate: number;
  seconds: number;
  connections: number;
  /** Paths and headers cycled through in order. */
  requests: Array<{ path: string; headers: Record<string, string> }>;
}

export interface SteadyResult {
  /** Answers with a 2xx status per second of the run. */
  rps: number;
  ok: number;
  failed: number;
  /** Requests not sent because every connection was still waiting for an answer. */
  behind: number;
  /** Milliseconds from sending to the last byte. */
  latencies: number[];
  /** This client's own CPU time over the run (user + system), µs. */
  cpuMicros: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * One keep-alive connection with at most one request in flight. Each answer is read to its last
 * byte, but only its head is kept and parsed (status and Content-Length); the body is counted, not
 * copied: what a reader's own machine does with the page costs the engine nothing.
 */
class Connection {
  private readonly socket: Socket;
  /** The head read so far while its end is not yet in (rarely more than one chunk). */
  private head: Buffer | undefined;
  /** Body bytes still to come once the head is parsed, else -1. */
  private remaining = -1;
  private status = 0;
  private sentAt = 0;

  constructor(host: string, port: number, private readonly done: (c: Connection, status: number, ms: number) => void) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', () => {});
  }

  send(text: string): void {
    this.sentAt = performance.now();
    this.socket.write(text);
  }

  private read(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining < 0) {
        const head = this.head ? Buffer.concat([this.head, chunk.subarray(at)]) : chunk.subarray(at);
        const end = head.indexOf(HEADER_END);
        if (end < 0) {
          this.head = Buffer.from(head);
          return;
        }
        const text = head.toString('latin1', 0, end);
        this.status = Number(text.slice(9, 12));
        this.remaining = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? 0);
        at += end + HEADER_END.length - (this.head?.length ?? 0);
        this.head = undefined;
      }
      const taken = Math.min(this.remaining, chunk.length - at);
      this.remaining -= taken;
      at += taken;
      if (this.remaining > 0) return;
      this.remaining = -1;
      this.done(this, this.status, performance.now() - this.sentAt);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export async function steadyLoad(o: SteadyLoad): Promise<SteadyResult> {
  const { hostname, port } = new URL(o.url);
  const texts = o.requests.map(
    (r) => `GET ${r.path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n${Object.entries(r.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`,
  );
  const result: SteadyResult = { rps: 0, ok: 0, failed: 0, behind: 0, latencies: [], cpuMicros: 0 };
  // Connections waiting for a request, taken and given back in O(1).
  const idle: Connection[] = [];
  const connections = Array.from(
    { length: o.connections },
    () =>
      new Connection(hostname, Number(port), (c, status, ms) => {
        idle.push(c);
        if (status >= 200 && status < 300) {
          result.ok += 1;
          result.latencies.push(ms);
        } else result.failed += 1;
      }),
  );
  idle.push(...connections);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let sent = 0;
  let next = 0;
  await new Promise<void>((resolve) => {
    // Every millisecond, send what the rate owes by now, each on an idle connection: readers arrive
    // spread out, not in bursts the engine could serve in one turn of its event loop.
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      if (elapsed >= o.seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      const owed = Math.floor((elapsed / 1000) * o.rate) - sent;
      for (let i = 0; i < owed; i++) {
        sent += 1;
        const c = idle.pop();
        if (!c) {
          result.behind += 1;
          continue;
        }
        c.send(texts[next++ % texts.length]!);
      }
    }, 1);
  });
  const used = process.cpuUsage(cpu);
  result.cpuMicros = used.user + used.system;
  for (const c of connections) c.close();
  result.rps = result.ok / o.seconds;
  return result;
}

const RESULT = 'steady-result';

/** Runs `load` in a child process (test/bench/steady-client.ts) and returns what it measured. */
/** `cpus`: a taskset CPU list the client is held to (every thread), else it runs anywhere. */
export async function steadyLoadInChild(scope: Scope, name: string, load: SteadyLoad, cpus?: string): Promise<SteadyResult> {
  const child = spawnScript(scope, name, 'test/bench/steady-client.ts', { BENCH_STEADY_LOAD: JSON.stringify(load) });
  if (cpus !== undefined) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(child.proc.pid)], { stdio: 'ignore' });
  const line = await child.waitForLine('its result', (l) => l.json?.msg === RESULT, (load.seconds + 60) * 1000);
  return line.json!.result as SteadyResult;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await steadyLoad(JSON.parse(process.env.BENCH_STEADY_LOAD!) as SteadyLoad);
  process.stdout.write(`${JSON.stringify({ msg: RESULT, result })}\n`);
  process.exit(0);
}
