import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BADGE_WINDOWS, badgeJson, badgeSvg, stateBadge, uptimeBadge } from '../../src/badges/model.ts';
import { STATES } from '../../src/health/decide.ts';
import { contrast } from '../helpers/contrast.ts';

describe('badges', () => {
  it('say a node’s state in colours of its own', () => {
    assert.deepEqual(stateBadge('healthy'), { label: 'status', message: 'up', color: '#1a7f37' });
    assert.deepEqual(stateBadge('degraded'), { label: 'status', message: 'degraded', color: '#8a5c00' });
    assert.deepEqual(stateBadge('down', 'api'), { label: 'api', message: 'down', color: '#cf222e' });
    assert.deepEqual(stateBadge('maintenance'), { label: 'status', message: 'maintenance', color: '#0969da' });
    assert.deepEqual(stateBadge('unknown'), { label: 'status', message: 'unknown', color: '#656d76' });
  });

  it('say uptime cut to two decimals, green only from three nines, grey when nothing was monitored', () => {
    const cases: Array<[number | null, string, string]> = [
      [1, '100%', '#1a7f37'],
      [0.99999, '99.99%', '#1a7f37'],
      [0.999, '99.90%', '#1a7f37'],
      [0.99899, '99.89%', '#3c7a00'],
      [0.99, '99.00%', '#3c7a00'],
      [0.985, '98.50%', '#5c6e00'],
      [0.96, '96.00%', '#8a5c00'],
      [0.92, '92.00%', '#bc4c00'],
      [0.5, '50.00%', '#cf222e'],
      [null, 'no data', '#656d76'],
    ];
    for (const [ratio, message, color] of cases) assert.deepEqual(uptimeBadge(ratio, '30d'), { label: 'uptime 30d', message, color }, String(ratio));
  });

  it('render in the shields look and in its endpoint schema, with text escaped', () => {
    const badge = { label: 'a<b>&"c', message: 'up', color: '#1a7f37' };
    const svg = badgeSvg(badge);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="20" role="img" aria-label="a&lt;b&gt;&amp;&quot;c: up">/);
    assert.match(svg, /<rect x="\d+" width="\d+" height="20" fill="#1a7f37"\/>/, 'the message on its green');
    assert.doesNotMatch(svg, /<b>|<script/);
    assert.deepEqual(badgeJson(badge), { schemaVersion: 1, label: 'a<b>&"c', message: 'up', color: '#1a7f37' });
  });

  it('put their 11 px white text on backgrounds giving it 4.5:1, whatever they say', () => {
    const ratios = [null, 1, 0.9995, 0.995, 0.985, 0.96, 0.92, 0.5];
    const badges = [...STATES.map((s) => stateBadge(s)), ...BADGE_WINDOWS.flatMap((w) => ratios.map((r) => uptimeBadge(r, w)))];
    for (const b of badges) {
      const svg = badgeSvg(b);
      const fill = /<rect x="\d+" width="\d+" height="20" fill="(#[0-9a-f]{3,6})"\/>/.exec(svg)![1]!;
      assert.match(svg, /<g fill="#fff" text-anchor="middle"/, 'white text');
      const ratio = contrast(fill, '#ffffff');
      assert.ok(ratio >= 4.5, `${b.message} on ${fill}: ${ratio.toFixed(2)}:1`);
    }
  });
});
