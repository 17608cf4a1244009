import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RANGE_MS, resolveWindow, UPTIME_WINDOWS, type WindowParams } from '../../src/uptime/windows.ts';
import { DAY, at } from '../helpers/uptime-history.ts';

describe('resolveWindow', () => {
  const now = at('2026-11-21T10:00:00.000Z');
  const iso = (t: number): string => new Date(t).toISOString();

  const valid: Array<[string, WindowParams, number, number]> = [
    ['defaults to 30 days', {}, now - 30 * DAY, now],
    ...Object.entries(UPTIME_WINDOWS).map(
      ([window, length]): [string, WindowParams, number, number] => [
        `accepts window ${window}`, { window }, now - length, now,
      ],
    ),
    [
      'accepts an explicit range',
      { from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T00:00:00.000Z' },
      at('2026-11-01T00:00:00.000Z'),
      at('2026-11-02T00:00:00.000Z'),
    ],
    [
      'applies offsets and fractions',
      { from: '2026-11-20T02:00:00+02:00', to: '2026-11-20T19:30:00.5-04:30' },
      at('2026-11-20T00:00:00.000Z'),
      at('2026-11-21T00:00:00.500Z'),
    ],
    [
      'accepts lower-case separators and truncates sub-millisecond fractions',
      { from: '2026-11-20t00:00:00.123999z', to: '2026-11-20 01:00:00Z' },
      at('2026-11-20T00:00:00.123Z'),
      at('2026-11-20T01:00:00.000Z'),
    ],
    [
      'clips a future end to now',
      { from: '2026-11-20T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' },
      at('2026-11-20T00:00:00.000Z'),
      now,
    ],
    ['accepts a range of exactly 3 × 366 days', { from: iso(now - 3 * 366 * DAY), to: iso(now) }, now - MAX_RANGE_MS, now],
    [
      'bounds the range after clipping to now',
      { from: iso(now - 1000 * DAY), to: iso(now + 500 * DAY) },
      now - 1000 * DAY,
      now,
    ],
  ];
  for (const [name, params, from, to] of valid) {
    it(name, () => assert.deepEqual(resolveWindow(params, now), { from, to }));
  }

  const invalid: Array<[string, WindowParams, 'window' | 'from' | 'to']> = [
    ['rejects an unknown window', { window: '1w' }, 'window'],
    ['rejects an empty window', { window: '' }, 'window'],
    ['rejects a window inherited from Object.prototype', { window: 'toString' }, 'window'],
    ['rejects window together with from', { window: '7d', from: '2026-11-01T00:00:00Z' }, 'window'],
    ['rejects window together with to', { window: '7d', to: '2026-11-01T00:00:00Z' }, 'window'],
    ['rejects from without to', { from: '2026-11-01T00:00:00Z' }, 'to'],
    ['rejects to without from', { to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects words', { from: 'yesterday', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects a date without a time', { from: '2026-10-01', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects a time without an offset', { from: '2026-10-01T00:00:00', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects an impossible day', { from: '2026-10-01T00:00:00Z', to: '2026-02-30T00:00:00Z' }, 'to'],
    ['rejects hour 24', { from: '2026-10-01T00:00:00Z', to: '2026-11-01T24:00:00Z' }, 'to'],
    ['rejects a leap second', { from: '2026-10-01T00:00:00Z', to: '2026-11-01T23:59:60Z' }, 'to'],
    ['rejects an impossible offset', { from: '2026-10-01T00:00:00+24:00', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects from equal to to', { from: '2026-11-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects from after to', { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'from'],
    ['rejects a range wholly in the future', { from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' }, 'from'],
    ['rejects a range over 3 × 366 days', { from: iso(now - MAX_RANGE_MS - 1), to: iso(now) }, 'from'],
  ];
  for (const [name, params, field] of invalid) {
    it(name, () => {
      const result = resolveWindow(params, now);
      assert.ok('error' in result, `expected an error, got ${JSON.stringify(result)}`);
      assert.equal(result.error.field, field);
      assert.match(result.error.message, /\S/);
    });
  }
});
