import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OutputTail } from '../../src/jobs/model.ts';
import { run } from '../../src/cli/main.ts';
import { runCommand, wrap } from '../../src/cli/run-job.ts';

/** A ping endpoint that records each ping's path and body and answers 200. */
async function pingServer() {
  const pings: Array<{ path: string; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      pings.push({ path: req.url!, body });
      res.end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/k`;
  return { url, pings, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A ping's path without its query (the run id). */
const pathOf = (path: string) => new URL(path, 'http://engine.test').pathname;

const quiet = { stdout: () => {}, stderr: () => {} };

describe('lifeline run', () => {
  it('exits 128 + the number of any signal that ended the command, as a shell reports it', async () => {
    // SIGUSR1 is 10 and SIGBUS 7 on Linux; neither was in the wrapper's own table, which gave 128.
    assert.equal(await runCommand(['sh', '-c', 'kill -USR1 $$'], new OutputTail(), quiet), 138);
    assert.equal(await runCommand(['sh', '-c', 'kill -BUS $$'], new OutputTail(), quiet), 135);
  });

  it('does not start the command after a TERM during the start ping, and pings the end as 143', async () => {
    const pinged: string[] = [];
    let out = '';
    const ping = async (url: string) => {
      pinged.push(new URL(url).pathname);
      if (new URL(url).pathname.endsWith('/start')) process.emit('SIGTERM', 'SIGTERM');
    };
    const code = await wrap(new URL('http://engine.test/ping/k'), ['sh', '-c', 'echo ran'], { stdout: (b) => void (out += b), stderr: () => {}, warn: () => {} }, ping);
    assert.equal(code, 143);
    assert.equal(out, '');
    assert.deepEqual(pinged, ['/ping/k/start', '/ping/k/143']);
    assert.equal(process.listenerCount('SIGTERM'), 0);
  });

  it('sends a run id of its own with the start and the end of each run, keeping the query it was given', async () => {
    const pinged: URL[] = [];
    const ping = async (url: string) => void pinged.push(new URL(url));
    const io = { ...quiet, warn: () => {} };
    for (const exit of ['exit 0', 'exit 2']) await wrap(new URL('http://engine.test/ping/k?create=1'), ['sh', '-c', exit], io, ping);
    assert.deepEqual(pinged.map((u) => [u.pathname, u.searchParams.get('create')]), [['/ping/k/start', '1'], ['/ping/k/0', '1'], ['/ping/k/start', '1'], ['/ping/k/2', '1']]);
    const rids = pinged.map((u) => u.searchParams.get('rid') ?? '');
    for (const rid of rids) assert.match(rid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(rids[0], rids[1], "a run's end carries its start's id");
    assert.equal(rids[2], rids[3]);
    assert.notEqual(rids[0], rids[2], 'each run has its own');
  });

  it("takes the flags after the command's first word as the command's, and shows -- in its usage", async () => {
    const engine = await pingServer();
    try {
      const code = await run(['run', '--ping-url', engine.url, 'sh', '-c', 'exit 3'], { ...quiet, env: {} });
      assert.equal(code, 3);
      assert.deepEqual(engine.pings.map((p) => pathOf(p.path)), ['/ping/k/start', '/ping/k/3']);
    } finally {
      await engine.close();
    }
    let help = '';
    assert.equal(await run(['run', '--help'], { stdout: (t) => void (help += t), stderr: () => {}, env: {} }), 0);
    assert.match(help, /^Usage: lifeline run \[--ping-url url\] -- <command\.\.\.>$/m);
  });

  it('survives a reader that goes away (| head -1): the command meets the closed pipe as without it, and the end is pinged', async () => {
    const engine = await pingServer();
    try {
      const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
      const script = `const { run } = await import(${JSON.stringify(main)}); process.exitCode = await run(process.argv.slice(1));`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'run', '--ping-url', engine.url, '--', 'sh', '-c', 'while :; do echo line; done'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      // What head -1 does: read the first line, then close its end of the pipe.
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise((resolve) => child.on('close', resolve));
      // A shell pipeline reports `sh` killed by SIGPIPE as 141, and so does the wrapper.
      assert.equal(code, 141, stderr);
      assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
      assert.deepEqual(engine.pings.map((p) => pathOf(p.path)), ['/ping/k/start', '/ping/k/141']);
      // The end ping carries the output's end: where its 10 kB begin follows the pipe's reads (the
      // wrapper stops reading when the reader goes, so one may have taken part of a line), and the
      // shell may add its own complaint on stderr (dash: "echo: I/O error").
      assert.match(engine.pings[1]!.body, /line\nline\n/);
    } finally {
      await engine.close();
    }
  });
});
