import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { badgeJson, badgeSvg, stateBadge, uptimeBadge } from '../../src/badges/model.ts';

describe('badges', () => {
  it('say a node’s state in shields’ colours', () => {
    assert.deepEqual(stateBadge('healthy'), { label: 'status', message: 'up', color: 'brightgreen' });
    assert.deepEqual(stateBadge('degraded'), { label: 'status', message: 'degraded', color: 'yellow' });
    assert.deepEqual(stateBadge('down', 'api'), { label: 'api', message: 'down', color: 'red' });
    assert.deepEqual(stateBadge('maintenance'), { label: 'status', message: 'maintenance', color: 'blue' });
    assert.deepEqual(stateBadge('unknown'), { label: 'status', message: 'unknown', color: 'lightgrey' });
  });

  it('say uptime cut to two decimals, green only from three nines, grey when nothing was monitored', () => {
    const cases: Array<[number | null, string, string]> = [
      [1, '100%', 'brightgreen'],
      [0.99999, '99.99%', 'brightgreen'],
      [0.999, '99.90%', 'brightgreen'],
      [0.99899, '99.89%', 'green'],
      [0.99, '99.00%', 'green'],
      [0.985, '98.50%', 'yellowgreen'],
      [0.96, '96.00%', 'yellow'],
      [0.92, '92.00%', 'orange'],
      [0.5, '50.00%', 'red'],
      [null, 'no data', 'lightgrey'],
    ];
    for (const [ratio, message, color] of cases) assert.deepEqual(uptimeBadge(ratio, '30d'), { label: 'uptime 30d', message, color }, String(ratio));
  });

  it('render in the shields look and in its endpoint schema, with text escaped', () => {
    const badge = { label: 'a<b>&"c', message: 'up', color: 'brightgreen' };
    const svg = badgeSvg(badge);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="20" role="img" aria-label="a&lt;b&gt;&amp;&quot;c: up">/);
    assert.match(svg, /<rect x="\d+" width="\d+" height="20" fill="#4b0"\/>/, "the message on shields’ brightgreen");
    assert.doesNotMatch(svg, /<b>|<script/);
    assert.deepEqual(badgeJson(badge), { schemaVersion: 1, label: 'a<b>&"c', message: 'up', color: 'brightgreen' });
  });
});
