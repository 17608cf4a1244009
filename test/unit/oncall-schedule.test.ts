import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import {
  onCallAt,
  onCallUntil,
  shifts,
  UNTIL_HORIZON_MS,
  validateOverride,
  validateSchedule,
  type Layer,
  type Override,
  type Restriction,
  type Schedule,
  type ScheduleInput,
  type Shift,
} from '../../src/oncall/schedule.ts';

const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

function layer(over: Partial<Layer> & Pick<Layer, 'starts_at' | 'rotation'>): Layer {
  return { name: 'primary', user_ids: ['ana', 'ben'], ...over };
}

function schedule(time_zone: string, layers: Layer[], overrides: Override[] = []): Schedule {
  return { time_zone, layers, overrides };
}

/** Shifts as "user layer start→end" lines in UTC, easy to read in a failure. */
const lines = (items: Shift[]) => items.map((s) => `${s.user_id} ${s.layer} ${iso(s.starts_at)}→${iso(s.ends_at)}`);

/** Who the timeline says is on call at t (the cross-check against onCallAt). */
function fromTimeline(items: Shift[], t: number): string[] {
  const s = items.find((x) => x.starts_at.getTime() <= t && t < x.ends_at.getTime());
  return s ? [s.user_id] : [];
}

/** onCallAt and shifts tell the same story minute by minute through Europe's two DST nights of 2026. */
function agreeThroughDstNights(s: Schedule) {
  for (const night of ['2026-03-29T00:00:00Z', '2026-10-25T00:00:00Z']) {
    const from = at(night);
    const to = new Date(from.getTime() + 4 * HOUR);
    const items = shifts(s, from, to);
    for (let t = from.getTime(); t < to.getTime(); t += 60_000) {
      assert.deepEqual(onCallAt(s, new Date(t)), fromTimeline(items, t), new Date(t).toISOString());
    }
  }
}

type Case = { name: string; at: string; want: string[] };

function table(s: Schedule, cases: Case[]) {
  for (const c of cases) it(c.name, () => assert.deepEqual(onCallAt(s, at(c.at)), c.want));
}

