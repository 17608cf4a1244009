// `lifeline <command> [args] [flags]`: finds the command, parses its flags strictly, runs it, and
// turns what went wrong into an exit code: 2 for a wrong command line, 1 for anything else.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { agentCommand } from './agent.ts';
import { ApiRequestError, ConnectionError, describeError } from './client.ts';
import { Context, UsageError, type Command, type Io } from './command.ts';
import { incidentCommands } from './incidents.ts';
import { keyCommands } from './keys.ts';
import { migrateCommand } from './migrate.ts';
import { nodeCommands } from './nodes.ts';
import { uptimeCommand } from './uptime.ts';

export const COMMANDS: readonly Command[] = [
  ...keyCommands,
  ...nodeCommands,
  ...incidentCommands,
  uptimeCommand,
  agentCommand,
  migrateCommand,
];

const processIo: Io = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  env: process.env,
};

function synopsis(c: Command): string {
  const flags = Object.entries(c.options).map(([name, o]) => {
    const flag = o.type === 'boolean' ? `--${name}` : `--${name} ${o.hint ?? name}`;
    return `[${flag}${o.multiple ? ' …' : ''}]`;
  });
  return ['lifeline', c.name, ...(c.args ?? []), ...flags].join(' ');
}

export function usage(only?: Command): string {
  if (only) {
    const flags = Object.entries(only.options)
      .filter(([, o]) => o.description)
      .map(([name, o]) => `  --${name.padEnd(10)} ${o.description}`);
    const summary = only.summary[0]!.toUpperCase() + only.summary.slice(1);
    return [`Usage: ${synopsis(only)}`, '', `${summary}.`, ...(flags.length ? ['', ...flags] : []), '', `Example: ${only.example}`].join('\n');
  }
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${(c.args ?? []).join(' ')}`.length));
  const lines = COMMANDS.map((c) => `  ${`${c.name} ${(c.args ?? []).join(' ')}`.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: lifeline <command> [args] [flags]',
    '',
    'Commands:',
    ...lines,
    '',
    `API commands take --url (LIFELINE_URL, default http://127.0.0.1:8080), --token (LIFELINE_TOKEN)`,
    'and --json (the API answer as it is). `lifeline <command> --help` shows a command\'s flags.',
  ].join('\n');
}

/** The longest command name the words start with: `nodes add web-1` → `nodes add`. */
function find(argv: string[]): { command: Command; rest: string[] } {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  const words = argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ');
  throw new UsageError(words ? `unknown command "${words}"` : 'no command given');
}

function parse(command: Command, rest: string[], io: Io): Context | 'help' {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(command.options)) options[name] = { type: o.type, multiple: o.multiple ?? false };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs names the flag in its first sentence; the usage below says what is accepted.
    throw new UsageError((err as Error).message.split('. ')[0]!, command);
  }
  if (parsed.values.help) return 'help';
  const expected = command.args ?? [];
  if (parsed.positionals.length !== expected.length) {
    const problem = parsed.positionals.length < expected.length ? `missing ${expected.slice(parsed.positionals.length).join(' ')}` : `unexpected argument "${parsed.positionals[expected.length]}"`;
    throw new UsageError(problem, command);
  }
  return new Context(command, parsed.values, parsed.positionals, io);
}

export async function run(argv: string[], io: Io = processIo): Promise<number> {
  if (argv.length === 1 && ['help', '--help', '-h'].includes(argv[0]!)) {
    io.stdout(usage() + '\n');
    return 0;
  }
  try {
    const { command, rest } = find(argv);
    const ctx = parse(command, rest, io);
    if (ctx === 'help') {
      io.stdout(usage(command) + '\n');
      return 0;
    }
    await command.run(ctx);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`lifeline: ${err.message}\n\n${usage(err.command)}\n`);
      return 2;
    }
    if (err instanceof ApiRequestError || err instanceof ConnectionError) {
      io.stderr(describeError(err) + '\n');
      return 1;
    }
    io.stderr(`error: ${(err as Error).message}\n`);
    return 1;
  }
}
