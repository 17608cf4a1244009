// `lifeline <command> [args] [flags]`: commander finds the command, parses its flags strictly,
// answers --help and --version and suggests the nearest name for a typo; this module turns what
// went wrong into a line on stderr (a JSON object under --json) and an exit code (EXIT).

import { Command as Program, CommanderError, Help, Option } from 'commander';
import { DEFAULT_URL } from '../config.ts';
import { NoDatabaseError } from '../embedded/database.ts';
import { PACKAGE_VERSION } from '../package-files.ts';
import { adminCreateKeyCommand } from './admin.ts';
import { agentCommand } from './agent.ts';
import { backupCommand, restoreCommand } from './backup.ts';
import { ApiRequestError, ConnectionError, describeError, NotLifelineError, RefusedError, retryable, UnusableUrlError, type ErrorDetail } from './client.ts';
import { Context, UsageError, type Command, type Io, type OptionSpec } from './command.ts';
import { incidentCommands } from './incidents.ts';
import { keyCommands } from './keys.ts';
import { maintenanceCommands } from './maintenance.ts';
import { migrateCommand } from './migrate.ts';
import { nodeCommands, scriptAsRun } from './nodes.ts';
import { oncallCommand } from './oncall.ts';
import { relay, runJobCommand } from './run-job.ts';
import { runsCommand } from './runs.ts';
import { uptimeCommand } from './uptime.ts';

export const COMMANDS: readonly Command[] = [
  ...keyCommands,
  ...nodeCommands,
  ...incidentCommands,
  ...maintenanceCommands,
  oncallCommand,
  uptimeCommand,
  runsCommand,
  agentCommand,
  runJobCommand,
  migrateCommand,
  backupCommand,
  restoreCommand,
  adminCreateKeyCommand,
];

/** What `lifeline <group> --help` says of the two-word commands' first word. */
const GROUPS: Record<string, string> = {
  keys: 'create and list API keys',
  nodes: 'register, change and delete nodes and list their health',
  incidents: 'list, acknowledge and resolve incidents',
  maintenance: 'start, end and list maintenance windows, in which nobody is paged',
  admin: 'work on the database directly, without the API',
};

/**
 * The process's own streams, through `relay` as `lifeline run` copies its command's output: a
 * reader that stopped reading (`lifeline nodes list | head -2`) makes the writes EPIPE, which
 * crashed the CLI with a stack and exit 1 ("the engine refused"); now the rest of the output is
 * dropped and the exit code is the command's own, 0 for a list shown. Made on the first run, so
 * importing this module adds no listener to the process's streams.
 */
let processIo: Io | undefined;
const ownIo = (): Io =>
  (processIo ??= { stdout: relay(process.stdout), stderr: relay(process.stderr), env: process.env, invokedAs: { script: scriptAsRun(process.argv[1], process.env), node: process.execPath } });

