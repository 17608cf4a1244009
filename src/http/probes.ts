/**
 * The probes' paths as the app routes them: /healthz, /readyz and /metrics, with or without a
 * query; `/readyz/` is the app's 404, not a probe.
 */
const PROBE = /^\/(healthz|readyz|metrics)(?:\?|$)/;

export type Probe = 'healthz' | 'readyz' | 'metrics';

/** Which probe a request for `url` reads, if any (its method aside). */
export function probeOf(url: string | undefined): Probe | undefined {
  return PROBE.exec(url ?? '')?.[1] as Probe | undefined;
}
