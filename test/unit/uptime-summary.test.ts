import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyStateMs, type StateMs } from '../../src/uptime/state-time.ts';
import { summarize } from '../../src/uptime/summary.ts';
import { stateMs } from '../helpers/uptime-history.ts';

describe('summarize', () => {
  const cases: Array<{
    name: string;
    ms: Partial<StateMs>;
    expected: ReturnType<typeof summarize>;
  }> = [
    {
      name: 'reports no ratio when nothing was counted',
      ms: {},
      expected: {
        uptime_ratio: null,
        up_seconds: 0,
        monitored_seconds: 0,
        seconds: { healthy: 0, degraded: 0, down: 0, maintenance: 0, unknown: 0 },
      },
    },
    {
      name: 'reports no ratio when only unknown and maintenance were counted',
      ms: { unknown: 5000, maintenance: 7000 },
      expected: {
        uptime_ratio: null,
        up_seconds: 0,
        monitored_seconds: 0,
        seconds: { healthy: 0, degraded: 0, down: 0, maintenance: 7, unknown: 5 },
      },
    },
    {
      name: 'reports seconds with millisecond precision',
      ms: { healthy: 1234, degraded: 1, down: 5, maintenance: 999, unknown: 1 },
      expected: {
        uptime_ratio: 1235 / 1240,
        up_seconds: 1.235,
        monitored_seconds: 1.24,
        seconds: { healthy: 1.234, degraded: 0.001, down: 0.005, maintenance: 0.999, unknown: 0.001 },
      },
    },
    {
      name: 'takes the ratio from milliseconds, not from whole seconds',
      ms: { healthy: 1400, down: 600 },
      expected: {
        uptime_ratio: 0.7,
        up_seconds: 1.4,
        monitored_seconds: 2,
        seconds: { healthy: 1.4, degraded: 0, down: 0.6, maintenance: 0, unknown: 0 },
      },
    },
    {
      // 0.001 / 0.009 is not the double closest to 1/9; integer milliseconds give the exact one.
      name: 'takes the ratio from integer milliseconds, not from fractional seconds',
      ms: { healthy: 1, down: 8 },
      expected: {
        uptime_ratio: 1 / 9,
        up_seconds: 0.001,
        monitored_seconds: 0.009,
        seconds: { healthy: 0.001, degraded: 0, down: 0.008, maintenance: 0, unknown: 0 },
      },
    },
  ];

  for (const c of cases) {
    it(c.name, () => assert.deepEqual(summarize(stateMs(c.ms)), c.expected));
  }

  it('lists seconds in the contract order', () => {
    assert.deepEqual(Object.keys(summarize(emptyStateMs()).seconds), [
      'healthy', 'degraded', 'down', 'maintenance', 'unknown',
    ]);
  });
});
