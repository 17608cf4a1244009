// What a command is, and what it gets to work with: its flags already parsed, typed accessors
// that turn a bad value into a usage error, a client built from --url/--token(-file) or the
// environment, and output that is either human text or the API's JSON.

import { readFileSync } from 'node:fs';
import { DEFAULT_URL } from '../config.ts';
import { parseLabel } from '../nodes/model.ts';
import { shellWord } from '../shell-word.ts';
import { Client, type Page, type Query } from './client.ts';
import { renderTable, type Column } from './table.ts';
import { pastTime } from './format.ts';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /**
   * How this process was started, for a line that runs the CLI again from elsewhere (a crontab):
   * the script as invoked (process.argv[1]) and node's path; absent when run in-process.
   */
  invokedAs?: { script: string | undefined; node: string };
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** Shown in usage: `--interval 30`, `--label k=v`. */
  hint?: string;
  /** One line in `lifeline <command> --help`. */
  description: string;
  /** Accepted but left out of the help: a flag taken only to be refused with a hint. */
  hidden?: boolean;
}

export interface Command {
  /** One or two words: `uptime`, `nodes add`. */
  name: string;
  /** Positional arguments, required, in order: `<name>`. */
  args?: string[];
  summary: string;
  example: string;
  options: Record<string, OptionSpec>;
  /** A number is the exit code (`lifeline run` exits with its command's); otherwise 0. */
  run(ctx: Context): Promise<void | number>;
}

/** Wrong words on the command line: usage goes to stderr and the exit code is 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The flags of every command that talks to the API. */
export const API_OPTIONS = {
  url: { type: 'string', hint: 'url', description: `engine URL (LIFELINE_URL, default ${DEFAULT_URL})` },
  token: { type: 'string', hint: 'secret', description: 'API key or node token (LIFELINE_TOKEN)' },
  'token-file': { type: 'string', hint: 'path', description: 'read the key or token from this file instead (LIFELINE_TOKEN_FILE)' },
  json: { type: 'boolean', description: 'print the API answer as JSON' },
} satisfies Record<string, OptionSpec>;

/** Lists fetch everything unless told otherwise. */
export const LIST_OPTIONS: Record<string, OptionSpec> = {
  limit: { type: 'string', hint: 'n', description: 'show only the first n (default: all)' },
};

/**
 * An http or https URL, or a usage error naming where it came from: `127.0.0.1:8080` has no
 * scheme, and `localhost:8080` parses as one (`localhost:`), so both are caught here rather than
 * as a request that can never be made.
 */
export function httpUrl(raw: string, source: string, command: Command): URL {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // described below
  }
  if (url?.protocol === 'http:' || url?.protocol === 'https:') return url;
  const guess = raw.includes('://') ? '' : ` (did you mean http://${raw}?)`;
  throw new UsageError(`${source} must be an http or https URL, got "${raw}"${guess}`, command);
}

/**
 * A secret goes in the Authorization header, which fetch sends as Latin-1: a control character
 * or anything above U+00FF (a curly quote pasted with it) can never be sent, and retrying will
 * not change it. An admin token may be any other string of 16 or more (src/config.ts).
 */
function checkedToken(token: string, source: string, command: Command): string {
  const at = token.search(/\p{Cc}|[^\x00-\xff]/u);
  if (at === -1) return token;
  const char = token.codePointAt(at)!;
  // A space or a control character is only named by its code point: shown, it would look like nothing.
  const glyph = String.fromCodePoint(char);
  const shown = /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(glyph) ? `"${glyph}" ` : '';
  throw new UsageError(
    `${source} holds ${shown}(U+${char.toString(16).toUpperCase().padStart(4, '0')}) at character ${at + 1}, which no token has: was it pasted with quotes or spaces?`,
    command,
  );
}

type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

export class Context {
  constructor(
    readonly command: Command,
    private readonly values: Values,
    private readonly positionals: string[],
    readonly io: Io,
  ) {}

  get json(): boolean {
    return this.values.json === true;
  }

  arg(index: number): string {
    return this.positionals[index]!;
  }

  /** The arguments from `index` on (a variadic `<command...>`). */
  rest(index: number): string[] {
    return this.positionals.slice(index);
  }

