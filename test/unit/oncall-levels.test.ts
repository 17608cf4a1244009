import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { levelRecipients, reachesAnyone, type Contacts, type EmailSetup } from '../../src/oncall/model.ts';
import type { Schedule } from '../../src/oncall/schedule.ts';

// Whom a level pages when it fires: its channels, its people, and whoever its schedules have on
// call at that instant.

const T0 = new Date('2026-11-21T10:00:00.000Z');
const HOUR = 3_600_000;
const rota = (users: string[], startsAt = T0): Schedule => ({ time_zone: 'UTC', layers: [{ name: 'p', user_ids: users, starts_at: startsAt, rotation: 'PT1H' }], overrides: [] });

describe('levelRecipients', () => {
  const schedules = new Map<string, Schedule>([
    ['day', rota(['ana', 'ben'])],
    ['night', rota(['ben', 'cai'])],
    ['later', rota(['dee'], new Date(T0.getTime() + 24 * HOUR))],
  ]);

  it('pages the people named, then each schedule’s on-call person at that instant, each person once', () => {
    const r = levelRecipients({ after_seconds: 0, channel_ids: ['ops'], user_ids: ['ben'], schedule_ids: ['day', 'night'] }, schedules, T0);
    assert.deepEqual(r, {
      channel_ids: ['ops'],
      users: [{ user_id: 'ben' }, { user_id: 'ana', schedule_id: 'day' }],
      empty_schedule_ids: [],
    });
    const anHourLater = levelRecipients({ after_seconds: 0, channel_ids: [], schedule_ids: ['day', 'night'] }, schedules, new Date(T0.getTime() + HOUR));
    assert.deepEqual(anHourLater.users, [
      { user_id: 'ben', schedule_id: 'day' },
      { user_id: 'cai', schedule_id: 'night' },
    ]);
  });

  it('names the schedules that had nobody on call, and one that no longer exists, as empty', () => {
    const r = levelRecipients({ after_seconds: 0, channel_ids: [], schedule_ids: ['later', 'gone'] }, schedules, T0);
    assert.deepEqual(r, { channel_ids: [], users: [], empty_schedule_ids: ['later', 'gone'] });
    assert.equal(reachesAnyone(r, new Map(), new Map(), true), false);
  });

  it('reads a level stored before people existed (channels only) as channels only', () => {
    const r = levelRecipients({ after_seconds: 0, channel_ids: ['ops'] }, schedules, T0);
    assert.deepEqual(r, { channel_ids: ['ops'], users: [], empty_schedule_ids: [] });
    assert.equal(reachesAnyone(r, new Map(), new Map(), false), true);
  });
});

describe('reachesAnyone', () => {
  const person = (id: string, channels: Contacts['channels'] = []): [string, Contacts] => [id, { id, name: id, email: `${id}@test.local`, channels }];
  const people = new Map([person('ana'), person('ben', [{ id: 'ben-mail', type: 'email' }]), person('cai', [{ id: 'cai-phone', type: 'webhook' }])]);
  const types = new Map([['ops-mail', 'email'], ['ops-hook', 'webhook']]);
  const level = (user_ids: string[], channel_ids: string[] = []) => levelRecipients({ after_seconds: 0, channel_ids, user_ids }, new Map(), T0);
  const reaches = (r: ReturnType<typeof level>, email: EmailSetup) => reachesAnyone(r, types, people, email);

  it('counts a person by their address unless email is known off', () => {
    assert.equal(reaches(level(['ana']), true), true);
    assert.equal(reaches(level(['ana']), false), false);
  });

  it('with email known off, counts only a person with a channel of their own that is not email', () => {
    assert.equal(reaches(level(['ana', 'ben']), false), false);
    assert.equal(reaches(level(['ana', 'cai']), false), true);
  });

  it('with email known off, does not count an email channel on the level', () => {
    assert.equal(reaches(level([], ['ops-mail']), false), false);
    assert.equal(reaches(level([], ['ops-mail', 'ops-hook']), false), true);
    assert.equal(reaches(level([], ['ops-mail']), true), true);
  });

  // An outbox without the notifier role does not know the notifier's SMTP_URL: skipping these
  // levels on a guess would lose their pages.
  it('counts email where this process does not know whether email is sent', () => {
    assert.equal(reaches(level(['ana', 'ben']), undefined), true);
    assert.equal(reaches(level([], ['ops-mail']), undefined), true);
  });

  it('does not count a person deleted since the level was read', () => {
    assert.equal(reaches(level(['gone']), true), false);
  });
});
