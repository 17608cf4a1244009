import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateChecks, type HostSample } from '../../src/cli/agent-checks.ts';

const GiB = 2 ** 30;
const healthy: HostSample = {
  disk: { freeBytes: 40 * GiB, totalBytes: 100 * GiB },
  load1: 1,
  cores: 4,
  memory: { freeBytes: 8 * GiB, totalBytes: 16 * GiB },
};

describe('evaluateChecks', () => {
  const cases: Array<[string, Partial<HostSample>, Record<string, string>]> = [
    ['a roomy, idle host is ok everywhere', {}, { disk: 'ok', load: 'ok', memory: 'ok' }],
    ['disk at exactly 10 % free is still ok', { disk: { freeBytes: 10, totalBytes: 100 } }, { disk: 'ok' }],
    ['disk just under 10 % free warns', { disk: { freeBytes: 9.99, totalBytes: 100 } }, { disk: 'warn' }],
    ['disk at exactly 5 % free warns', { disk: { freeBytes: 5, totalBytes: 100 } }, { disk: 'warn' }],
    ['disk under 5 % free fails', { disk: { freeBytes: 4.9, totalBytes: 100 } }, { disk: 'fail' }],
    ['a full disk fails', { disk: { freeBytes: 0, totalBytes: 100 } }, { disk: 'fail' }],
    ['an unreadable filesystem warns', { disk: { error: 'EACCES' } }, { disk: 'warn' }],
    ['a filesystem with no size warns', { disk: { freeBytes: 0, totalBytes: 0 } }, { disk: 'warn' }],
    ['load of exactly 2 per core is ok', { load1: 8, cores: 4 }, { load: 'ok' }],
    ['load above 2 per core warns', { load1: 8.1, cores: 4 }, { load: 'warn' }],
    ['load of exactly 4 per core warns', { load1: 16, cores: 4 }, { load: 'warn' }],
    ['load above 4 per core fails', { load1: 16.1, cores: 4 }, { load: 'fail' }],
    ['load is judged per core: 3 on one core warns', { load1: 3, cores: 1 }, { load: 'warn' }],
    ['zero reported cores count as one', { load1: 5, cores: 0 }, { load: 'fail' }],
    ['memory under 10 % free warns', { memory: { freeBytes: 9, totalBytes: 100 } }, { memory: 'warn' }],
    ['memory under 5 % free fails', { memory: { freeBytes: 4, totalBytes: 100 } }, { memory: 'fail' }],
  ];
  for (const [name, change, expected] of cases) {
    it(name, () => {
      const checks = evaluateChecks({ ...healthy, ...change });
      for (const [check, status] of Object.entries(expected)) assert.equal(checks[check]!.status, status, check);
    });
  }

  it('reports free percentages and load per core as values, rounded for reading', () => {
    const checks = evaluateChecks({ ...healthy, disk: { freeBytes: 1, totalBytes: 3 }, load1: 1, cores: 3 });
    assert.deepEqual(checks.disk, { status: 'ok', value: 33.3, message: '33.3% free of 0 MiB' });
    assert.deepEqual(checks.load, { status: 'ok', value: 0.33, message: '1-min load 1 on 3 cores' });
    assert.deepEqual(checks.memory, { status: 'ok', value: 50, message: '50% free of 16.0 GiB' });
  });

  it('judges on the exact figure, not the rounded one it shows', () => {
    const checks = evaluateChecks({ ...healthy, disk: { freeBytes: 9.99, totalBytes: 100 } });
    assert.equal(checks.disk!.value, 10);
    assert.equal(checks.disk!.status, 'warn');
  });
});