  /** A flag's value by the name the command declares; commander keys --token-file as tokenFile. */
  private value(name: string): unknown {
    return this.values[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
  }

  string(name: string): string | undefined {
    const v = this.value(name);
    return typeof v === 'string' ? v : undefined;
  }

  strings(name: string): string[] {
    const v = this.value(name);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  }

  flag(name: string): boolean {
    return this.value(name) === true;
  }

  int(name: string, fallback: number, min?: number): number;
  int(name: string, fallback?: undefined, min?: number): number | undefined;
  int(name: string, fallback?: number, min = 0): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min) {
      throw new UsageError(`--${name} must be a whole number of at least ${min}, got "${raw}"`, this.command);
    }
    return Number(raw);
  }

  /** A `--since`/`--until` as the API takes it (pastTime): RFC 3339, or `7d` before `now`. */
  time(name: string, now: number): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const at = pastTime(raw, now);
    if (at === undefined) throw new UsageError(`--${name} must be an RFC 3339 time from 1970 to 9999 or a span before now such as 7d, 12h or 30m, got "${raw}"`, this.command);
    return at;
  }

  /**
   * `--since` and `--until` as the API's opened_after and opened_before, refused here when the
   * range is empty (`--since 7d --until 8d`), as the API would, but naming the options given.
   */
  openedRange(now: number): { opened_after: string | undefined; opened_before: string | undefined } {
    const [since, until] = [this.time('since', now), this.time('until', now)];
    if (since && until && Date.parse(until) <= Date.parse(since)) throw new UsageError(`--until must be after --since, got ${until} and ${since}`, this.command);
    return { opened_after: since, opened_before: until };
  }

  /** A `--label`, as `role=web` (or `role:web`, which `nodes list` once required), read as the console's filter reads it. */
  label(raw: string): [string, string] {
    const label = parseLabel(raw);
    if ('problem' in label) throw new UsageError(`--label ${label.problem}, got "${raw}"`, this.command);
    return [label.key, label.value];
  }

  /**
   * Every `--label` filter given, as a list's repeated `?label=` is sent them (all of them must
   * match): key:value, which a server older than key=value filters also reads; a key holds no colon.
   */
  labelFilters(): string[] {
    return this.strings('label').map((l) => this.label(l).join(':'));
  }

  /**
   * A flag's value, else its environment variable's, with the name it came from: what is typed on
   * this command line is what is meant, over what a profile exported. An empty variable is unset
   * (`LIFELINE_URL= lifeline …` is the default URL, not a URL refused).
   */
  setting(flag: string, variable: string): { value: string; source: string } | undefined {
    const given = this.string(flag);
    if (given !== undefined) return { value: given, source: `--${flag}` };
    const value = this.io.env[variable];
    return value ? { value, source: variable } : undefined;
  }

  client(timeoutMs?: number): Client {
    const given = this.setting('url', 'LIFELINE_URL');
    const url = given?.value ?? DEFAULT_URL;
    if (given) httpUrl(url, given.source, this.command);
    const token = this.token();
    return new Client({ url, token, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  /**
   * ` --url <url>` for a command line this one prints to be run later (an agent's, perhaps on
   * another host without this shell's LIFELINE_URL) when `client` reached the engine elsewhere
   * than the default: printed without it, the agent hint failed "cannot reach http://127.0.0.1:8080".
   */
  urlArgument(client: Client): string {
    return client.url === DEFAULT_URL ? '' : ` --url ${shellWord(client.url)}`;
  }

  /**
   * The secret: the flags before the environment (a LIFELINE_TOKEN_FILE exported in a profile
   * used to beat a --token typed on the command line), and of either pair the file first (a file
   * only its owner reads keeps the secret out of `ps`, which shows every command line to every user).
   */
  private token(): string {
    const flagged = this.string('token-file') !== undefined || this.string('token') !== undefined;
    const file = flagged ? this.string('token-file') : this.io.env.LIFELINE_TOKEN_FILE || undefined;
    const given = flagged ? this.string('token') : this.io.env.LIFELINE_TOKEN;
    if (file !== undefined) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read the token file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, this.command);
      }
      const token = text.trim();
      if (!token) throw new UsageError(`the token file ${file} is empty`, this.command);
      return checkedToken(token, `the token file ${file}`, this.command);
    }
    // Trimmed as the token file is: fetch used to strip such spaces, so tokens given so worked.
    const token = given?.trim();
    if (token) return checkedToken(token, flagged ? '--token' : 'LIFELINE_TOKEN', this.command);
    const flags = this.command.options.token && !this.command.options.token.hidden ? 'pass --token or --token-file' : 'pass --token-file';
    throw new UsageError(`no token: ${flags}, or set LIFELINE_TOKEN or LIFELINE_TOKEN_FILE`, this.command);
  }

  /** The first --limit items when given, otherwise every item, following cursors either way. */
  fetchList<T, P extends Page<T> = Page<T>>(path: string, query: Query = {}): Promise<P> {
    return this.client().all<T, P>(path, query, this.int('limit', undefined, 1));
  }

  /** The API's answer with --json, otherwise the human rendering of it. */
  print(raw: unknown, human: () => string): void {
    this.io.stdout((this.json ? JSON.stringify(raw, null, 2) : human()) + '\n');
  }

  /** A list as a table (or its JSON); `noun` names the rows when there are none. */
  list<T>(page: Page<T>, columns: readonly Column<T>[], noun: string): void {
    this.print(page, () => {
      if (page.items.length === 0) return `No ${noun}.`;
      const more = page.next_cursor ? `\n(the first ${page.items.length}; leave out --limit to list all)` : '';
      return renderTable(columns, page.items) + more;
    });
  }
}
