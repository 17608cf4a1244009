import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throttledWarning } from '../../src/logger.ts';

describe('throttledWarning', () => {
  it('logs the first of a burst, then at most once a minute saying how many it held back', () => {
    const lines: Array<[Record<string, unknown>, string]> = [];
    let now = 1_000_000;
    const warn = throttledWarning({ warn: ((fields: Record<string, unknown>, msg: string) => void lines.push([fields, msg])) as never }, 60_000, () => now);
    warn({ error: 'connect ECONNREFUSED' }, 'Redis does not answer');
    for (let s = 1; s < 60; s++) {
      now += 1000; // ioredis reconnects about once a second
      warn({ error: 'connect ECONNREFUSED' }, 'Redis does not answer');
    }
    assert.deepEqual(lines, [[{ error: 'connect ECONNREFUSED' }, 'Redis does not answer']]);
    now += 1000;
    warn({ error: 'connect ECONNREFUSED' }, 'Redis does not answer');
    assert.deepEqual(lines[1], [{ error: 'connect ECONNREFUSED', repeated: 59 }, 'Redis does not answer']);
    assert.equal(lines.length, 2);
  });
});
