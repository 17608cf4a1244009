import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_CHECKS, evaluateChecks, parseCheckList, parseLimits, THRESHOLDS, type HostSample } from '../../src/cli/agent-checks.ts';

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
      const checks = evaluateChecks({ ...healthy, ...change }, ALL_CHECKS);
      for (const [check, status] of Object.entries(expected)) assert.equal(checks[check]!.status, status, check);
    });
  }

  it('reports free percentages and load per core as values, rounded for reading', () => {
    const checks = evaluateChecks({ ...healthy, disk: { freeBytes: 1, totalBytes: 3 }, load1: 1, cores: 3 }, ALL_CHECKS);
    assert.deepEqual(checks.disk, { status: 'ok', value: 33.3, message: '33.3% free of 0 MiB' });
    assert.deepEqual(checks.load, { status: 'ok', value: 0.33, message: '1-min load 1 on 3 cores' });
    assert.deepEqual(checks.memory, { status: 'ok', value: 50, message: '50% free of 16.0 GiB' });
  });

  it('judges on the exact figure, not the rounded one it shows', () => {
    const checks = evaluateChecks({ ...healthy, disk: { freeBytes: 9.99, totalBytes: 100 } }, ALL_CHECKS);
    assert.equal(checks.disk!.value, 10);
    assert.equal(checks.disk!.status, 'warn');
  });
});

describe('evaluateChecks with chosen checks and limits', () => {
  // A busy 2-core box at load 5.8 (2.9 per core) warned under the fixed limit of 2 and paged on-call.
  const busy: HostSample = { ...healthy, load1: 5.8, cores: 2 };

  it('judges load on the limits given: 2.9 per core is ok under 4:8, warns under the default 2:4', () => {
    assert.equal(evaluateChecks(busy, ALL_CHECKS).load!.status, 'warn');
    const limits = { ...THRESHOLDS, loadPerCore: { warn: 4, fail: 8 } };
    assert.equal(evaluateChecks(busy, { checks: ALL_CHECKS.checks, limits }).load!.status, 'ok');
    assert.equal(evaluateChecks({ ...busy, load1: 8.2 }, { checks: ALL_CHECKS.checks, limits }).load!.status, 'warn');
    assert.equal(evaluateChecks({ ...busy, load1: 16.2 }, { checks: ALL_CHECKS.checks, limits }).load!.status, 'fail');
  });

  it('judges free space on the limits given', () => {
    const limits = { ...THRESHOLDS, diskFreePercent: { warn: 30, fail: 20 }, memoryFreePercent: { warn: 60, fail: 55 } };
    const checks = evaluateChecks({ ...healthy, disk: { freeBytes: 25, totalBytes: 100 } }, { checks: ALL_CHECKS.checks, limits });
    assert.equal(checks.disk!.status, 'warn');
    assert.equal(checks.memory!.status, 'fail');
  });

  it('sends only the checks chosen, in the order it always has, and none for an empty list', () => {
    const limits = THRESHOLDS;
    assert.deepEqual(Object.keys(evaluateChecks(busy, { checks: ['memory', 'disk'], limits })), ['disk', 'memory']);
    assert.deepEqual(Object.keys(evaluateChecks(busy, { checks: ['load'], limits })), ['load']);
    assert.deepEqual(evaluateChecks(busy, { checks: [], limits }), {});
  });
});

describe('parsing the agent\'s check flags', () => {
  it('reads a list of checks, none as no checks, in any order and case of spaces', () => {
    assert.deepEqual(parseCheckList('disk,memory,load'), ['disk', 'memory', 'load']);
    assert.deepEqual(parseCheckList(' load , disk'), ['load', 'disk']);
    assert.deepEqual(parseCheckList('none'), []);
  });

  const badLists: Array<[string, RegExp]> = [
    ['cpu', /must be a comma-separated list of disk, memory, load, or none; "cpu" is no check/],
    ['disk,,load', /"" is no check/],
    ['', /"" is no check/],
    ['disk,disk', /names disk twice/],
    ['none,disk', /none stands alone/],
  ];
  for (const [raw, problem] of badLists) {
    it(`refuses --checks "${raw}"`, () => {
      const r = parseCheckList(raw);
      assert.ok('problem' in r, JSON.stringify(r));
      assert.match(r.problem, problem);
    });
  }

  it('reads WARN:FAIL, decimals too', () => {
    assert.deepEqual(parseLimits('4:8', 'above'), { warn: 4, fail: 8 });
    assert.deepEqual(parseLimits('2.5:3', 'above'), { warn: 2.5, fail: 3 });
    assert.deepEqual(parseLimits('15:7.5', 'below'), { warn: 15, fail: 7.5 });
    assert.deepEqual(parseLimits('100:0', 'below'), { warn: 100, fail: 0 });
  });

  const badLimits: Array<[string, 'above' | 'below', RegExp]> = [
    ['4:2', 'above', /warn must be below fail \(load above the warn figure warns, above the fail figure fails\), got "4:2"/],
    ['3:3', 'above', /warn must be below fail/],
    ['5:10', 'below', /warn must be above fail \(free space below the warn figure warns, below the fail figure fails\), got "5:10"/],
    ['101:5', 'below', /percentages run from 0 to 100, got "101:5"/],
    ['4', 'above', /must be WARN:FAIL, two numbers such as 2:4, got "4"/],
    ['-1:2', 'above', /must be WARN:FAIL/],
    ['a:b', 'below', /must be WARN:FAIL/],
    ['1:2:3', 'above', /must be WARN:FAIL/],
  ];
  for (const [raw, direction, problem] of badLimits) {
    it(`refuses "${raw}" for limits ${direction}`, () => {
      const r = parseLimits(raw, direction);
      assert.ok('problem' in r, JSON.stringify(r));
      assert.match(r.problem, problem);
    });
  }
});
