import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from './clock.ts';
import { requestListener } from '../../src/http/app.ts';
import type { FastPath } from '../../src/http/fast-path.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { START, buildApp, type BuildOptions, type Harness } from './app.ts';

// For tests that the ways around the app (src/http/fast-*.ts) answer exactly as the app does: the
// same requests go, in the same order, to two engines over one database, each with its own buffer,
// limits, caches, metrics and clock, one serving through the fast paths, one through the app alone.

export interface Sent {
  method: string;
  path: string;
  /** An array is sent as that many header lines. */
  headers: Record<string, string | string[]>;
  body?: string;
}

export interface RawAnswer {
  status: number;
  body: Buffer;
  headers: IncomingMessage['headers'];
  /** Whether a fast path took the request. */
  taken: boolean;
}

export class DifferentialEngine {
  readonly clock = new ManualClock(START);
  readonly buffer = new HeartbeatBuffer();
  readonly built;
  private readonly server: Server;
  /** Whether a fast path took the last request. */
  taken = false;
  /** Requests whose head the server has read. */
  seen = 0;

  constructor(h: Harness, fast: boolean, o: Omit<BuildOptions, 'sql' | 'clock' | 'buffer'>) {
    this.built = buildApp({ ...o, sql: h.sql, clock: this.clock, buffer: this.buffer });
    const { http } = this.built;
    const spied = { ...http, fast: http.fast.map((path): FastPath => (i, o) => (this.taken = path(i, o) || this.taken)) };
    const listener = requestListener(spied, { fast });
    this.server = createServer((i, o) => {
      this.seen++;
      listener(i, o);
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async send(s: Sent): Promise<RawAnswer> {
    this.taken = false;
    // node:http rather than fetch, which can send neither a Host of its own nor a header twice.
    const req = request({ host: '127.0.0.1', port: this.port, method: s.method, path: s.path, headers: s.headers });
    req.end(s.body);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return { status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers, taken: this.taken };
  }

  /** The request histogram's counts by method, route and status, and the lines of `others`. */
  async counted(others: string[] = []): Promise<string[]> {
    const { registry } = this.built.metrics;
    const requests = await registry.getSingleMetricAsString('lifeline_http_request_duration_seconds');
    const more = await Promise.all(others.map((name) => registry.getSingleMetricAsString(name)));
    return [...more.flatMap((text) => text.split('\n')), ...requests.split('\n').filter((l) => l.includes('_count{'))].sort();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
