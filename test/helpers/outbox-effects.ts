import type { Queryable } from '../../src/db/client.ts';
import type { OutboxEvent } from '../../src/outbox/topics.ts';

// The outbox tests' own topic, added to the engine's map of topics for the type checker only.
declare module '../../src/outbox/topics.ts' {
  interface Topics {
    'test.effect': { seq: number; poison?: boolean };
    /** A topic only a newer version handles (the rolling-upgrade test). */
    'test.later': { seq: number };
  }
}

/** A handler effect tests can count: one row per handling of an event, duplicates allowed. */
export async function createEffectsTable(sql: Queryable): Promise<void> {
  await sql`create table if not exists test_effects (event_id bigint not null, key text not null, seq int not null, worker text not null, done_at timestamptz not null default clock_timestamp())`;
}

export async function recordEffects(tx: Queryable, events: OutboxEvent<'test.effect' | 'test.later'>[], worker: string): Promise<void> {
  await tx`
    insert into test_effects (event_id, key, seq, worker)
    select * from unnest(${events.map((e) => e.id)}::bigint[], ${events.map((e) => e.key)}::text[],
                         ${events.map((e) => Number(e.payload.seq))}::int[], ${events.map(() => worker)}::text[])`;
}
