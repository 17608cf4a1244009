// What the engine says about the demo's fleet, read through the public API the way an operator's
// dashboard would: each poll compares node states and incidents with the previous poll and
// reports what changed, one line per event.

import type { Incident, NodeState, Node as NodeView } from '../src/api/shapes.ts';
import type { Client } from '../src/cli/client.ts';
import { duration } from '../src/cli/format.ts';
import { DEMO_FILTER } from './setup.ts';

export type Report = (kind: string, text: string) => void;

const ARROW: Partial<Record<NodeState, string>> = { down: '▼', degraded: '◆', healthy: '▲' };

export class Watch {
  readonly states = new Map<string, NodeState>();
  readonly incidents = new Map<string, Incident>();
  private allHealthySaid = false;

  constructor(
    private readonly client: Client,
    private readonly nodeIds: ReadonlySet<string>,
    private readonly report: Report,
  ) {}

  async poll(): Promise<void> {
    const [nodes, incidents] = await Promise.all([
      this.client.all<NodeView>('/v1/nodes', { label: DEMO_FILTER }),
      // Newest first; the demo's incidents are among the latest few hundred.
      this.client.get<{ items: Incident[] }>('/v1/incidents', { limit: 500 }),
    ]);
    for (const n of nodes.items) this.node(n);
    // Oldest first, so an incident's lines come in the order things happened.
    for (const i of incidents.items.filter((i) => this.nodeIds.has(i.node_id)).reverse()) this.incident(i);
    if (!this.allHealthySaid && this.count('healthy') === this.nodeIds.size) {
      this.allHealthySaid = true;
      this.report('fleet', `all ${this.nodeIds.size} nodes healthy`);
    }
  }

  private node(n: NodeView): void {
    const before = this.states.get(n.name);
    this.states.set(n.name, n.health.state);
    // A fleet coming up is 50 lines of unknown → healthy; the "all healthy" line says it once.
    if (before === undefined || before === n.health.state || before === 'unknown') return;
    const reason = n.health.reason ? ` (${n.health.reason})` : '';
    this.report('node', `${ARROW[n.health.state] ?? '•'} ${n.name} ${before} → ${n.health.state}${reason}`);
  }

  private incident(i: Incident): void {
    const before = this.incidents.get(i.id);
    this.incidents.set(i.id, i);
    if (before?.status === i.status) return;
    if (before === undefined) this.report('incident', `opened: ${i.title} (${i.category}, ${i.severity})`);
    if (i.status === 'acknowledged') this.report('incident', `acknowledged: ${i.title}, by ${i.acknowledged_by}`);
    if (i.status === 'resolved') {
      const lasted = duration(Date.parse(i.resolved_at!) - Date.parse(i.opened_at));
      this.report('incident', `resolved: ${i.title}, by ${i.resolved_by}, after ${lasted}`);
    }
  }

  count(state: NodeState): number {
    return [...this.states.values()].filter((s) => s === state).length;
  }

  countIncidents(status: Incident['status']): number {
    return [...this.incidents.values()].filter((i) => i.status === status).length;
  }

  summary(): string {
    const states = (['healthy', 'degraded', 'down', 'unknown'] as const)
      .map((s) => [s, this.count(s)] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    const open = this.countIncidents('open') + this.countIncidents('acknowledged');
    return `${states} | incidents: ${open} open, ${this.countIncidents('resolved')} resolved`;
  }
}