describe('on-call: hand-offs keep their local time across DST', () => {
  describe('P1D at 09:00 in Berlin, clocks forward on 2026-03-29', () => {
    const s = schedule('Europe/Berlin', [layer({ starts_at: at('2026-03-27T08:00:00Z'), rotation: 'P1D' })]);
    table(s, [
      { name: 'nobody before the first shift', at: '2026-03-27T07:59:59Z', want: [] },
      { name: 'ana from the start', at: '2026-03-27T08:00:00Z', want: ['ana'] },
      { name: 'ben on the 28th at 09:00 CET', at: '2026-03-28T08:00:00Z', want: ['ben'] },
      { name: 'still ben at 08:59:59 CEST', at: '2026-03-29T06:59:59Z', want: ['ben'] },
      // 24 absolute hours would keep ben until 08:00Z (10:00 CEST).
      { name: 'ana at 09:00 CEST, 23 hours after the last hand-off', at: '2026-03-29T07:00:00Z', want: ['ana'] },
    ]);
    it('lists the 23-hour shift that spans the change', () => {
      assert.deepEqual(lines(shifts(s, at('2026-03-27T00:00:00Z'), at('2026-03-31T00:00:00Z'))), [
        'ana primary 2026-03-27T08:00:00Z→2026-03-28T08:00:00Z',
        'ben primary 2026-03-28T08:00:00Z→2026-03-29T07:00:00Z',
        'ana primary 2026-03-29T07:00:00Z→2026-03-30T07:00:00Z',
        'ben primary 2026-03-30T07:00:00Z→2026-03-31T00:00:00Z',
      ]);
    });
  });

  describe('P1D at 09:00 in Berlin, clocks back on 2026-10-25', () => {
    const s = schedule('Europe/Berlin', [layer({ starts_at: at('2026-10-23T07:00:00Z'), rotation: 'P1D' })]);
    table(s, [
      { name: 'ben from 09:00 CEST on the 24th', at: '2026-10-24T07:00:00Z', want: ['ben'] },
      // 24 absolute hours would hand over at 07:00Z (08:00 CET).
      { name: 'still ben at 08:30 CET', at: '2026-10-25T07:30:00Z', want: ['ben'] },
      { name: 'ana at 09:00 CET, 25 hours after the last hand-off', at: '2026-10-25T08:00:00Z', want: ['ana'] },
    ]);
  });

  describe('P1D at 09:00 in New York, clocks forward on 2026-03-08', () => {
    const s = schedule('America/New_York', [layer({ starts_at: at('2026-03-06T14:00:00Z'), rotation: 'P1D' })]);
    table(s, [
      { name: 'ben from 09:00 EST on the 7th', at: '2026-03-07T14:00:00Z', want: ['ben'] },
      { name: 'still ben at 08:59:59 EDT', at: '2026-03-08T12:59:59Z', want: ['ben'] },
      { name: 'ana at 09:00 EDT', at: '2026-03-08T13:00:00Z', want: ['ana'] },
    ]);
  });

  describe('P1D at 09:00 in New York, clocks back on 2026-11-01', () => {
    const s = schedule('America/New_York', [layer({ starts_at: at('2026-10-30T13:00:00Z'), rotation: 'P1D' })]);
    table(s, [
      { name: 'ben from 09:00 EDT on the 31st', at: '2026-10-31T13:00:00Z', want: ['ben'] },
      { name: 'still ben at 08:30 EST', at: '2026-11-01T13:30:00Z', want: ['ben'] },
      { name: 'ana at 09:00 EST', at: '2026-11-01T14:00:00Z', want: ['ana'] },
    ]);
  });

  it('PT12H hands off at 09:00 and 21:00 local; the night the clocks go back is 13 hours (New York)', () => {
    const s = schedule('America/New_York', [layer({ user_ids: ['day', 'night'], starts_at: at('2026-10-30T13:00:00Z'), rotation: 'PT12H' })]);
    const items = shifts(s, at('2026-10-30T13:00:00Z'), at('2026-11-02T02:00:00Z'));
    assert.deepEqual(
      items.map((x) => `${x.user_id} ${DateTime.fromJSDate(x.starts_at, { zone: 'America/New_York' }).toFormat('HH:mm')} ${(x.ends_at.getTime() - x.starts_at.getTime()) / HOUR}h`),
      ['day 09:00 12h', 'night 21:00 12h', 'day 09:00 12h', 'night 21:00 13h', 'day 09:00 12h'],
    );
  });

  it('PT12H: the night the clocks go forward is 11 hours (Berlin)', () => {
    const s = schedule('Europe/Berlin', [layer({ user_ids: ['day', 'night'], starts_at: at('2026-03-28T08:00:00Z'), rotation: 'PT12H' })]);
    assert.deepEqual(lines(shifts(s, at('2026-03-28T20:00:00Z'), at('2026-03-29T19:00:00Z'))), [
      'night primary 2026-03-28T20:00:00Z→2026-03-29T07:00:00Z',
      'day primary 2026-03-29T07:00:00Z→2026-03-29T19:00:00Z',
    ]);
  });

  describe('a hand-off at 02:30, a time Berlin skips once and shows twice a year', () => {
    const spring = schedule('Europe/Berlin', [layer({ starts_at: at('2026-03-27T01:30:00Z'), rotation: 'P1D' })]);
    const autumn = schedule('Europe/Berlin', [layer({ starts_at: at('2026-10-23T00:30:00Z'), rotation: 'P1D' })]);
    it('happens at the jump (03:00 CEST) when 02:30 does not exist', () => {
      assert.deepEqual(onCallAt(spring, at('2026-03-29T00:59:59Z')), ['ben']);
      assert.deepEqual(onCallAt(spring, at('2026-03-29T01:00:00Z')), ['ana']);
    });
    it('happens once, at the first 02:30, when 02:30 comes twice', () => {
      assert.deepEqual(onCallAt(autumn, at('2026-10-25T00:29:59Z')), ['ben']);
      assert.deepEqual(onCallAt(autumn, at('2026-10-25T00:30:00Z')), ['ana']);
      // 02:10 CET, the second time round: the clock shows a time before 02:30 again, but the
      // hand-off has happened.
      assert.deepEqual(onCallAt(autumn, at('2026-10-25T01:10:00Z')), ['ana']);
      assert.deepEqual(onCallAt(autumn, at('2026-10-25T01:30:00Z')), ['ana']);
      assert.deepEqual(lines(shifts(autumn, at('2026-10-24T00:00:00Z'), at('2026-10-27T00:00:00Z'))), [
        'ana primary 2026-10-24T00:00:00Z→2026-10-24T00:30:00Z',
        'ben primary 2026-10-24T00:30:00Z→2026-10-25T00:30:00Z',
        'ana primary 2026-10-25T00:30:00Z→2026-10-26T01:30:00Z',
        'ben primary 2026-10-26T01:30:00Z→2026-10-27T00:00:00Z',
      ]);
    });
  });

  it('P1M counts calendar months, clamping to the month’s end and returning to the 31st', () => {
    const s = schedule('Europe/Berlin', [layer({ user_ids: ['ana', 'ben', 'cy'], starts_at: at('2026-01-31T08:00:00Z'), rotation: 'P1M' })]);
    assert.deepEqual(
      shifts(s, at('2026-01-01T00:00:00Z'), at('2026-05-01T00:00:00Z')).map((x) => `${x.user_id} ${DateTime.fromJSDate(x.starts_at, { zone: 'Europe/Berlin' }).toFormat('MM-dd HH:mm')}`),
      ['ana 01-31 09:00', 'ben 02-28 09:00', 'cy 03-31 09:00', 'ana 04-30 09:00'],
    );
    assert.deepEqual(onCallAt(s, at('2026-03-31T06:59:59Z')), ['ben']);
    assert.deepEqual(onCallAt(s, at('2026-03-31T07:00:00Z')), ['cy']);
  });
});

