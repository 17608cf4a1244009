import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Events } from '../../src/events.ts';
import { throttledWarning } from '../../src/logger.ts';
import { Loop } from '../../src/loop.ts';

describe('throttled logging', () => {
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

  it('a loop failing every pass counts each failure but logs the first only', async () => {
    const logged: string[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void logged.push((JSON.parse(s) as { msg: string }).msg) });
    const events = new Events();
    let failures = 0;
    const loop = new Loop({ name: 'sweeper', kind: 'delivery-sweeper', log, intervalMs: 0, events, runOnce: async () => Promise.reject(new Error('Redis is not connected')) });
    const fifth = new Promise<void>((resolve) => events.on('loop.error', () => ++failures === 5 && resolve()));
    loop.start();
    await fifth;
    await loop.stop();
    assert.ok(failures >= 5);
    assert.deepEqual(logged, ['loop pass failed']);
  });

  it('a loop failing because a store is away says so once per outage, without a stack, and again when it works', async () => {
    const logged: Array<{ level: number; msg: string; err?: unknown }> = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void logged.push(JSON.parse(s) as { level: number; msg: string }) });
    let passes = 0;
    let ended!: () => void;
    const stopped = new Promise<void>((resolve) => (ended = resolve));
    // Down for five passes, back for one, down for three more, back for the tenth: two outages.
    const fails = (n: number) => (n >= 1 && n <= 5) || (n >= 7 && n <= 9);
    const loop: Loop = new Loop({
      name: 'delivery-sweeper',
      kind: 'delivery-sweeper',
      log,
      intervalMs: 0,
      outage: (err) => ((err as Error).message.includes('not connected') ? 'Redis' : undefined),
      runOnce: async () => {
        passes++;
        // The loop ends after this pass (stop() is only awaited below).
        if (passes === 10) void loop.stop().then(ended);
        if (fails(passes)) throw new Error('Redis is not connected (reconnecting)');
      },
    });
    loop.start();
    await stopped;
    assert.equal(passes, 10);
    assert.deepEqual(
      logged.map((l) => [l.level, l.msg]),
      [
        [40, 'delivery-sweeper waits: Redis does not answer (said once; a line follows when it works again)'],
        [30, 'delivery-sweeper works again: Redis answers'],
        [40, 'delivery-sweeper waits: Redis does not answer (said once; a line follows when it works again)'],
        [30, 'delivery-sweeper works again: Redis answers'],
      ],
    );
    assert.ok(logged.every((l) => l.err === undefined), 'a stack was logged');
  });
});
