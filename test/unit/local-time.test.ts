import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IANAZone } from 'luxon';
import { canonicalZone, fromLocal, isTimeZone, isZoneName, localHighWater, offsetAt, offsetChanges, onJobClock, showings, toLocal, zonedStamp, zonedTime, ZONE_NAMES, type ClockWords } from '../../src/local-time.ts';

const HOUR = 3_600_000;
const z = (iso: string) => Date.parse(iso);
/** A local clock reading written as "2026-03-29T02:30" (no zone). */
const local = (wall: string) => Date.parse(`${wall}Z`);
const iso = (t: number) => new Date(t).toISOString();

const STEP = 3 * HOUR;

/**
 * Luxon's offsets every three hours from `from` to `to`, and each change between two samples
 * found to the second with Luxon alone.
 */
function byLuxon(zone: string, from: number, to: number): { samples: Array<[number, number]>; changes: number[] } {
  const iana = IANAZone.create(zone);
  const samples: Array<[number, number]> = [];
  for (let t = from; t <= to; t += STEP) samples.push([t, iana.offset(t) * 60_000]);
  const changes: number[] = [];
  for (let i = 0; i + 1 < samples.length; i++) {
    let [lo, before] = samples[i]!;
    let hi = samples[i + 1]![0];
    if (before === samples[i + 1]![1]) continue;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (iana.offset(mid) * 60_000 === before) lo = mid;
      else hi = mid;
    }
    changes.push(hi);
  }
  return { samples, changes };
}

describe('local time: offsets agree with Luxon', () => {
  // Half-hour DST (Lord Howe), changes at midnight (Havana), Ramadan changes (Casablanca), a day
  // skipped outright (Apia, 2011-12-30: −10:00 to +14:00), and zones without DST.
  const cases: Array<[string, number]> = [
    ['Europe/Berlin', 2026],
    ['America/New_York', 2026],
    ['Australia/Lord_Howe', 2026],
    ['America/Havana', 2026],
    ['Africa/Casablanca', 2026],
    ['Pacific/Apia', 2011],
    ['Asia/Kolkata', 2026],
    ['UTC', 2026],
  ];
  for (const [zone, year] of cases) {
    it(`matches Luxon every three hours through ${year} in ${zone}, and to the second at each change`, () => {
      const iana = IANAZone.create(zone);
      const { samples, changes } = byLuxon(zone, Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1));
      for (const [t, offset] of samples) assert.equal(offsetAt(zone, t), offset, `${zone} at ${iso(t)}`);
      for (const c of changes) {
        assert.equal(offsetAt(zone, c - 1), iana.offset(c - 1000) * 60_000, `${zone} just before ${iso(c)}`);
        assert.equal(offsetAt(zone, c), iana.offset(c) * 60_000, `${zone} at ${iso(c)}`);
      }
      if (zone === 'Europe/Berlin') assert.deepEqual(changes.map(iso), ['2026-03-29T01:00:00.000Z', '2026-10-25T01:00:00.000Z']);
    });
  }
});