describe('on-call: rotations, layers and restrictions', () => {
  it('a rotation of one user is one shift for as long as it runs', () => {
    const s = schedule('Europe/Berlin', [layer({ user_ids: ['ana'], starts_at: at('2026-03-23T08:00:00Z'), rotation: 'P1D' })]);
    assert.deepEqual(lines(shifts(s, at('2026-03-20T00:00:00Z'), at('2026-04-10T00:00:00Z'))), [
      'ana primary 2026-03-23T08:00:00Z→2026-04-10T00:00:00Z',
    ]);
    assert.deepEqual(onCallAt(s, at('2026-04-01T03:00:00Z')), ['ana']);
  });

  describe('weekdays 09:00–17:00 leave evenings and weekends to nobody', () => {
    // P1W from Monday 2026-03-23 09:00 CET; the clocks go forward on Sunday the 29th.
    const business = layer({
      name: 'business',
      starts_at: at('2026-03-23T08:00:00Z'),
      rotation: 'P1W',
      restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
    });
    const s = schedule('Europe/Berlin', [business]);
    table(s, [
      { name: 'ana on Monday 10:00 CET', at: '2026-03-23T09:00:00Z', want: ['ana'] },
      { name: 'nobody at 17:00', at: '2026-03-23T16:00:00Z', want: [] },
      { name: 'nobody on Saturday', at: '2026-03-28T10:00:00Z', want: [] },
      { name: 'nobody on Monday 08:30 CEST', at: '2026-03-30T06:30:00Z', want: [] },
      { name: 'ben from Monday 09:00 CEST', at: '2026-03-30T07:00:00Z', want: ['ben'] },
      { name: 'ben until 16:59:59 CEST', at: '2026-03-30T14:59:59Z', want: ['ben'] },
      { name: 'nobody at 17:00 CEST', at: '2026-03-30T15:00:00Z', want: [] },
    ]);
    it('lists one piece per working day, at 09:00–17:00 local on both sides of the change', () => {
      const items = shifts(s, at('2026-03-26T00:00:00Z'), at('2026-04-01T00:00:00Z'));
      assert.deepEqual(lines(items), [
        'ana business 2026-03-26T08:00:00Z→2026-03-26T16:00:00Z',
        'ana business 2026-03-27T08:00:00Z→2026-03-27T16:00:00Z',
        'ben business 2026-03-30T07:00:00Z→2026-03-30T15:00:00Z',
        'ben business 2026-03-31T07:00:00Z→2026-03-31T15:00:00Z',
      ]);
    });

    const withBase = schedule('Europe/Berlin', [layer({ name: 'base', user_ids: ['cy'], starts_at: at('2026-03-01T00:00:00Z'), rotation: 'P1W' }), business]);
    table(withBase, [
      { name: 'the layer below shows through the evening gap', at: '2026-03-23T18:00:00Z', want: ['cy'] },
      { name: 'the later layer wins where it has someone', at: '2026-03-23T09:00:00Z', want: ['ana'] },
      { name: 'the layer below covers the weekend', at: '2026-03-28T10:00:00Z', want: ['cy'] },
    ]);
    it('merges the two layers into one timeline', () => {
      assert.deepEqual(lines(shifts(withBase, at('2026-03-27T00:00:00Z'), at('2026-03-30T12:00:00Z'))), [
        'cy base 2026-03-27T00:00:00Z→2026-03-27T08:00:00Z',
        'ana business 2026-03-27T08:00:00Z→2026-03-27T16:00:00Z',
        'cy base 2026-03-27T16:00:00Z→2026-03-30T07:00:00Z',
        'ben business 2026-03-30T07:00:00Z→2026-03-30T12:00:00Z',
      ]);
    });
  });

  describe('overnight restrictions run from the named day into the next', () => {
    const s = schedule('Europe/Berlin', [
      layer({
        name: 'nights',
        user_ids: ['owl'],
        starts_at: at('2026-03-01T00:00:00Z'),
        rotation: 'P1W',
        restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '06:00' }],
      }),
    ]);
    table(s, [
      { name: 'Friday’s night reaches Saturday 05:59', at: '2026-03-21T04:59:00Z', want: ['owl'] },
      { name: 'and ends at Saturday 06:00', at: '2026-03-21T05:00:00Z', want: [] },
      { name: 'Sunday night is not a listed night', at: '2026-03-23T02:00:00Z', want: [] },
      { name: 'Monday night covers Tuesday 03:00', at: '2026-03-24T02:00:00Z', want: ['owl'] },
      { name: 'nobody during the day', at: '2026-03-24T12:00:00Z', want: [] },
    ]);
    it('a Saturday night that loses an hour to the clocks is 7 hours long', () => {
      const sat = schedule('Europe/Berlin', [layer({ user_ids: ['owl'], starts_at: at('2026-03-01T00:00:00Z'), rotation: 'P1W', restrictions: [{ days: ['sat'], from: '22:00', to: '06:00' }] })]);
      assert.deepEqual(lines(shifts(sat, at('2026-03-28T00:00:00Z'), at('2026-03-30T00:00:00Z'))), ['owl primary 2026-03-28T21:00:00Z→2026-03-29T04:00:00Z']);
    });
    it('from equal to to is the whole day', () => {
      const sundays = schedule('America/New_York', [layer({ user_ids: ['sun'], starts_at: at('2026-01-01T00:00:00Z'), rotation: 'P1W', restrictions: [{ days: ['sun'], from: '00:00', to: '00:00' }] })]);
      // Sunday 2026-03-08 is 23 hours long in New York.
      assert.deepEqual(lines(shifts(sundays, at('2026-03-06T00:00:00Z'), at('2026-03-10T00:00:00Z'))), ['sun primary 2026-03-08T05:00:00Z→2026-03-09T04:00:00Z']);
    });
  });

  describe('a layer that starts in the future', () => {
    const s = schedule('Europe/Berlin', [
      layer({ name: 'old', user_ids: ['cy'], starts_at: at('2026-01-01T00:00:00Z'), rotation: 'P1W' }),
      layer({ name: 'new', starts_at: at('2026-04-01T07:00:00Z'), rotation: 'P1W' }),
    ]);
    table(s, [
      { name: 'has nobody before its start, so the layer below shows', at: '2026-04-01T06:59:59Z', want: ['cy'] },
      { name: 'takes over at its start', at: '2026-04-01T07:00:00Z', want: ['ana'] },
    ]);
    it('alone, leaves nobody on call before it starts', () => {
      assert.deepEqual(onCallAt(schedule('Europe/Berlin', [s.layers[1]!]), at('2026-03-31T12:00:00Z')), []);
      assert.deepEqual(lines(shifts(schedule('Europe/Berlin', [s.layers[1]!]), at('2026-03-31T00:00:00Z'), at('2026-04-02T00:00:00Z'))), [
        'ana new 2026-04-01T07:00:00Z→2026-04-02T00:00:00Z',
      ]);
    });
  });
});

