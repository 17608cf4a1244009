// The backup file: gzip around lines. A header naming the schema, then per table a line naming it
// and its columns followed by its rows as COPY's text format writes them (one row a line: tabs,
// newlines and backslashes inside values are escaped) up to a `\.` line, then a trailer counting
// each table's rows. The trailer is what tells a whole file from one cut short.

export const FORMAT = 'lifeline-backup';
export const FORMAT_VERSION = 1;
/** Ends a table's rows, as in pg_dump's plain format: a row can never be this line (`\` is written `\\`). */
export const END_OF_ROWS = '\\.';

export interface BackupHeader {
  format: typeof FORMAT;
  version: typeof FORMAT_VERSION;
  /** The migrations applied to the database it came from: its schema. */
  migrations: string[];
  taken_at: string;
}

export interface TableHeader {
  table: string;
  columns: string[];
}

export interface BackupTrailer {
  end: true;
  /** Rows per table, in the order they were written. */
  tables: Record<string, number>;
}

/** Anything about the file itself that makes it unusable: nothing has been changed yet. */
export class BackupFileError extends Error {
  constructor(file: string, why: string) {
    super(`${file} is not a usable Lifeline backup: ${why}`);
    this.name = 'BackupFileError';
  }
}

/** A backup the target database cannot take as it is: refused before a row is written. */
export class RestoreRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefused';
  }
}

const json = (line: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** The first line, or why it is not one; a later format version is refused by name. */
export function parseHeader(line: string | undefined): BackupHeader | string {
  const h = line === undefined ? undefined : json(line);
  if (h?.format !== FORMAT) return 'it does not start with a Lifeline backup header';
  if (h.version !== FORMAT_VERSION) return `it is format version ${String(h.version)}, this release reads version ${FORMAT_VERSION}`;
  if (!strings(h.migrations) || h.migrations.length === 0 || typeof h.taken_at !== 'string') return 'its header is damaged';
  return h as unknown as BackupHeader;
}

/** A table's opening line, the trailer, or neither (undefined). */
export function parseSection(line: string): TableHeader | BackupTrailer | undefined {
  const s = json(line);
  if (typeof s?.table === 'string' && strings(s.columns) && s.columns.length > 0) return { table: s.table, columns: s.columns };
  if (s?.end === true && typeof s.tables === 'object' && s.tables !== null) {
    const counts = Object.entries(s.tables as Record<string, unknown>);
    if (counts.every(([, n]) => Number.isSafeInteger(n))) return { end: true, tables: Object.fromEntries(counts) as Record<string, number> };
  }
  return undefined;
}

/**
 * Why a backup of schema `theirs` cannot be restored by a release that ships `ours`, if it cannot:
 * a migration this release does not have means a newer release wrote it (or another fork).
 */
export function schemaRefusal(theirs: readonly string[], ours: readonly string[]): string | undefined {
  const known = new Set(ours);
  const unknown = theirs.filter((m) => !known.has(m));
  if (unknown.length) return `the backup comes from a newer schema than this release knows (${unknown.join(', ')}): restore it with that release or a later one`;
  const last = theirs.at(-1)!;
  const gaps = ours.filter((m) => m <= last && !theirs.includes(m));
  if (gaps.length) return `the backup's schema lacks migrations this release applies before ${last} (${gaps.join(', ')})`;
  return undefined;
}

/**
 * Tables in an order that loads every referenced row before the rows referring to it; ties by
 * name so two backups of one schema list their tables alike. A table referring to itself loads
 * in one COPY, which checks each row as it goes: none does today.
 */
export function dependencyOrder(tables: ReadonlyArray<{ name: string; references: readonly string[] }>): string[] {
  const pending = new Map(tables.map((t) => [t.name, new Set(t.references.filter((r) => r !== t.name))]));
  const order: string[] = [];
  while (pending.size) {
    const ready = [...pending].filter(([, refs]) => [...refs].every((r) => !pending.has(r))).map(([name]) => name);
    if (!ready.length) throw new Error(`foreign keys form a cycle among ${[...pending.keys()].sort().join(', ')}`);
    for (const name of ready.sort()) {
      order.push(name);
      pending.delete(name);
    }
  }
  return order;
}
