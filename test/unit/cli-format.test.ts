import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { after, pastTime, percent } from '../../src/cli/format.ts';
import { firstAcknowledged } from '../../src/cli/incidents.ts';

// The terminal's uptime reads as the pages and badges do: cut, never rounded up, and no float
// error shaving a digit off a ratio that is exact.

describe('uptime in the terminal', () => {
  it('shows an exact ratio exactly, where a plain floor lost the last digit', () => {
    assert.equal(percent(0.57), '57.000%');
    assert.equal(percent(0.29, 2), '29.00%');
  });

  it('never rounds up to 100', () => {
    assert.equal(percent(0.999_996), '99.999%');
    assert.equal(percent(1 - 1e-15), '99.999%');
    assert.equal(percent(1), '100.000%');
  });

  it('says when there is no figure', () => {
    assert.equal(percent(null), 'n/a');
  });
});

describe('a --since or --until in the terminal', () => {
  const now = Date.parse('2026-11-21T10:00:00.000Z');
  it('reads a span before now in the units durations are shown in', () => {
    assert.equal(pastTime('7d', now), '2026-11-14T10:00:00.000Z');
    assert.equal(pastTime('12h', now), '2026-11-20T22:00:00.000Z');
    assert.equal(pastTime('30m', now), '2026-11-21T09:30:00.000Z');
  });
  it('passes an RFC 3339 time on in the form the API takes, and refuses anything else', () => {
    assert.equal(pastTime('2026-11-01T00:00:00Z', now), '2026-11-01T00:00:00.000Z');
    assert.equal(pastTime('2026-11-01T00:00:00.5+02:00', now), '2026-10-31T22:00:00.500Z');
    // Forms the API's Timestamp refuses, read as the time they plainly mean.
    assert.equal(pastTime('2026-12-07T14:00Z', now), '2026-12-07T14:00:00.000Z');
    assert.equal(pastTime('2026-12-07t14:00:00z', now), '2026-12-07T14:00:00.000Z');
    assert.equal(pastTime('yesterday', now), undefined);
    assert.equal(pastTime('7 days', now), undefined);
    assert.equal(pastTime('2026-11-01', now), undefined);
    assert.equal(pastTime('2026-02-30T00:00:00Z', now), undefined);
    // Before 1970 (999,999 days is year -711, which Date cannot even write as RFC 3339), or after 9999.
    assert.equal(pastTime('999999d', now), undefined);
    assert.equal(pastTime('1969-12-31T23:59:59Z', now), undefined);
  });
});

describe('how long an incident took, in the terminal', () => {
  it('reads from its opening to a later step, and - while that has not come', () => {
    assert.equal(after('2026-11-21T10:00:00.000Z', '2026-11-21T10:08:00.000Z'), '8m');
    assert.equal(after('2026-11-21T10:00:00.000Z', '2026-11-21T11:12:00.000Z'), '1h 12m');
    assert.equal(after('2026-11-21T10:00:00.000Z', null), '-');
  });
});

describe('ACKED-AFTER in the terminal', () => {
  const acked = (at: string) => ({ at, kind: 'acknowledged', detail: { by: 'alice' } });
  it('is the first acknowledgement, also one that expired since (which clears acknowledged_at)', () => {
    const expired = { at: '2026-11-21T10:13:00.000Z', kind: 'acknowledgement_expired', detail: {} };
    assert.equal(firstAcknowledged({ acknowledged_at: null, timeline: [acked('2026-11-21T10:03:00.000Z'), expired] }), '2026-11-21T10:03:00.000Z');
    assert.equal(firstAcknowledged({ acknowledged_at: '2026-11-21T10:20:00.000Z', timeline: [acked('2026-11-21T10:03:00.000Z'), expired, acked('2026-11-21T10:20:00.000Z')] }), '2026-11-21T10:03:00.000Z');
    assert.equal(firstAcknowledged({ acknowledged_at: null, timeline: [] }), null);
  });
});
