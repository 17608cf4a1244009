import autocannon, { type Request, type Result } from 'autocannon';
import { progress } from './log.ts';

export interface LoadSpec {
  /** Base URL of the server under load. */
  url: string;
  connections: number;
  seconds: number;
  /**
   * The distinct requests (e.g. one per node token). Each connection gets its own contiguous share
   * and cycles through it, as an agent keeps its connection: every request is built once, and the
   * whole set is covered however many connections there are.
   */
  requests: Request[];
  /** Requests per second over all connections; unset: as fast as the server answers. */
  rate?: number;
}

export interface LoadResult {
  /** Successful (2xx) responses per second over the run. */
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  /** Requests sent, including those still in flight when the run ended (the server did them too). */
  sent: number;
  failed: number;
  seconds: number;
}

function shareOf<T>(items: T[], i: number, parts: number): T[] {
  if (items.length <= parts) return [items[i % items.length]!];
  const size = Math.ceil(items.length / parts);
  const share = items.slice(i * size, (i + 1) * size);
  return share.length ? share : [items[i % items.length]!];
}

function fire(spec: LoadSpec, seconds: number): Promise<Result> {
  let client = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: seconds,
        timeout: 10,
        requests: [spec.requests[0]!],
        ...(spec.rate ? { overallRate: spec.rate } : {}),
        setupClient: (c) => c.setRequests(shareOf(spec.requests, client++, spec.connections)),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

/** A short unrecorded run (JIT, connection pools, caches), so every server is measured warm. */
export async function warmUp(label: string, spec: LoadSpec): Promise<void> {
  progress(`load: ${label} — warm-up`);
  await fire(spec, Math.min(2, Math.max(1, Math.round(spec.seconds / 4))));
}

/** The measured run. Latency is autocannon's (1 ms resolution, 2xx responses only). */
export async function measure(label: string, spec: LoadSpec): Promise<LoadResult> {
  progress(`load: ${label} — ${spec.seconds} s at ${spec.connections} connections`);
  const r = await fire(spec, spec.seconds);
  const failed = r.non2xx + r.errors + r.timeouts;
  if (failed) progress(`load: ${label}: ${failed} failed requests (status counts ${JSON.stringify(r.statusCodeStats)}, errors ${r.errors}, timeouts ${r.timeouts})`);
  return { rps: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], sent: r.requests.sent, failed, seconds: r.duration };
}

export async function runLoad(label: string, spec: LoadSpec): Promise<LoadResult> {
  await warmUp(label, spec);
  return measure(label, spec);
}

export function postJson(path: string, secret: string, body: unknown): Request {
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify(body),
  };
}
