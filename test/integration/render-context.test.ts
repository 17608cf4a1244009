import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

describe('pages rendered with hono/jsx', () => {
  it('leave no promise hook on in the process once served', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/helpers/page-render-child.ts'], { timeout: 120_000 });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { kinds: string[]; asyncId: number };
    assert.deepEqual(out.kinds, ['404 text/html; charset=UTF-8', '200 text/html; charset=UTF-8'], 'both pages were rendered as HTML');
    assert.equal(out.asyncId, 0, 'a promise hook is on: every promise in the process now costs more');
  });
});
