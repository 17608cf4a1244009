import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer } from 'node:net';
import { run } from '../../src/cli/main.ts';

/** Runs the CLI in this process with captured output and an environment of our choosing. */
async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the command line', () => {
  it('prints every command on --help, to stdout, exit 0', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['keys create', 'nodes add <name>', 'incidents resolve <id>', 'uptime <node>', 'agent', 'migrate']) assert.match(r.stdout, new RegExp(c));
  });

  it("prints a command's flags on <command> --help", async () => {
    const r = await cli(['nodes', 'add', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: lifeline nodes add <name> .*\[--label k=v …\]/);
  });

  const usageErrors: Array<[string, string[], RegExp]> = [
    ['no command', [], /no command given/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown subcommand', ['nodes', 'frob'], /unknown command "nodes frob"/],
    ['an unknown flag', ['nodes', 'list', '--bogus'], /Unknown option '--bogus'/],
    ['a missing argument', ['incidents', 'ack'], /missing <id>/],
    ['an extra argument', ['nodes', 'list', 'web-1'], /unexpected argument "web-1"/],
    ['a flag without its value', ['nodes', 'add', 'web-1', '--interval'], /--interval/],
    ['a number that is not one', ['nodes', 'add', 'web-1', '--interval', 'soon', '--token', 't'], /--interval must be a whole number of at least 1, got "soon"/],
    ['a label without =', ['nodes', 'add', 'web-1', '--label', 'role', '--token', 't'], /--label must be key=value, got "role"/],
    ['no token', ['nodes', 'list'], /no token: pass --token or set LIFELINE_TOKEN/],
    ['keys create without its flags', ['keys', 'create', '--token', 't'], /needs --name and --scope/],
  ];
  for (const [what, argv, message] of usageErrors) {
    it(`exits 2 with usage on stderr for ${what}`, async () => {
      const r = await cli(argv);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Usage: lifeline/);
    });
  }

  it('exits 1 with one readable line when the engine cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await cli(['nodes', 'list'], { LIFELINE_URL: url, LIFELINE_TOKEN: 't' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: cannot reach ${url}: ECONNREFUSED\n`);
  });
});