describe('local time: from the clock back to instants', () => {
  const cases: Array<{ name: string; zone: string; wall: string; want: string }> = [
    { name: 'an ordinary time', zone: 'Europe/Berlin', wall: '2026-03-28T09:00', want: '2026-03-28T08:00:00.000Z' },
    { name: 'a time skipped by the jump forward happens at the jump', zone: 'Europe/Berlin', wall: '2026-03-29T02:30', want: '2026-03-29T01:00:00.000Z' },
    { name: 'the first time after the jump', zone: 'Europe/Berlin', wall: '2026-03-29T03:00', want: '2026-03-29T01:00:00.000Z' },
    { name: 'a time shown twice maps to its first showing', zone: 'Europe/Berlin', wall: '2026-10-25T02:30', want: '2026-10-25T00:30:00.000Z' },
    { name: 'the first time after the repeated hour', zone: 'Europe/Berlin', wall: '2026-10-25T03:00', want: '2026-10-25T02:00:00.000Z' },
    { name: 'New York, skipped', zone: 'America/New_York', wall: '2026-03-08T02:15', want: '2026-03-08T07:00:00.000Z' },
    { name: 'New York, repeated', zone: 'America/New_York', wall: '2026-11-01T01:30', want: '2026-11-01T05:30:00.000Z' },
    { name: 'Apia skipped 2011-12-30 entirely', zone: 'Pacific/Apia', wall: '2011-12-30T12:00', want: '2011-12-30T10:00:00.000Z' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(iso(fromLocal(c.zone, local(c.wall))), c.want));
  }

  it('lists every instant the clock shows a time: none in a jump forward, two in a repeated hour, else one', () => {
    const at = (zone: string, wall: string) => showings(zone, local(wall)).map(iso);
    assert.deepEqual(at('Europe/Berlin', '2026-03-28T22:00'), ['2026-03-28T21:00:00.000Z']);
    assert.deepEqual(at('Europe/Berlin', '2026-03-29T02:30'), []);
    assert.deepEqual(at('Europe/Berlin', '2026-10-25T02:30'), ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
    assert.deepEqual(at('America/New_York', '2026-11-01T01:30'), ['2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z']);
    assert.deepEqual(at('Australia/Lord_Howe', '2026-10-04T02:15'), []);
    assert.deepEqual(at('Pacific/Apia', '2011-12-30T12:00'), []);
    assert.deepEqual(at('UTC', '2026-12-31T23:59'), ['2026-12-31T23:59:00.000Z']);
  });

  it('reads the clock at an instant', () => {
    assert.equal(iso(toLocal('Europe/Berlin', z('2026-10-25T00:30:00Z'))), '2026-10-25T02:30:00.000Z');
    assert.equal(iso(toLocal('Europe/Berlin', z('2026-10-25T01:30:00Z'))), '2026-10-25T02:30:00.000Z');
  });

  it('keeps the highest clock reading through the repeated hour, and only there', () => {
    const zone = 'Europe/Berlin';
    assert.equal(iso(localHighWater(zone, z('2026-10-25T00:59:59.999Z'))), '2026-10-25T02:59:59.999Z');
    assert.equal(iso(localHighWater(zone, z('2026-10-25T01:30:00Z'))), '2026-10-25T02:59:59.999Z');
    assert.equal(iso(localHighWater(zone, z('2026-10-25T02:00:00Z'))), '2026-10-25T03:00:00.000Z');
    assert.equal(iso(localHighWater(zone, z('2026-03-29T01:00:00Z'))), '2026-03-29T03:00:00.000Z');
  });

  // The rule every schedule leans on: a local time x has come by instant t exactly when the clock
  // has shown x or later by t.
  for (const [zone, around] of [
    ['Europe/Berlin', '2026-10-25T01:00:00Z'],
    ['Europe/Berlin', '2026-03-29T01:00:00Z'],
    ['America/New_York', '2026-11-01T06:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
  ] as const) {
    it(`fromLocal(x) ≤ t exactly when x ≤ localHighWater(t), minute by minute around ${around} in ${zone}`, () => {
      const centre = z(around);
      for (let t = centre - 3 * HOUR; t <= centre + 3 * HOUR; t += 60_000) {
        const high = localHighWater(zone, t);
        for (const x of [high - 60_000, high, high + 1, high + 30 * 60_000]) {
          assert.equal(fromLocal(zone, x) <= t, x <= high, `${zone}: t ${iso(t)}, x ${iso(x)}`);
        }
      }
    });
  }

  it('knows IANA zones from anything else', () => {
    assert.equal(isTimeZone('Europe/Berlin'), true);
    assert.equal(isTimeZone('Mars/Olympus_Mons'), false);
    assert.equal(isTimeZone(''), false);
    assert.throws(() => offsetAt('Mars/Olympus_Mons', 0), RangeError);
  });
});

describe('local time: the name a zone is kept by', () => {
  it('keeps UTC by any of its names as UTC, whatever name Intl resolves it to', (t) => {
    // An engine whose ICU keeps Etc/UTC as Etc/UTC must not change what is stored.
    const resolved = Intl.DateTimeFormat.prototype.resolvedOptions;
    t.mock.method(Intl.DateTimeFormat.prototype, 'resolvedOptions', function (this: Intl.DateTimeFormat) {
      return { ...resolved.call(this), timeZone: 'Etc/UTC' };
    });
    assert.equal(canonicalZone('Etc/UTC'), 'UTC');
    assert.equal(canonicalZone('etc/utc'), 'UTC');
    assert.equal(canonicalZone('Zulu'), 'UTC');
  });

  it('spells other zones as Intl does', () => {
    assert.equal(canonicalZone('europe/berlin'), 'Europe/Berlin');
    assert.equal(canonicalZone('UTC'), 'UTC');
  });

  it('keeps a current IANA name as typed, not as the older name Intl resolves it to', () => {
    assert.equal(canonicalZone('Asia/Kolkata'), 'Asia/Kolkata');
    assert.equal(canonicalZone('asia/kolkata'), 'Asia/Kolkata');
    assert.equal(canonicalZone('Europe/Kyiv'), 'Europe/Kyiv');
    assert.equal(canonicalZone('Asia/Calcutta'), 'Asia/Calcutta', 'the old name typed is kept too');
    assert.ok(ZONE_NAMES.includes('Asia/Kolkata') && ZONE_NAMES.includes('Europe/Kyiv') && ZONE_NAMES.includes('Asia/Calcutta'));
  });
});

describe('local time: the zones a person may type', () => {
  it('takes UTC and IANA Area/Location names, in any case', () => {
    for (const zone of ['UTC', 'utc', 'Etc/UTC', 'America/New_York', 'america/new_york', 'Asia/Kolkata', 'Etc/GMT+5', 'US/Eastern']) assert.equal(isZoneName(zone), true, zone);
  });

  it('takes UTC by its other names, and the database\'s names without an area', () => {
    for (const zone of ['GMT', 'gmt', 'Zulu', 'UCT', 'Universal', 'Greenwich', 'Japan', 'GB', 'Singapore', 'EST5EDT', 'PST8PDT', 'W-SU', 'PRC', 'ROK']) {
      assert.equal(isZoneName(zone), true, zone);
    }
  });

  it('refuses abbreviations and names outside the database, which Intl turns into other zones', () => {
    // Intl reads each of these, as some zone other than the one meant.
    for (const zone of ['EST', 'est', 'BST', 'CET', 'IST', 'PST', 'MST', 'HST', 'SystemV/EST5']) {
      assert.equal(isTimeZone(zone), true, `${zone} is read`);
      assert.equal(isZoneName(zone), false, `${zone} is not taken`);
    }
    for (const zone of ['', '/', 'Mars/Olympus_Mons', 'America/New York']) assert.equal(isZoneName(zone), false, zone);
  });
});

describe('local time: an instant on its zone\'s clock, UTC beside', () => {
  const iso: ClockWords = { day: (c) => c.toISOString().slice(0, 10), time: (c) => c.toISOString().slice(11, 16), joint: ' ' };
  const said = (at: string, zone: string | null, since?: string) => zonedTime(z(at), zone, iso, since === undefined ? undefined : z(since));

  it('says the UTC day only when it is another than the local one', () => {
    assert.deepEqual(said('2026-11-21T21:00:00Z', 'Europe/Berlin'), { here: '2026-11-21 22:00 Europe/Berlin', utc: '21:00 UTC' });
    assert.deepEqual(said('2026-11-21T23:30:00Z', 'europe/berlin'), { here: '2026-11-22 00:30 Europe/Berlin', utc: '2026-11-21 23:30 UTC' });
  });

  it('is UTC alone for no zone, UTC by any name, and a zone this engine does not know', () => {
    for (const zone of [null, 'Etc/UTC', 'Bogus/Zone']) assert.deepEqual(said('2026-11-21T23:30:00Z', zone), { here: '2026-11-21 23:30 UTC', utc: null }, String(zone));
  });

  it('leaves out the days `since` already says, each by its own clock', () => {
    assert.deepEqual(said('2026-11-21T23:30:00Z', 'Europe/Berlin', '2026-11-21T23:10:00Z'), { here: '00:30 Europe/Berlin', utc: '23:30 UTC' });
    assert.deepEqual(said('2026-11-22T00:30:00Z', 'Europe/Berlin', '2026-11-21T23:10:00Z'), { here: '01:30 Europe/Berlin', utc: '2026-11-22 00:30 UTC' });
    assert.deepEqual(said('2026-11-22T00:30:00Z', null, '2026-11-21T23:10:00Z'), { here: '2026-11-22 00:30 UTC', utc: null });
  });
});

describe('offsetChanges', () => {
  it('sees a change inside the span, even one undone before its end, and none outside it', () => {
    const ny = 'America/New_York'; // 2026-11-01 06:00Z: EDT becomes EST; 2026-03-08 07:00Z the reverse
    assert.equal(offsetChanges(ny, z('2026-11-01T05:46:00Z'), z('2026-11-01T06:20:00Z')), true);
    assert.equal(offsetChanges(ny, z('2026-11-01T06:00:00Z'), z('2026-11-01T06:20:00Z')), false, 'the change at the span start is not in it');
    assert.equal(offsetChanges(ny, z('2026-05-01T00:00:00Z'), z('2027-05-01T00:00:00Z')), true, 'both changes of a year');
    assert.equal(offsetChanges(ny, z('2026-12-30T00:00:00Z'), z('2027-01-02T00:00:00Z')), false, 'a year boundary is no change');
    assert.equal(offsetChanges('UTC', z('2026-01-01T00:00:00Z'), z('2027-01-01T00:00:00Z')), false);
  });
});

describe('onJobClock', () => {
  it("says a job's time on its own clock, with the date when that clock's is not UTC's", () => {
    assert.equal(onJobClock(Date.parse('2026-12-08T02:30:00Z'), 'Europe/Berlin'), '03:30 in Europe/Berlin');
    assert.equal(onJobClock(Date.parse('2026-12-06T03:00:00Z'), 'America/New_York'), '2026-12-05 22:00 in America/New_York');
    assert.equal(onJobClock(Date.parse('2026-12-08T02:30:15Z'), 'Europe/Berlin', true), '03:30:15 in Europe/Berlin');
  });
});

describe("a message's time on its reader's clock", () => {
  const winter = new Date('2026-01-15T10:05:00Z');
  const summer = new Date('2026-07-15T10:05:00Z');
  const cases: Array<[zone: string, at: Date, want: string]> = [
    ['Europe/Berlin', winter, '11:05:00 CET (10:05:00 UTC)'],
    ['Europe/Berlin', summer, '12:05:00 CEST (10:05:00 UTC)'],
    ['Europe/London', winter, '10:05:00 GMT (10:05:00 UTC)'],
    ['Europe/London', summer, '11:05:00 BST (10:05:00 UTC)'],
    ['Europe/Lisbon', winter, '10:05:00 WET (10:05:00 UTC)'],
    ['Europe/Helsinki', summer, '13:05:00 EEST (10:05:00 UTC)'],
    ['America/New_York', winter, '05:05:00 EST (10:05:00 UTC)'],
    ['America/New_York', summer, '06:05:00 EDT (10:05:00 UTC)'],
    ['America/Los_Angeles', winter, '02:05:00 PST (10:05:00 UTC)'],
    ['Asia/Kolkata', winter, '15:35:00 IST (10:05:00 UTC)'],
    ['Asia/Calcutta', summer, '15:35:00 IST (10:05:00 UTC)'],
    ['Australia/Sydney', winter, '21:05:00 AEDT (10:05:00 UTC)'],
    ['Australia/Sydney', summer, '20:05:00 AEST (10:05:00 UTC)'],
    // No abbreviation in common English use: the offset.
    ['Asia/Tokyo', winter, '19:05:00 GMT+9 (10:05:00 UTC)'],
    ['Asia/Kathmandu', winter, '15:50:00 GMT+5:45 (10:05:00 UTC)'],
    ['America/Sao_Paulo', winter, '07:05:00 GMT-3 (10:05:00 UTC)'],
  ];
  for (const [zone, at, want] of cases) {
    it(`${zone} on ${iso(at.getTime()).slice(0, 10)}: ${want}`, () => assert.equal(zonedStamp(at, zone, false), want));
  }
  it('gives the date where the reader wants it, and UTC alone to a reader on UTC or on no zone', () => {
    assert.equal(zonedStamp(winter, 'Europe/Berlin'), '2026-01-15 11:05:00 CET (10:05:00 UTC)');
    assert.equal(zonedStamp(winter, 'UTC'), '2026-01-15 10:05:00 UTC');
    assert.equal(zonedStamp(winter, undefined), '2026-01-15 10:05:00 UTC');
  });
});