describe('on-call: overrides', () => {
  const base = layer({ user_ids: ['ana'], starts_at: at('2026-01-01T00:00:00Z'), rotation: 'P1W' });
  const cover: Override = { user_id: 'cy', starts_at: at('2026-05-04T10:00:00Z'), ends_at: at('2026-05-04T14:00:00Z'), created_at: at('2026-05-01T00:00:00Z') };
  const later: Override = { user_id: 'dee', starts_at: at('2026-05-04T12:00:00Z'), ends_at: at('2026-05-04T13:00:00Z'), created_at: at('2026-05-02T00:00:00Z') };
  // Listed newest first: creation time decides, not position.
  const s = schedule('Europe/Berlin', [base], [later, cover]);
  table(s, [
    { name: 'an override wins over every layer', at: '2026-05-04T11:00:00Z', want: ['cy'] },
    { name: 'where overrides overlap, the one created last wins', at: '2026-05-04T12:30:00Z', want: ['dee'] },
    { name: 'the earlier override resumes when the later ends', at: '2026-05-04T13:00:00Z', want: ['cy'] },
    { name: 'an override ends at its ends_at', at: '2026-05-04T14:00:00Z', want: ['ana'] },
  ]);
  it('shows overrides as their own pieces in the timeline', () => {
    assert.deepEqual(lines(shifts(s, at('2026-05-04T00:00:00Z'), at('2026-05-05T00:00:00Z'))), [
      'ana primary 2026-05-04T00:00:00Z→2026-05-04T10:00:00Z',
      'cy override 2026-05-04T10:00:00Z→2026-05-04T12:00:00Z',
      'dee override 2026-05-04T12:00:00Z→2026-05-04T13:00:00Z',
      'cy override 2026-05-04T13:00:00Z→2026-05-04T14:00:00Z',
      'ana primary 2026-05-04T14:00:00Z→2026-05-05T00:00:00Z',
    ]);
  });
  it('covers times no layer has anyone', () => {
    const empty = schedule('Europe/Berlin', [], [cover]);
    assert.deepEqual(onCallAt(empty, at('2026-05-04T10:00:00Z')), ['cy']);
    assert.deepEqual(onCallAt(empty, at('2026-05-04T09:59:59Z')), []);
  });
});

