// What the demo's fleet looks like and what happens to it, as data: the runner prints the
// schedule before it starts, so a newcomer knows what to look for and when.

export type Role = 'web' | 'db' | 'cache';

export interface SimNode {
  name: string;
  role: Role;
}

export type Action =
  | { at: number; do: 'fail' | 'recover'; nodes: string[] }
  | { at: number; do: 'degrade'; nodes: string[]; check: 'disk' | 'load' }
  | { at: number; do: 'ack'; nodes: string[] };

export interface Scenario {
  /** Seconds the fleet runs unless --duration says otherwise. */
  durationSeconds: number;
  actions: Action[];
}

export const INTERVAL_SECONDS = 2;
export const FAILURES_FOR_DOWN = 2;

const pad = (n: number) => String(n).padStart(2, '0');
const ROLES: Array<[Role, number]> = [
  ['web', 30],
  ['db', 10],
  ['cache', 10],
];

/** 50 nodes: web-01…web-30, db-01…db-10, cache-01…cache-10. */
export const FLEET: SimNode[] = ROLES.flatMap(([role, count]) => Array.from({ length: count }, (_, i) => ({ name: `${role}-${pad(i + 1)}`, role })));

/** About 80 s: two outages, two degradations, one acknowledgement, everything back by 62 s. */
export const FULL: Scenario = {
  durationSeconds: 80,
  actions: [
    { at: 10, do: 'fail', nodes: ['web-07', 'db-02'] },
    { at: 20, do: 'degrade', nodes: ['cache-03'], check: 'disk' },
    { at: 20, do: 'degrade', nodes: ['web-19'], check: 'load' },
    { at: 28, do: 'fail', nodes: ['web-23'] },
    { at: 32, do: 'ack', nodes: ['db-02'] },
    { at: 45, do: 'recover', nodes: ['web-07', 'cache-03'] },
    { at: 55, do: 'recover', nodes: ['db-02', 'web-19'] },
    { at: 62, do: 'recover', nodes: ['web-23'] },
  ],
};

/**
 * The short, bounded run for CI: one outage and one degradation, both over within ~20 s. web-07 is
 * down 4 s after its last heartbeat (at +2 s at the latest) and must be seen down before it
 * recovers: a heartbeat after the deadline hides the silence, so recovery waits until +12 s to
 * leave a busy machine's engine 6 s to notice.
 */
export const CI: Scenario = {
  durationSeconds: 50,
  actions: [
    { at: 2, do: 'fail', nodes: ['web-07'] },
    { at: 2, do: 'degrade', nodes: ['cache-03'], check: 'disk' },
    { at: 12, do: 'recover', nodes: ['web-07', 'cache-03'] },
  ],
};

export function describeAction(a: Action): string {
  const who = a.nodes.join(' and ');
  switch (a.do) {
    case 'fail':
      return `${who} stop${a.nodes.length > 1 ? '' : 's'} sending heartbeats`;
    case 'degrade':
      return `${who} report${a.nodes.length > 1 ? '' : 's'} a ${a.check} warning`;
    case 'ack':
      return `on-call acknowledges ${who}'s incident`;
    case 'recover':
      return `${who} recover${a.nodes.length > 1 ? '' : 's'}`;
  }
}
