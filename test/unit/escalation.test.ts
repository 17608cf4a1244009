import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categoryFor, incidentTitle } from '../../src/incidents/categorize.ts';
import { cycleSeconds, escalationSteps } from '../../src/oncall/escalation.ts';

const at = (...s: number[]) => s.map((after_seconds) => ({ after_seconds }));
const brief = (levels: ReturnType<typeof at>, repeat: number) =>
  escalationSteps(levels, repeat).map((s) => `#${s.step} L${s.level}@${s.afterSeconds}`);

describe('escalation schedule', () => {
  const cases: Array<[string, ReturnType<typeof at>, number, string[]]> = [
    ['a single level never escalates', at(0), 0, []],
    ['two levels escalate once', at(0, 300), 0, ['#1 L1@300']],
    ['three levels in order', at(0, 60, 600), 0, ['#1 L1@60', '#2 L2@600']],
    ['repeat passes through every level again, keeping the rhythm', at(0, 300), 2, ['#1 L1@300', '#2 L0@600', '#3 L1@900', '#4 L0@1200', '#5 L1@1500']],
    ['uneven levels repeat after the last gap', at(0, 60, 600), 1, ['#1 L1@60', '#2 L2@600', '#3 L0@1140', '#4 L1@1200', '#5 L2@1740']],
    ['a single level with repeat re-pages every five minutes', at(0), 2, ['#1 L0@300', '#2 L0@600']],
  ];
  for (const [name, levels, repeat, want] of cases) it(name, () => assert.deepEqual(brief(levels, repeat), want));

  it('has a cycle at least one second longer than its last level', () => {
    assert.equal(cycleSeconds(at(0, 0)), 1);
    assert.equal(cycleSeconds(at(0, 120)), 240);
  });
});

describe('categories', () => {
  it('maps down and degraded to incidents and nothing else', () => {
    assert.deepEqual(
      (['down', 'degraded', 'healthy', 'unknown', 'maintenance'] as const).map(categoryFor),
      ['node_down', 'node_degraded', null, null, null],
    );
    assert.equal(incidentTitle('node_down', 'db-1'), 'db-1 is down');
  });
});