describe('on-call: long ranges', () => {
  it('P1W over two years in New York: every hand-off is Monday 09:00 local, in turn', () => {
    const s = schedule('America/New_York', [layer({ user_ids: ['ana', 'ben', 'cy'], starts_at: at('2026-01-05T14:00:00Z'), rotation: 'P1W' })]);
    const items = shifts(s, at('2026-01-05T14:00:00Z'), at('2028-01-03T14:00:00Z'));
    assert.equal(items.length, 104);
    items.forEach((x, i) => {
      const local = DateTime.fromJSDate(x.starts_at, { zone: 'America/New_York' });
      assert.equal(local.toFormat('ccc HH:mm'), 'Mon 09:00', iso(x.starts_at));
      assert.equal(x.user_id, ['ana', 'ben', 'cy'][i % 3]);
    });
  });

  // Everything at once, over a year with both changes: onCallAt (arithmetic) and shifts (a walk
  // over the hand-offs) must tell the same story at every sampled instant.
  const busy = schedule(
    'Europe/Berlin',
    [
      layer({ name: 'base', user_ids: ['ana', 'ben', 'cy'], starts_at: at('2026-01-05T08:00:00Z'), rotation: 'P1W' }),
      layer({ name: 'halves', user_ids: ['day', 'night'], starts_at: at('2026-02-01T01:30:00Z'), rotation: 'PT12H', restrictions: [{ days: ['sat', 'sun'], from: '02:30', to: '02:15' }] }),
      layer({
        name: 'office',
        user_ids: ['dee', 'eve'],
        starts_at: at('2026-03-02T08:00:00Z'),
        rotation: 'P1D',
        restrictions: [
          { days: ['mon', 'wed', 'fri'], from: '09:00', to: '17:00' },
          { days: ['tue', 'thu'], from: '22:00', to: '02:30' },
        ],
      }),
    ],
    [
      { user_id: 'sub', starts_at: at('2026-03-29T00:30:00Z'), ends_at: at('2026-03-29T03:00:00Z'), created_at: at('2026-03-01T00:00:00Z') },
      { user_id: 'sub2', starts_at: at('2026-10-25T00:00:00Z'), ends_at: at('2026-10-25T00:20:00Z'), created_at: at('2026-03-02T00:00:00Z') },
    ],
  );
  it('onCallAt agrees with shifts every 7 minutes 13 seconds through 2026 in Berlin', () => {
    const from = at('2026-01-01T00:00:00Z');
    const to = at('2027-01-01T00:00:00Z');
    const items = shifts(busy, from, to);
    for (let t = from.getTime(); t < to.getTime(); t += 433_000) {
      assert.deepEqual(onCallAt(busy, new Date(t)), fromTimeline(items, t), new Date(t).toISOString());
    }
  });
  it('onCallAt agrees with shifts minute by minute through both DST nights', () => agreeThroughDstNights(busy));
  it('returns nothing for an empty or reversed range', () => {
    assert.deepEqual(shifts(busy, at('2026-05-01T00:00:00Z'), at('2026-05-01T00:00:00Z')), []);
    assert.deepEqual(shifts(busy, at('2026-05-02T00:00:00Z'), at('2026-05-01T00:00:00Z')), []);
  });
});

