import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { createSql } from '../../src/db/client.ts';
import { BASE_URL, urlFor } from '../helpers/db.ts';
import { ROOT } from '../helpers/engine-process.ts';

const dbName = `lifeline_e2e_demo_${randomBytes(4).toString('hex')}`;

after(async () => {
  const admin = createSql(BASE_URL, { dedicated: true });
  await admin`drop database if exists ${admin(dbName)} with (force)`;
  await admin.end();
});

describe('npm run demo', () => {
  it('in CI mode, shows an incident opened and resolved with its emails, and exits 0', { timeout: 90_000 }, async () => {
    const demo = spawn(process.execPath, ['--import', 'tsx', 'test/demo/run.ts', '--ci'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: urlFor(dbName),
        LIFELINE_QUEUE_PREFIX: `lifeline-e2e-demo-${randomBytes(4).toString('hex')}`,
        SMTP_URL: '',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Like Ctrl-C if it ever hangs: the demo stops its fleet and engine and says what it saw.
      timeout: 75_000,
      killSignal: 'SIGINT',
    });
    let out = '';
    demo.stdout.on('data', (d: Buffer) => (out += d));
    demo.stderr.on('data', (d: Buffer) => (out += d));
    const [code] = (await once(demo, 'exit')) as [number];
    assert.equal(code, 0, out);
    assert.match(out, /node +▼ web-07 healthy → down/);
    assert.match(out, /incident opened: web-07 is down \(node_down, critical\)/);
    assert.match(out, /email +to oncall@demo\.example: \[Lifeline\] DOWN: web-07/);
    assert.match(out, /incident resolved: web-07 is down, by auto/);
    assert.match(out, /email +to oncall@demo\.example: \[Lifeline\] RESOLVED: web-07/);
    assert.match(out, /uptime +fleet of 50: \d+\.\d+%/);
    assert.match(out, /result +PASS: \d+ incidents opened, \d+ resolved/);
  });
});