const sentence = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}.`;

/** `--interval 30`: the flag with its hint, as the synopsis and README write it. */
const flagTerm = (name: string, o: OptionSpec) => (o.type === 'boolean' ? `--${name}` : `--${name} ${o.hint ?? name}`);

/**
 * A command ending in `<command...>` (`lifeline run`) takes everything from that command's first
 * word on as the command's own, its flags too: `run --ping-url U sh -c 'exit 3'` runs `sh -c`.
 */
const takesCommand = (c: Command) => c.args?.at(-1)?.endsWith('...>') ?? false;

/** Everything after `lifeline nodes add`: `<name> [--url url] … [--label k=v …]`; `run`'s flags come first, then `--`. */
function synopsis(c: Command): string {
  const flags = Object.entries(c.options)
    .filter(([, o]) => !o.hidden)
    .map(([name, o]) => `[${flagTerm(name, o)}${o.multiple ? ' …' : ''}]`);
  return (takesCommand(c) ? [...flags, '--', ...(c.args ?? [])] : [...(c.args ?? []), ...flags]).join(' ');
}

/** A command's words below `lifeline`, with its arguments: `nodes add <name>`. */
function term(p: Program): string {
  const words = p.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
  for (let at: Program | null = p; at?.parent; at = at.parent) words.unshift(at.name());
  return words.join(' ');
}

/** A helper that knows whether it is formatting help: commander prepares its context only for that. */
interface Listing extends Help {
  listing?: boolean;
}

/**
 * The top-level help lists every command with its arguments rather than the groups, so one
 * `lifeline --help` shows all there is; a group's help lists its own commands the same way. Only
 * the listing flattens the groups: the names a typo is matched against are the root's own, so
 * `lifeline nodse list` suggests `nodes` (among the flattened names it matched nothing).
 */
const HELP: Partial<Listing> = {
  prepareContext(this: Listing, context) {
    Help.prototype.prepareContext.call(this, context);
    this.listing = true;
  },
  visibleCommands(this: Listing, p) {
    return (this.listing && !p.parent ? p.commands.flatMap((c) => (c.commands.length ? c.commands : [c])) : p.commands) as Program[];
  },
  subcommandTerm: (p) => term(p as Program),
};

/** commander's verdict on a command line, thrown out of its parse with the command it was about. */
class CommandLineError extends Error {
  constructor(
    readonly error: CommanderError,
    readonly program: Program,
  ) {
    super(error.message);
  }
}

interface Output extends Io {
  /** Help that goes with an error: held back so that the error's own line comes first. */
  helpForError(text: string): void;
  /** The command about to run, whose --json an error it throws is printed by. */
  started(p: Program): void;
  /** The exit code a command asked for. */
  exitWith(code: number): void;
}

/**
 * Output and exits are ours, not commander's: it writes help to our stdout (or, with an error,
 * to `helpForError`), leaves the error line to us, and throws instead of exiting, so tests can
 * run the CLI in-process.
 */
function configured(p: Program, out: Output): Program {
  return p
    .configureOutput({ writeOut: out.stdout, writeErr: out.helpForError, outputError: () => {} })
    .exitOverride((error) => {
      throw new CommandLineError(error, p);
    })
    .helpOption('-h, --help', 'show this help')
    .configureHelp(HELP);
}

function leaf(c: Command, name: string, out: Output): Program {
  const p = configured(new Program(name), out)
    .summary(c.summary)
    .description(sentence(c.summary))
    .usage(synopsis(c))
    .addHelpText('after', `\nExample: ${c.example}`);
  for (const arg of c.args ?? []) p.argument(arg);
  if (takesCommand(c)) p.passThroughOptions();
  for (const [flag, o] of Object.entries(c.options)) {
    const option = new Option(o.type === 'boolean' ? `--${flag}` : `--${flag} <${o.hint ?? flag}>`, o.description);
    if (o.multiple) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    p.addOption(o.hidden ? option.hideHelp() : option);
  }
  return p.action(async () => {
    out.started(p);
    const code = await c.run(new Context(c, p.opts(), p.args, out)).catch((err: unknown) => {
      // Only the command knows which of its flags set the URL; a URL it cannot use is a wrong command line.
      throw err instanceof UnusableUrlError ? new UsageError(err.message, c) : err;
    });
    if (typeof code === 'number') out.exitWith(code);
  });
}

/** The command tree for one run (commander keeps parse state on it); `leaves` maps ours to its. */
function program(out: Output): { root: Program; leaves: Map<Command, Program> } {
  // Needed by passThroughOptions below it; the root's own flags are only --help and --version.
  const root = configured(new Program('lifeline'), out)
    .enablePositionalOptions()
    .usage('<command> [args] [flags]')
    .version(PACKAGE_VERSION, '-V, --version', 'print the version')
    .addHelpText(
      'after',
      [
        '',
        `API commands take --url (LIFELINE_URL, default ${DEFAULT_URL}), --token (LIFELINE_TOKEN) or`,
        '--token-file (LIFELINE_TOKEN_FILE), and --json (the API answer as it is; an error as JSON on stderr).',
        'Exit codes: 0 done, 1 the engine refused, 2 a wrong command line, 3 the engine not reached or',
        "busy (408, 429, 5xx: try later), 4 anything else; `lifeline run` exits with its command's own code.",
        '`lifeline <command> --help` shows a command\'s flags,',
        '`lifeline <group> --help` the commands of a group (keys, nodes, incidents, maintenance, admin).',
      ].join('\n'),
    );
  const leaves = new Map<Command, Program>();
  const groups = new Map<string, Program>();
  for (const c of COMMANDS) {
    const [first, second] = c.name.split(' ') as [string, string | undefined];
    let parent = root;
    if (second !== undefined) {
      if (!groups.has(first)) {
        const group = configured(new Program(first), out).usage('<command> [flags]').summary(GROUPS[first]!).description(sentence(GROUPS[first]!));
        root.addCommand(group);
        groups.set(first, group);
      }
      parent = groups.get(first)!;
    }
    const p = leaf(c, second ?? first, out);
    parent.addCommand(p);
    leaves.set(c, p);
  }
  return { root, leaves };
}

/** commander's complaint in the words this CLI has always used, keeping its "(Did you mean …?)". */
function complaint({ error, program: p }: CommandLineError): string {
  const suggestion = /\n\(Did you mean .*\?\)$/.exec(error.message)?.[0] ?? '';
  /** The command the words name, as far as two words go: `nodes frob`. */
  const named = (args: string[]) => [...term(p).split(' ').filter(Boolean), ...args.filter((a) => !a.startsWith('-'))].slice(0, 2).join(' ');
  switch (error.code) {
    case 'commander.unknownCommand':
      return `unknown command "${named(p.args)}"${suggestion}`;
    case 'commander.unknownOption':
      return error.message.replace(/^error: unknown/, 'Unknown');
    case 'commander.missingArgument':
      return `missing ${p.registeredArguments.slice(p.args.length).map((a) => `<${a.name()}>`).join(' ')}`;
    case 'commander.excessArguments':
      return `unexpected argument "${p.args[p.registeredArguments.length]}"`;
    case 'commander.help': {
      // A group without a command, or `lifeline help <a name it does not know>`; flags name no
      // command (`lifeline help --json` said unknown command "").
      const asked = p.args.filter((a) => a !== 'help' && !a.startsWith('-'));
      return asked.length ? `unknown command "${named(asked)}"` : 'no command given';
    }
    default:
      return error.message.replace(/^error: /, '');
  }
}

/**
 * The exit codes, as README's CLI section lists them (`lifeline run` exits with its command's own
 * code instead): a script can tell an answer saying no (1) from a command line to fix (2) from an
 * engine to try again later (3), which all used to be 1 but for the command line.
 */
export const EXIT = {
  ok: 0,
  /** An answer saying no (a 4xx but 408, 429 and a 409 with Retry-After), or what answered is not Lifeline. */
  refused: 1,
  /** A wrong command line: an unknown command or flag, a bad value, no token, an unusable URL. */
  usage: 2,
  /**
   * No answer (refused, reset, DNS, nothing within the timeout), or one saying try later: 408,
   * 429 and any 5xx, as the agent retries them (`retryable`): a proxy answers 502 or 503 while
   * the engine behind it is down, which is not the engine saying no. So is a 409 with Retry-After:
   * the first request under the same Idempotency-Key is still being answered.
   */
  unreachable: 3,
  /** Anything else: the database (`migrate`, `backup`, `restore`, `admin create-key`), an endless cursor, a fault of the CLI's own. */
  failed: 4,
} as const;

/** An error as a --json caller reads it: the API's error shape, with the HTTP status when the engine answered. */
interface ErrorJson {
  code: string;
  message: string;
  details?: ErrorDetail[];
  status?: number;
}

/** What went wrong once the command line was understood: its exit code, its text and its JSON. */
function failure(err: unknown): { exit: number; text: string; json: ErrorJson } {
  if (err instanceof ApiRequestError) {
    const details = err.details.length ? { details: err.details } : {};
    // A 503 or a proxy's 502 is the engine away, not saying no: 3, as the agent retries it.
    const exit = retryable(err) ? EXIT.unreachable : EXIT.refused;
    return { exit, text: describeError(err), json: { code: err.code, message: err.message, ...details, status: err.status } };
  }
  if (err instanceof RefusedError) return { exit: EXIT.refused, text: `error: ${err.message}`, json: { code: err.code, message: err.message } };
  if (err instanceof NotLifelineError) return { exit: EXIT.refused, text: `error: ${err.message}`, json: { code: 'not_lifeline', message: err.message, status: err.status } };
  if (err instanceof ConnectionError) return { exit: EXIT.unreachable, text: describeError(err), json: { code: 'unreachable', message: err.message } };
  const message = (err as Error).message;
  // No database where it looked: a --json caller tells it from a failure on the database it found.
  const code = err instanceof NoDatabaseError ? 'no_database' : 'failed';
  return { exit: EXIT.failed, text: `error: ${message}`, json: { code, message } };
}

export async function run(argv: string[], io: Io = ownIo()): Promise<number> {
  let help = '';
  let exitCode = 0;
  let current: Program | undefined;
  const { root, leaves } = program({
    ...io,
    helpForError: (text) => void (help += text),
    started: (p) => void (current = p),
    exitWith: (code) => void (exitCode = code),
  });
  /**
   * An error about `p` goes out as JSON when its --json was given, as commander read it; for the
   * root or a group (an unknown command) when `--json` is among the words before any `--`.
   */
  const asJson = (p: Program) => {
    if (!p.commands.length) return p.opts().json === true;
    const end = argv.indexOf('--');
    return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  };
  /** The error line, then the help of the command it is about (commander may have written it); under --json the object alone. */
  const usageError = (message: string, p: Program) => {
    if (asJson(p)) {
      io.stderr(JSON.stringify({ error: { code: 'usage', message } satisfies ErrorJson }) + '\n');
      return EXIT.usage;
    }
    if (!help) p.outputHelp({ error: true });
    io.stderr(`lifeline: ${message}\n\n${help}`);
    return EXIT.usage;
  };
  try {
    await root.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommandLineError) {
      // --help, --version and `lifeline help` end the parse this way too, successfully.
      return err.error.exitCode === 0 ? EXIT.ok : usageError(complaint(err), err.program);
    }
    if (err instanceof UsageError) return usageError(err.message, (err.command && leaves.get(err.command)) ?? root);
    const { exit, text, json } = failure(err);
    io.stderr((current && asJson(current) ? JSON.stringify({ error: json }) : text) + '\n');
    return exit;
  }
}