describe('on-call: until when', () => {
  // Monday 2026-12-07 09:30 in Berlin (CET).
  const T = at('2026-12-07T08:30:00Z');
  const WEEKDAYS_9_TO_17: Restriction[] = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }];
  /** Ten layers handing off every hour, each to Ana alone: a hand-off an hour, none of them to anyone else. */
  const alone = (over: Partial<Layer> = {}) =>
    Array.from({ length: 10 }, (_, i) => layer({ name: `hourly-${i}`, user_ids: ['ana'], starts_at: at('2026-11-02T00:00:00Z'), rotation: 'PT1H', ...over }));
  const cover = (user_id: string, starts_at: Date, ends_at: Date): Override => ({ user_id, starts_at, ends_at, created_at: at('2026-12-01T00:00:00Z') });
  const until = (s: Schedule, t: Date) => onCallUntil(s, t).map((x) => `${x.user_id} ${x.until ? iso(x.until) : 'beyond the horizon'}`);

  it('a person alone in ten hourly layers is on call beyond the horizon', () => {
    assert.deepEqual(until(schedule('Europe/Berlin', alone()), T), ['ana beyond the horizon']);
  });

  it('the horizon is UNTIL_HORIZON_MS from the instant asked, to the millisecond', () => {
    const edge = T.getTime() + UNTIL_HORIZON_MS;
    const before = schedule('Europe/Berlin', alone(), [cover('ben', new Date(edge - 1), new Date(edge + HOUR))]);
    assert.deepEqual(until(before, T), [`ana ${new Date(edge - 1).toISOString()}`]);
    const atEdge = schedule('Europe/Berlin', alone(), [cover('ben', new Date(edge), new Date(edge + HOUR))]);
    assert.deepEqual(until(atEdge, T), ['ana beyond the horizon']);
  });

  describe('an override in the middle', () => {
    const s = schedule('Europe/Berlin', alone(), [cover('ben', at('2026-12-20T12:00:00Z'), at('2026-12-20T14:00:00Z'))]);
    it('ends her run where it starts', () => assert.deepEqual(until(s, T), ['ana 2026-12-20T12:00:00Z']));
    it('is on call until it ends', () => assert.deepEqual(until(s, at('2026-12-20T12:30:00Z')), ['ben 2026-12-20T14:00:00Z']));
    it('gives her back her run beyond the horizon after it', () => assert.deepEqual(until(s, at('2026-12-20T14:00:00Z')), ['ana beyond the horizon']));
    it('of her own is one run with her shifts', () => {
      const own = schedule('Europe/Berlin', alone(), [cover('ana', at('2026-12-20T12:00:00Z'), at('2026-12-20T14:00:00Z'))]);
      assert.deepEqual(until(own, T), ['ana beyond the horizon']);
    });
  });

  describe('restricted to weekdays 09:00–17:00', () => {
    it('ends at 17:00 local when nobody is below', () => {
      const s = schedule('Europe/Berlin', alone({ restrictions: WEEKDAYS_9_TO_17 }));
      assert.deepEqual(until(s, T), ['ana 2026-12-07T16:00:00Z']);
      assert.deepEqual(until(s, at('2026-12-11T15:59:00Z')), ['ana 2026-12-11T16:00:00Z']);
      assert.deepEqual(until(s, at('2026-12-12T12:00:00Z')), []);
    });
    it('ends at 17:00 local when someone else is below', () => {
      const s = schedule('Europe/Berlin', [layer({ name: 'base', user_ids: ['ben'], starts_at: at('2026-11-02T00:00:00Z'), rotation: 'PT1H' }), ...alone({ restrictions: WEEKDAYS_9_TO_17 })]);
      assert.deepEqual(until(s, T), ['ana 2026-12-07T16:00:00Z']);
      assert.deepEqual(until(s, at('2026-12-07T16:00:00Z')), ['ben 2026-12-08T08:00:00Z']);
    });
    it('runs on beyond the horizon when she is below too, an override of another in the middle ending it', () => {
      const layers = [layer({ name: 'base', user_ids: ['ana', 'ana'], starts_at: at('2026-11-02T00:00:00Z'), rotation: 'PT1H' }), ...alone({ restrictions: WEEKDAYS_9_TO_17 })];
      assert.deepEqual(until(schedule('Europe/Berlin', layers), T), ['ana beyond the horizon']);
      const s = schedule('Europe/Berlin', layers, [cover('ben', at('2026-12-19T23:00:00Z'), at('2026-12-20T01:00:00Z'))]);
      assert.deepEqual(until(s, T), ['ana 2026-12-19T23:00:00Z']);
    });
  });

  describe('a rotation that names one person twice running', () => {
    const s = schedule('Europe/Berlin', [layer({ user_ids: ['ana', 'ana', 'ben'], starts_at: at('2026-03-28T22:00:00Z'), rotation: 'PT1H' })]);
    it('keeps her on call through both her hours, and through the hour the clocks skip', () => {
      // Her second pair starts at 02:00 CET, which does not exist: that hand-off and the 03:00
      // CEST one both happen at the jump (01:00Z), so the pair is one hour long.
      assert.deepEqual(lines(shifts(s, at('2026-03-28T22:00:00Z'), at('2026-03-29T04:00:00Z'))), [
        'ana primary 2026-03-28T22:00:00Z→2026-03-29T00:00:00Z',
        'ben primary 2026-03-29T00:00:00Z→2026-03-29T01:00:00Z',
        'ana primary 2026-03-29T01:00:00Z→2026-03-29T02:00:00Z',
        'ben primary 2026-03-29T02:00:00Z→2026-03-29T03:00:00Z',
        'ana primary 2026-03-29T03:00:00Z→2026-03-29T04:00:00Z',
      ]);
      assert.deepEqual(until(s, at('2026-03-28T22:30:00Z')), ['ana 2026-03-29T00:00:00Z']);
      assert.deepEqual(until(s, at('2026-03-29T01:00:00Z')), ['ana 2026-03-29T02:00:00Z']);
    });
    it('onCallAt agrees with shifts minute by minute through both DST nights', () => agreeThroughDstNights(s));
  });
});

