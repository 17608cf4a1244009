// Everything the demo creates, through the API as an operator would: an email channel, an
// escalation policy that notifies it at once, and the fleet's nodes. Running the demo again
// against the same database replaces the previous run's nodes and reuses its channel and policy.

import type { Node as NodeView } from '../src/api/shapes.ts';
import type { Client } from '../src/cli/client.ts';
import { FAILURES_FOR_DOWN, INTERVAL_SECONDS, type SimNode } from './scenario.ts';

const LABEL: [string, string] = ['demo', 'fleet'];
/** The `label` filter that selects the demo's nodes. */
export const DEMO_FILTER = LABEL.join(':');
export const ONCALL_ADDRESS = 'oncall@demo.example';
const CHANNEL = 'demo-email';
const POLICY = 'demo';

interface Named {
  id: string;
  name: string;
}

async function findOrCreate(client: Client, path: string, name: string, create: () => unknown): Promise<Named> {
  const existing = (await client.all<Named>(path)).items.find((x) => x.name === name);
  return existing ?? client.post<Named>(path, create());
}

export interface Prepared {
  channel: Named;
  policy: Named;
  nodes: Array<NodeView & { token: string }>;
}

export async function prepare(client: Client, fleet: SimNode[]): Promise<Prepared> {
  const previous = await client.all<NodeView>('/v1/nodes', { label: DEMO_FILTER });
  await Promise.all(previous.items.map((n) => client.delete(`/v1/nodes/${n.id}`)));

  const channel = await findOrCreate(client, '/v1/channels', CHANNEL, () => ({ name: CHANNEL, type: 'email', config: { to: [ONCALL_ADDRESS] } }));
  const levels = [{ after_seconds: 0, channel_ids: [channel.id] }];
  const policy = await findOrCreate(client, '/v1/escalation-policies', POLICY, () => ({ name: POLICY, levels }));
  // A reused policy may name a channel from an older setup: point it at this one.
  await client.patch(`/v1/escalation-policies/${policy.id}`, { levels });

  // The fleet names its policy rather than taking over the database's default one.
  const nodes = await Promise.all(
    fleet.map((n) =>
      client.post<NodeView & { token: string }>('/v1/nodes', {
        name: n.name,
        labels: { [LABEL[0]]: LABEL[1], role: n.role },
        heartbeat_interval_seconds: INTERVAL_SECONDS,
        failures_for_down: FAILURES_FOR_DOWN,
        escalation_policy_id: policy.id,
      }),
    ),
  );
  return { channel, policy, nodes };
}
