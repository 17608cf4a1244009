import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createMetrics } from '../../src/metrics.ts';

// README's "Metrics" lists the series the engine exports; a new series must be added there too.
describe("README's metrics list", () => {
  it('names every lifeline_ series the engine exports, and no other', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('### Metrics');
    assert.ok(start >= 0, 'README has a Metrics section');
    const section = readme.slice(start, readme.indexOf('\n## ', start));
    const listed = new Set([...section.matchAll(/`(lifeline_[a-z_]+)/g)].map((m) => m[1]!));
    const exported = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('lifeline_'));
    assert.deepEqual(exported.filter((n) => !listed.has(n)), [], 'exported but not in README');
    assert.deepEqual([...listed].filter((n) => !exported.includes(n)), [], 'in README but not exported');
  });

  it('"What to alert on" names every rule of ops/prometheus/alerts.yml, and no other', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('### What to alert on');
    assert.ok(start >= 0, 'README has a What to alert on section');
    const section = readme.slice(start, readme.indexOf('\n## ', start));
    const listed = [...section.matchAll(/^\| `(Lifeline[A-Za-z]+)` \|/gm)].map((m) => m[1]!).sort();
    const rules = parse(readFileSync(new URL('../../ops/prometheus/alerts.yml', import.meta.url), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> };
    assert.deepEqual(listed, rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort());
  });
});