describe('on-call: validating a schedule', () => {
  const good: ScheduleInput = {
    time_zone: 'Europe/Berlin',
    layers: [{ name: 'primary', user_ids: ['u1'], starts_at: at('2026-01-01T00:00:00Z'), rotation: 'P1W', restrictions: [{ days: ['mon'], from: '09:00', to: '17:00' }] }],
  };
  const withLayer = (over: Partial<ScheduleInput['layers'][number]>): ScheduleInput => ({ ...good, layers: [{ ...good.layers[0]!, ...over }] });
  const restriction = (over: Partial<{ days: string[]; from: string; to: string }>) =>
    withLayer({ restrictions: [{ days: ['mon'], from: '09:00', to: '17:00', ...over }] });

  const cases: Array<{ name: string; input: ScheduleInput; want: Array<[string, RegExp]> }> = [
    { name: 'accepts a good schedule', input: good, want: [] },
    { name: 'accepts a schedule without layers', input: { time_zone: 'UTC', layers: [] }, want: [] },
    { name: 'accepts month and mixed-unit rotations', input: withLayer({ rotation: 'P1DT12H' }), want: [] },
    { name: 'refuses an unknown time zone', input: { ...good, time_zone: 'Europe/Atlantis' }, want: [['time_zone', /IANA time zone/]] },
    { name: 'refuses a layer without users', input: withLayer({ user_ids: [] }), want: [['layers.0.user_ids', /at least one user/]] },
    { name: 'refuses an unparseable rotation', input: withLayer({ rotation: 'weekly' }), want: [['layers.0.rotation', /ISO 8601 duration/]] },
    { name: 'refuses a zero rotation', input: withLayer({ rotation: 'PT0S' }), want: [['layers.0.rotation', /at least PT1H/]] },
    { name: 'refuses a negative rotation', input: withLayer({ rotation: 'P-1D' }), want: [['layers.0.rotation', /positive/]] },
    { name: 'refuses a rotation under an hour', input: withLayer({ rotation: 'PT30M' }), want: [['layers.0.rotation', /at least PT1H/]] },
    { name: 'refuses months mixed with days', input: withLayer({ rotation: 'P1M1D' }), want: [['layers.0.rotation', /not both/]] },
    { name: 'refuses half a month', input: withLayer({ rotation: 'P1.5M' }), want: [['layers.0.rotation', /whole/]] },
    { name: 'refuses seconds', input: withLayer({ rotation: 'PT1H30S' }), want: [['layers.0.rotation', /whole number of minutes/]] },
    { name: 'refuses an invalid start', input: withLayer({ starts_at: new Date('nope') }), want: [['layers.0.starts_at', /time/]] },
    { name: 'refuses the reserved layer name', input: withLayer({ name: 'override' }), want: [['layers.0.name', /override/]] },
    {
      name: 'refuses two layers of one name',
      input: { ...good, layers: [good.layers[0]!, good.layers[0]!] },
      want: [['layers.1.name', /differ/]],
    },
    { name: 'refuses a restriction without days', input: restriction({ days: [] }), want: [['layers.0.restrictions.0.days', /at least one day/]] },
    { name: 'refuses an unknown day', input: restriction({ days: ['mon', 'monday'] }), want: [['layers.0.restrictions.0.days.1', /one of mon/]] },
    {
      name: 'refuses times that are not HH:MM',
      input: restriction({ from: '9:00', to: '24:00' }),
      want: [
        ['layers.0.restrictions.0.from', /HH:MM/],
        ['layers.0.restrictions.0.to', /HH:MM/],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = validateSchedule(c.input);
      assert.deepEqual(
        got.map((e) => e.field),
        c.want.map(([field]) => field),
      );
      got.forEach((e, i) => assert.match(e.message, c.want[i]![1]));
    });
  }

  it('refuses an override that does not end after it starts', () => {
    const t = at('2026-05-04T10:00:00Z');
    assert.deepEqual(validateOverride({ user_id: 'u1', starts_at: t, ends_at: new Date(t.getTime() + 1) }), []);
    assert.deepEqual(validateOverride({ user_id: 'u1', starts_at: t, ends_at: t }).map((e) => e.field), ['ends_at']);
    assert.deepEqual(validateOverride({ user_id: '', starts_at: t, ends_at: new Date('x') }).map((e) => e.field), ['user_id', 'ends_at']);
  });

  it('refuses to evaluate a rotation that validation would have refused', () => {
    assert.throws(() => onCallAt(schedule('UTC', [layer({ starts_at: at('2026-01-01T00:00:00Z'), rotation: 'PT5M' })]), at('2026-02-01T00:00:00Z')), /at least PT1H/);
  });
});
