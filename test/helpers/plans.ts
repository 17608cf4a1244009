import postgres from 'postgres';
import type { TestDatabase } from './db.ts';

/**
 * The plans of the last statement `run` sends, executed as a prepared statement is: planned for
 * its values, and generically (the client prepares each statement, and after five executions
 * Postgres may keep a generic plan, planned for no values at all).
 */
export async function plansOf(db: Pick<TestDatabase, 'url' | 'sql'>, run: (sql: postgres.Sql) => Promise<unknown>): Promise<Array<{ mode: string; plan: PlanNode }>> {
  let statement: { text: string; values: unknown[] } | undefined;
  const watched = postgres(db.url, {
    max: 1,
    debug: (_connection, text, values) => {
      // All but the client's own look-up of array types when it connects.
      if (!text.includes('pg_catalog.pg_type')) statement = { text, values: values as unknown[] };
    },
  });
  try {
    await run(watched);
  } finally {
    await watched.end({ timeout: 1 });
  }
  const session = await db.sql.reserve();
  try {
    const { types } = await session.unsafe(statement!.text, statement!.values as never[]).describe();
    const [{ names }] = await session<[{ names: string | null }]>`select string_agg(t::regtype::text, ', ' order by i) as names from unnest(${types}::oid[]) with ordinality as x(t, i)`;
    await session.unsafe(`prepare watched${names ? `(${names})` : ''} as ${statement!.text}`);
    // EXECUTE's arguments inside EXPLAIN cannot be parameters: numbers, strings and arrays of ids, as literals.
    const args = statement!.values.map(literal).join(', ');
    const out: Array<{ mode: string; plan: PlanNode }> = [];
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      await session.unsafe(`set plan_cache_mode = ${mode}`);
      const [{ 'QUERY PLAN': plan }] = (await session.unsafe(`explain (analyze, format json) execute watched${args ? `(${args})` : ''}`)) as unknown as [
        { 'QUERY PLAN': [{ Plan: PlanNode }] },
      ];
      out.push({ mode, plan: plan[0].Plan });
    }
    await session`deallocate watched`;
    await session`reset plan_cache_mode`;
    return out;
  } finally {
    session.release();
  }
}

/** A value as a literal EXECUTE takes: a number as is, a string or an array of plain values (ids) quoted. */
function literal(v: unknown): string {
  if (typeof v === 'number') return String(v);
  const text = Array.isArray(v) ? `{${v.map(String).join(',')}}` : String(v);
  return `'${text.replaceAll("'", "''")}'`;
}

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/** Rows read by the plan's nodes that `which` picks, over every loop of each. */
export function rowsRead(p: PlanNode, which: (p: PlanNode) => boolean): number {
  const own = which(p) ? p['Actual Rows'] * p['Actual Loops'] : 0;
  return own + (p.Plans ?? []).reduce((sum, c) => sum + rowsRead(c, which), 0);
}
