// A lean HTTP/1.1 client that sends GET requests at a fixed rate over keep-alive connections and
// reads the answers with just enough parsing to find where each ends. It stands for a crowd of
// readers elsewhere: autocannon spends ~0.4 ms of CPU parsing each 25 KB answer, which on a 2-core
// machine would take that CPU from the engine under test rather than from the readers' own machines.
import { connect, type Socket } from 'node:net';

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
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection with at most one request in flight. */
class Connection {
  private readonly socket: Socket;
  private chunks: Buffer[] = [];
  private received = 0;
  /** Length of the answer in flight once its head is read (head + body), else -1. */
  private expected = -1;
  private status = 0;
  private sentAt = 0;
  busy = false;

  constructor(host: string, port: number, private readonly done: (status: number, ms: number) => void) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', () => {});
  }

  send(text: string): void {
    this.busy = true;
    this.sentAt = performance.now();
    this.socket.write(text);
  }

  private read(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (this.expected < 0) {
      const head = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks);
      const end = head.indexOf(HEADER_END);
      if (end < 0) return;
      const text = head.subarray(0, end).toString('latin1');
      this.status = Number(text.slice(9, 12));
      const length = /\r\ncontent-length: *(\d+)/i.exec(text);
      this.expected = end + HEADER_END.length + Number(length?.[1] ?? 0);
    }
    if (this.received < this.expected) return;
    const leftover = this.received - this.expected;
    this.chunks = leftover > 0 ? [chunk.subarray(chunk.length - leftover)] : [];
    this.received = leftover;
    this.expected = -1;
    this.busy = false;
    this.done(this.status, performance.now() - this.sentAt);
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
  const result: SteadyResult = { rps: 0, ok: 0, failed: 0, behind: 0, latencies: [] };
  const connections = Array.from(
    { length: o.connections },
    () =>
      new Connection(hostname, Number(port), (status, ms) => {
        if (status >= 200 && status < 300) {
          result.ok += 1;
          result.latencies.push(ms);
        } else result.failed += 1;
      }),
  );
  const started = performance.now();
  let sent = 0;
  let next = 0;
  await new Promise<void>((resolve) => {
    // Every millisecond, send what the rate owes by now, each on an idle connection.
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
        const idle = connections.find((c) => !c.busy);
        if (!idle) {
          result.behind += 1;
          continue;
        }
        idle.send(texts[next++ % texts.length]!);
      }
    }, 1);
  });
  for (const c of connections) c.close();
  result.rps = result.ok / o.seconds;
  return result;
}
