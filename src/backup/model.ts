// The backup file: gzip around lines. A header naming the schema, then per table a line naming it
// and its columns followed by its rows as COPY's text format writes them (one row a line: tabs,
// newlines and backslashes inside values are escaped) up to a `\.` line, then a trailer counting
// each table's rows. The trailer is what tells a whole file from one cut short.

export const FORMAT = 'lifeline-backup';
export const FORMAT_VERSION = 1;
/** Ends a table's rows, as in pg_dump's plain format: a row can never be this line (`\` is written `\\`). */
export const END_OF_ROWS = '\\.';

/**
 * The longest row line a backup may hold, in characters (UTF-16 units, as read). Every value a row
 * holds comes from one request, whose body is at most 1 MiB (MAX_BODY_BYTES), or is the engine's
 * own text. The largest today: a heartbeat's checks (64 messages of 1,024 characters: ~70 KB, and
 * ~470 KB if each character is a control character, which jsonb writes as `\u0001` and COPY as
 * `\\u0001`), a job's kept output (10 KB; 20 KB with COPY's escapes), a sealed secret or
 * idempotency answer (base64 of the answer's JSON: 4/3 of it; a batch's 1,000 refusals are ~0.5 MB).
 * Even 1 MiB of control characters, 7 characters each as JSON inside COPY and 4/3 that sealed, is
 * 9.4 MiB: 16 MiB refuses no row Lifeline wrote, and reading the longest costs ~32 MB (its pieces
 * and the line joined, a byte a character; twice that beyond Latin-1), where a hostile file's
 * one line was held however long it was (a RangeError past ~512 MB).
 */
export const MAX_ROW_CHARS = 16 * 1024 * 1024;

/**
 * The longest header, table or trailer line: ~1 KB today (24 migration names; a table's ~20
 * columns; ~35 tables' counts), so 64 KiB leaves room for decades of migrations and tables.
 */
export const MAX_SECTION_CHARS = 64 * 1024;

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

/**
 * The lines of a text stream, without their "\n" (a last one without it too: a file cut short),
 * each refused past a length its caller gives. A chunk is searched for "\n" once, and a line
 * running over chunks is kept as its pieces until its end, so a line costs its own length however
 * it is cut: splitting what was held plus each new chunk took 20 s for one 20 MB line.
 */
export class LineReader {
  private readonly chunks: AsyncIterator<string>;
  /** The line being read: the pieces of it before `text`, and their length. */
  private pieces: string[] = [];
  private piecesChars = 0;
  /** The chunk being read, from `at`. */
  private text = '';
  private at = 0;
  private lines = 0;

  constructor(
    input: AsyncIterable<string>,
    private readonly refuse: (why: string) => Error,
  ) {
    this.chunks = input[Symbol.asyncIterator]();
  }

  /** The next line, or undefined at the end; throws `refuse`'s error for one over `maxChars`. */
  async next(maxChars: number): Promise<string | undefined> {
    this.lines += 1;
    for (;;) {
      const end = this.text.indexOf('\n', this.at);
      const chars = this.piecesChars + (end === -1 ? this.text.length : end) - this.at;
      if (chars > maxChars) throw this.refuse(`line ${this.lines} is longer than ${maxChars} characters`);
      if (end !== -1) {
        const last = this.text.slice(this.at, end);
        this.at = end + 1;
        return this.take(last);
      }
      if (this.at < this.text.length) {
        this.pieces.push(this.text.slice(this.at));
        this.piecesChars = chars;
      }
      this.text = '';
      this.at = 0;
      const chunk = await this.chunks.next();
      if (chunk.done) return this.pieces.length ? this.take('') : undefined;
      this.text = chunk.value;
    }
  }

  private take(last: string): string {
    if (!this.pieces.length) return last;
    const line = this.pieces.join('') + last;
    this.pieces = [];
    this.piecesChars = 0;
    return line;
  }
}
