import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../helpers/engine-process.ts';

let parent: string;

before(async () => {
  parent = await mkdtemp(join(tmpdir(), 'lifeline-demo-'));
  // As root, the embedded Postgres runs as another account, which must pass through.
  await chmod(parent, 0o711);
});
after(async () => {
  await rm(parent, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('on the embedded default, in CI mode, shows an incident opened and resolved with its emails, and exits 0', { timeout: 300_000 }, async () => {
    const { DATABASE_URL: _ignored, ...env } = process.env;
    const demo = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts', '--ci', '--data-dir', join(parent, 'data')], {
      cwd: ROOT,
      env: {
        ...env,
        LIFELINE_QUEUE_PREFIX: `lifeline-e2e-demo-${randomBytes(4).toString('hex')}`,
        SMTP_URL: '',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Like Ctrl-C if it ever hangs: the demo stops its fleet and engine and says what it saw.
      timeout: 280_000,
      killSignal: 'SIGINT',
    });
    let out = '';
    demo.stdout.on('data', (d: Buffer) => (out += d));
    demo.stderr.on('data', (d: Buffer) => (out += d));
    const [code] = (await once(demo, 'exit')) as [number];
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`engine +starting on its own Postgres in ${join(parent, 'data')}`));
    assert.match(out, /node +▼ web-07 healthy → down/);
    assert.match(out, /incident opened: web-07 is down \(node_down, critical\)/);
    assert.match(out, /email +to oncall@demo\.example: \[Lifeline\] DOWN: web-07/);
    assert.match(out, /incident resolved: web-07 is down, by auto/);
    assert.match(out, /email +to oncall@demo\.example: \[Lifeline\] RESOLVED: web-07/);
    assert.match(out, /uptime +fleet of 50: \d+\.\d+%/);
    assert.match(out, /result +PASS: \d+ incidents opened, \d+ resolved/);
  });
});
