// The few /v1 calls the benchmark makes to set an engine up, as an API user would (README, "API").

async function call<T>(base: string, secret: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json: json as T };
}

async function expect<T>(what: string, want: number, p: Promise<{ status: number; json: T }>): Promise<T> {
  const { status, json } = await p;
  if (status !== want) throw new Error(`${what}: expected ${want}, got ${status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

export async function createApiKey(base: string, admin: string, scope: 'ingest' | 'write' | 'read'): Promise<string> {
  const key = await expect<{ secret: string }>('POST /v1/api-keys', 201, call(base, admin, 'POST', '/v1/api-keys', { name: `bench-${scope}`, scope }));
  return key.secret;
}

export interface CreatedNode {
  id: string;
  name: string;
  token: string;
  ping_key: string;
}

/** Creates nodes through the API, `concurrency` requests at a time. */
export async function createNodes(base: string, admin: string, names: string[], concurrency = 10): Promise<CreatedNode[]> {
  const out: CreatedNode[] = new Array(names.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < names.length) {
        const i = next++;
        out[i] = await expect<CreatedNode>('POST /v1/nodes', 201, call(base, admin, 'POST', '/v1/nodes', { name: names[i] }));
      }
    }),
  );
  return out;
}

export function heartbeatBatch(names: string[]): { heartbeats: Array<{ node: string; status: 'ok' }> } {
  return { heartbeats: names.map((node) => ({ node, status: 'ok' as const })) };
}

export async function postHeartbeats(base: string, key: string, names: string[]): Promise<void> {
  await expect('POST /v1/heartbeats', 202, call(base, key, 'POST', '/v1/heartbeats', heartbeatBatch(names)));
}

/** GET returning the body text; used for /metrics and a little traffic on read routes. */
export async function getText(base: string, path: string, secret?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}${path}`, secret ? { headers: { authorization: `Bearer ${secret}` } } : {});
  return { status: res.status, text: await res.text() };
}

/** The value of one unlabelled sample (or the sum over its label sets) in Prometheus text. */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * A histogram's mean and the upper bound of the bucket holding quantile `q` (a bound, not an
 * estimate: the histogram keeps no finer detail), in seconds.
 */
export function histogramSummary(text: string, name: string, q: number): { mean: number; bound: number; count: number } {
  const count = metricValue(text, `${name}_count`);
  const buckets: Array<[number, number]> = [];
  for (const line of text.split('\n')) {
    const m = line.match(new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\S+)$`));
    if (m) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const bound = buckets.find(([, n]) => n >= q * count)?.[0] ?? Number.NaN;
  return { mean: count ? metricValue(text, `${name}_sum`) / count : Number.NaN, bound, count };
}

/** Series in a Prometheus exposition: every sample line (comments and blanks are not series). */
export function seriesCount(text: string): number {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).length;
}
