// Simulated hosts, each running the reference agent's own heartbeat loop in this process. A host's
// machine readings are numbers the scenario can change; the agent's checks judge them exactly as
// they judge a real machine. Failing a host stops its loop; recovering it starts a new one.

import { ALL_CHECKS, evaluateChecks, type HostSample } from '../src/cli/agent-checks.ts';
import { runAgent } from '../src/cli/agent-loop.ts';
import { Client } from '../src/cli/client.ts';

const GiB = 2 ** 30;

interface Host {
  client: Client;
  sample: HostSample;
  healthy: HostSample;
  stop?: AbortController;
}

/** Plausible, varied readings for host `i`: 30–74 % disk free, 0.1–1.3 load per core, 25–64 % memory free. */
function healthySample(i: number): HostSample {
  return {
    disk: { freeBytes: (30 + ((i * 7) % 45)) * GiB, totalBytes: 100 * GiB },
    load1: 4 * (0.1 + ((i * 13) % 12) / 10),
    cores: 4,
    memory: { freeBytes: (4 + ((i * 5) % 7) * 1.3) * GiB, totalBytes: 16 * GiB },
  };
}

export class Fleet {
  private readonly hosts = new Map<string, Host>();
  heartbeats = 0;
  errors = 0;

  constructor(
    private readonly url: string,
    private readonly intervalMs: number,
    private readonly report: (line: string) => void,
  ) {}

  add(name: string, token: string): void {
    const healthy = healthySample(this.hosts.size);
    // Requests that outlive a beat are abandoned: the next beat says the same, newer.
    this.hosts.set(name, { client: new Client({ url: this.url, token, timeoutMs: this.intervalMs }), sample: healthy, healthy });
  }

  get size(): number {
    return this.hosts.size;
  }

  private host(name: string): Host {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no simulated host named ${name}`);
    return host;
  }

  start(name: string): void {
    const host = this.host(name);
    if (host.stop) return;
    const stop = (host.stop = new AbortController());
    runAgent({
      client: host.client,
      intervalMs: this.intervalMs,
      collect: () => evaluateChecks(host.sample, ALL_CHECKS),
      signal: stop.signal,
      onBeat: (beat) => (beat.ok ? this.heartbeats++ : this.errors++),
    }).catch((err: Error) => this.report(`${name}: the agent stopped: ${err.message}`));
  }

  startAll(): void {
    for (const name of this.hosts.keys()) this.start(name);
  }

  /** Like a crashed host: no more heartbeats. */
  fail(name: string): void {
    const host = this.host(name);
    host.stop?.abort();
    delete host.stop;
  }

  /** A disk filling up (7 % free) or a host overloaded (2.6 per core): a warn check, heartbeats continue. */
  degrade(name: string, check: 'disk' | 'load'): void {
    const host = this.host(name);
    host.sample =
      check === 'disk'
        ? { ...host.healthy, disk: { freeBytes: 7 * GiB, totalBytes: 100 * GiB } }
        : { ...host.healthy, load1: 2.6 * host.healthy.cores };
  }

  recover(name: string): void {
    this.host(name).sample = this.host(name).healthy;
    this.start(name);
  }

  stopAll(): void {
    for (const name of this.hosts.keys()) this.fail(name);
  }
}
