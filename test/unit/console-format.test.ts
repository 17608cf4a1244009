import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agoAndAt, every } from '../../src/console/format.ts';
import { htmlAttr } from '../../src/http/html-attr.ts';

// What a list shows of a moment: relative and exact side by side, since a phone shows no tooltip.

describe('console: a moment at a glance and exactly', () => {
  const now = new Date('2026-12-06T22:54:30Z');
  const at = (iso: string) => agoAndAt(new Date(iso), now);

  it('gives the time of day for a moment on the same UTC day', () => {
    assert.equal(at('2026-12-06T22:41:10Z'), '13 min ago · 22:41 UTC');
    assert.equal(at('2026-12-06T00:00:00Z'), '22 h 54 min ago · 00:00 UTC');
  });

  it('gives the date too for a moment on another day, past or to come', () => {
    assert.equal(at('2026-12-05T23:59:00Z'), '22 h 55 min ago · 2026-12-05 23:59 UTC');
    assert.equal(at('2026-12-04T20:22:00Z'), '2 d 2 h ago · 2026-12-04 20:22 UTC');
    assert.equal(at('2026-12-07T00:05:00Z'), 'in 1 h 10 min · 2026-12-07 00:05 UTC');
    assert.equal(at('2026-12-06T23:00:00Z'), 'in 5 min · 23:00 UTC');
  });

  it('gives the second too where asked, as for a six-field schedule or an incident’s opening', () => {
    const exact = (iso: string) => agoAndAt(new Date(iso), now, { seconds: true });
    assert.equal(exact('2026-12-06T22:41:07Z'), '13 min ago · 22:41:07 UTC');
    assert.equal(exact('2026-12-07T00:05:30Z'), 'in 1 h 11 min · 2026-12-07 00:05:30 UTC');
    assert.equal(agoAndAt(new Date('2026-12-06T22:41:07Z'), now, { seconds: false }), '13 min ago · 22:41 UTC');
  });
});

describe('console: text for an attribute of a snippet to paste', () => {
  it('escapes what would end the quoted value or start markup', () => {
    assert.equal(htmlAttr('https://x.example/a&b"c<d>e?x=1&y=2'), 'https://x.example/a&amp;b&quot;c&lt;d&gt;e?x=1&amp;y=2');
  });
});

describe('console: a rotation as a person says it', () => {
  it('says one of a unit by its name, more by number, and what it cannot read as stored', () => {
    assert.deepEqual(
      ['P1W', 'P2W', 'P1D', 'P2D', 'PT12H', 'PT1H', 'P1M', 'P1DT12H', 'PT90M', 'nonsense'].map(every),
      ['every week', 'every 2 weeks', 'every day', 'every 2 days', 'every 12 hours', 'every hour', 'every month', 'every 1 day 12 hours', 'every 90 minutes', 'every nonsense'],
    );
    // Seconds, which the validator accepts: 61 minutes is not "every hour"; hours never become a day.
    assert.deepEqual(
      ['PT1H60S', 'PT3600S', 'PT90S', 'P1DT30S', 'PT48H1S', 'PT1H0.5S'].map(every),
      ['every 1 hour 1 minute', 'every hour', 'every 1 minute 30 seconds', 'every 1 day 30 seconds', 'every 48 hours 1 second', 'every 1 hour 500 milliseconds'],
    );
  });
});
