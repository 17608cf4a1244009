import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EscalationPolicy, List, OnCall, Override, PolicyOnCall, Schedule, Shift, User } from '../../src/api/shapes.ts';
import { insertSchedule } from '../../src/oncall/store-schedules.ts';
import { lockExisting } from '../../src/db/named-rows.ts';
import { ADMIN_TOKEN, START, createHarness, expectError, expectInvalid, expectJson, type Harness } from '../helpers/app.ts';
import { lockWaiter } from '../helpers/db.ts';

let h: Harness;
let keys: Record<'write' | 'read', string>;
let mail: string;
let hook: string;

before(async () => {
  h = await createHarness();
  keys = { write: (await h.createKey('write', 'people-write')).secret, read: (await h.createKey('read', 'people-read')).secret };
  const channel = async (json: unknown) => (await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', json), 201)).id;
  mail = await channel({ name: 'team-mail', type: 'email', config: { to: ['team@example.com'] } });
  hook = await channel({ name: 'phone-push', type: 'webhook', config: { url: 'https://push.example.com/alice' } });
});

after(async () => {
  await h?.close();
});

const HOUR = 3_600_000;
const at = (ms: number) => new Date(Date.parse(START) + ms).toISOString();
const unknown = '00000000-0000-4000-8000-0000000000ee';

const createUser = async (json: Record<string, unknown>) => expectJson<User>(await h.req('POST', '/v1/users', { token: keys.write, json }), 201);
const createSchedule = async (json: Record<string, unknown>) => expectJson<Schedule>(await h.req('POST', '/v1/schedules', { token: keys.write, json }), 201);
/** One daily rotation of these users from START, in UTC. */
const daily = (name: string, userIds: string[]) => ({ name, time_zone: 'UTC', layers: [{ name: 'primary', user_ids: userIds, starts_at: START, rotation: 'P1D' }] });

describe('users', () => {
  it('creates a user with the defaults, reads it back and lists users by name across pages', async () => {
    const u = await createUser({ name: 'Alice', email: 'alice@example.com', channel_ids: [hook, mail] });
    assert.deepEqual(u, {
      id: u.id,
      name: 'Alice',
      email: 'alice@example.com',
      time_zone: 'UTC',
      channel_ids: [hook, mail],
      created_at: START,
      updated_at: START,
    });
    assert.deepEqual(await expectJson(await h.req('GET', `/v1/users/${u.id}`, { token: keys.read }), 200), u);
    await createUser({ name: 'Bob', email: 'bob@example.com', time_zone: 'Europe/Berlin' });
    await createUser({ name: 'Carol', email: 'carol@example.com' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: List<User> = await expectJson<List<User>>(await h.req('GET', `/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: keys.read }), 200);
      seen.push(...page.items.map((x) => x.name));
      cursor = page.next_cursor;
    } while (cursor !== null);
    assert.deepEqual(seen, ['Alice', 'Bob', 'Carol']);
  });

  it('patches fields; channel_ids replaces the list and keeps its order', async () => {
    const u = await createUser({ name: 'Dora', email: 'dora@example.com', channel_ids: [mail] });
    h.clock.advance(1000);
    const patched = await expectJson<User>(await h.admin('PATCH', `/v1/users/${u.id}`, { name: 'Dora D.', channel_ids: [hook, mail], time_zone: 'America/New_York' }), 200);
    assert.deepEqual([patched.name, patched.channel_ids, patched.time_zone, patched.updated_at], ['Dora D.', [hook, mail], 'America/New_York', h.clock.now().toISOString()]);
    assert.deepEqual((await expectJson<User>(await h.admin('PATCH', `/v1/users/${u.id}`, { channel_ids: [] }), 200)).channel_ids, []);
  });

  it('409 for an address another user has, whatever its case, on create and on change', async () => {
    await createUser({ name: 'Erin', email: 'erin@example.com' });
    const err = await expectError(await h.rejected(() => h.admin('POST', '/v1/users', { name: 'Erin 2', email: 'ERIN@example.com' })), 409, 'conflict');
    assert.match(err.message, /ERIN@example\.com/);
    // The address's holder at the field, in the same answer (no second read that could race a change).
    assert.deepEqual(err.details, [{ field: 'email', message: 'already belongs to Erin (erin@example.com)' }]);
    const other = await createUser({ name: 'Frank', email: 'frank@example.com' });
    await expectError(await h.rejected(() => h.admin('PATCH', `/v1/users/${other.id}`, { email: 'erin@EXAMPLE.com' })), 409, 'conflict');
  });

  it('400 naming each bad field', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{}, ['name', 'email']],
      [{ name: 'x', email: 'not-an-address' }, ['email']],
      [{ name: 'x', email: 'x@example.com', time_zone: 'Mars/Olympus' }, ['time_zone']],
      [{ name: 'x', email: 'x@example.com', channel_ids: [unknown, mail, unknown.replace('ee', 'ff')] }, ['channel_ids.0', 'channel_ids.2']],
      [{ name: 'x', email: 'x@example.com', channel_ids: [mail, mail] }, ['channel_ids']],
      [{ name: 'x', email: 'x@example.com', phone: '+49' }, ['phone']],
    ];
    for (const [json, fields] of cases) await expectInvalid(await h.rejected(() => h.admin('POST', '/v1/users', json)), fields);
  });

  it('a channel a user names cannot be deleted (409, naming the user)', async () => {
    const own = (await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', { name: 'gina-slack', type: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/g' } }), 201)).id;
    const gina = await createUser({ name: 'Gina', email: 'gina@example.com', channel_ids: [own] });
    const err = await expectError(await h.rejected(() => h.admin('DELETE', `/v1/channels/${own}`)), 409, 'conflict');
    assert.match(err.message, /user "Gina"/);
    await expectJson(await h.admin('PATCH', `/v1/users/${gina.id}`, { channel_ids: [] }), 200);
    assert.equal((await h.admin('DELETE', `/v1/channels/${own}`)).status, 204);
  });

  it('refuses (409) to delete a user a policy, a schedule or an override that has not ended names; deletes one nothing names', async () => {
    const hana = await createUser({ name: 'Hana', email: 'hana@example.com' });
    const policy = await expectJson<EscalationPolicy>(await h.admin('POST', '/v1/escalation-policies', { name: 'names-hana', levels: [{ after_seconds: 0, user_ids: [hana.id] }] }), 201);
    assert.match((await expectError(await h.rejected(() => h.admin('DELETE', `/v1/users/${hana.id}`)), 409, 'conflict')).message, /^The user is named on escalation policy "names-hana"/);
    assert.equal((await h.admin('DELETE', `/v1/escalation-policies/${policy.id}`)).status, 204);

    const schedule = await createSchedule(daily('hana-rota', [hana.id]));
    // In the rotation, not on call now (Ivan is first): the refusal says which.
    const other = await createUser({ name: 'Ivan', email: 'ivan@example.com' });
    await expectJson(await h.admin('PATCH', `/v1/schedules/${schedule.id}`, { layers: [{ name: 'primary', user_ids: [other.id, hana.id], starts_at: START, rotation: 'P1D' }] }), 200);
    assert.equal(
      (await expectError(await h.rejected(() => h.admin('DELETE', `/v1/users/${hana.id}`)), 409, 'conflict')).message,
      `The user is in the rotation of schedule "hana-rota" (${schedule.id}); take them out first.`,
    );
    await expectJson(await h.admin('PATCH', `/v1/schedules/${schedule.id}`, { layers: [{ name: 'primary', user_ids: [other.id], starts_at: START, rotation: 'P1D' }] }), 200);

    await expectJson(await h.admin('POST', `/v1/schedules/${schedule.id}/overrides`, { user_id: hana.id, starts_at: at(HOUR), ends_at: at(2 * HOUR) }), 201);
    assert.match((await expectError(await h.rejected(() => h.admin('DELETE', `/v1/users/${hana.id}`)), 409, 'conflict')).message, /^The user has an override of schedule "hana-rota"/);
    // Once the override has ended it no longer holds the user, and goes with them.
    h.clock.set(at(2 * HOUR));
    assert.equal((await h.admin('DELETE', `/v1/users/${hana.id}`)).status, 204);
    await expectError(await h.admin('GET', `/v1/users/${hana.id}`), 404, 'not_found');
    assert.equal((await h.sql`select 1 from schedule_overrides where user_id = ${hana.id}`).length, 0);
    h.clock.set(START);
  });

  it('a delete waiting on a schedule write that names the user sees that schedule and refuses', async () => {
    const jo = await createUser({ name: 'Jo', email: 'jo@example.com' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const writer = h.sql.begin(async (tx) => {
      assert.deepEqual(await lockExisting(tx, 'users', [jo.id]), new Set([jo.id]));
      await released;
      await insertSchedule(tx, { name: 'raced-rota', time_zone: 'UTC', layers: [{ name: 'p', user_ids: [jo.id], starts_at: new Date(START), rotation: 'P1D' }] }, h.clock.now());
    });
    const deletion = h.admin('DELETE', `/v1/users/${jo.id}`);
    await lockWaiter(h.sql);
    release();
    await writer;
    assert.match((await expectError(await deletion, 409, 'conflict')).message, /"raced-rota"/);
  });
});

describe('schedules', () => {
  let ana: User;
  let ben: User;
  before(async () => {
    ana = await createUser({ name: 'Ana', email: 'ana@example.com' });
    ben = await createUser({ name: 'Ben', email: 'ben@example.com' });
  });

  it('creates a schedule, reads it by id and by name, and answers who is on call and the shifts', async () => {
    const s = await createSchedule({
      name: 'primary',
      time_zone: 'Europe/Berlin',
      layers: [
        { name: 'rota', user_ids: [ana.id, ben.id], starts_at: START, rotation: 'P1D' },
        { name: 'office', user_ids: [ben.id], starts_at: START, rotation: 'P1W', restrictions: [{ days: ['sat'], from: '09:00', to: '17:00' }] },
      ],
    });
    assert.deepEqual(s.layers[1], { name: 'office', user_ids: [ben.id], starts_at: START, rotation: 'P1W', restrictions: [{ days: ['sat'], from: '09:00', to: '17:00' }] });
    assert.deepEqual(await expectJson(await h.req('GET', '/v1/schedules/primary', { token: keys.read }), 200), s);
    assert.deepEqual(await expectJson(await h.req('GET', `/v1/schedules/${s.id}`, { token: keys.read }), 200), s);

    // START is Saturday 2026-11-21 10:00 UTC (11:00 in Berlin): the office layer has Ben on top.
    const now = await expectJson<OnCall>(await h.req('GET', `/v1/schedules/${s.id}/on-call`, { token: keys.read }), 200);
    assert.deepEqual(now, { at: START, user_ids: [ben.id], users: [{ id: ben.id, name: 'Ben', until: at(6 * HOUR) }] }, 'Ben until the office layer closes at 17:00 in Berlin');
    const evening = await expectJson<OnCall>(await h.req('GET', `/v1/schedules/primary/on-call?at=${at(7 * HOUR)}`, { token: keys.read }), 200);
    assert.deepEqual(evening.user_ids, [ana.id], '18:00 in Berlin: the office layer has closed and the rota shows through');

    const shifts = await expectJson<List<Shift>>(await h.req('GET', `/v1/schedules/${s.id}/shifts?from=${START}&to=${at(24 * HOUR)}`, { token: keys.read }), 200);
    assert.deepEqual(
      shifts.items.map((x) => [x.user_id === ana.id ? 'ana' : 'ben', x.layer, x.starts_at, x.ends_at]),
      [
        ['ben', 'office', START, at(6 * HOUR)],
        ['ana', 'rota', at(6 * HOUR), at(24 * HOUR)],
      ],
    );
    assert.equal(shifts.next_cursor, null);
    const week = await expectJson<List<Shift>>(await h.req('GET', `/v1/schedules/${s.id}/shifts`, { token: keys.read }), 200);
    assert.equal(week.items[0]!.starts_at, START, 'from defaults to now');
    assert.equal(week.items.at(-1)!.ends_at, at(7 * 24 * HOUR), 'to defaults to a week later');
  });

  it('overrides win, the last added where they overlap, and can be listed and removed', async () => {
    const s = await createSchedule(daily('override-me', [ana.id]));
    const first = await expectJson<Override>(await h.admin('POST', `/v1/schedules/${s.id}/overrides`, { user_id: ben.id, starts_at: at(HOUR), ends_at: at(3 * HOUR) }), 201);
    assert.deepEqual(first, { id: first.id, schedule_id: s.id, user_id: ben.id, starts_at: at(HOUR), ends_at: at(3 * HOUR), created_at: START });
    h.clock.advance(1000);
    const second = await expectJson<Override>(await h.admin('POST', `/v1/schedules/override-me/overrides`, { user_id: ana.id, starts_at: at(2 * HOUR), ends_at: at(4 * HOUR) }), 201);
    const who = async (t: string) => (await expectJson<OnCall>(await h.admin('GET', `/v1/schedules/${s.id}/on-call?at=${t}`), 200)).user_ids;
    assert.deepEqual(await who(at(HOUR)), [ben.id]);
    assert.deepEqual(await who(at(2 * HOUR)), [ana.id], 'the later override wins where they overlap');
    const listed = await expectJson<List<Override>>(await h.admin('GET', `/v1/schedules/${s.id}/overrides`), 200);
    assert.deepEqual(listed.items.map((o) => o.id), [first.id, second.id]);
    h.clock.set(at(3 * HOUR));
    assert.deepEqual((await expectJson<List<Override>>(await h.admin('GET', `/v1/schedules/${s.id}/overrides`), 200)).items.map((o) => o.id), [second.id], 'ended ones drop out');
    assert.equal((await expectJson<List<Override>>(await h.admin('GET', `/v1/schedules/${s.id}/overrides?since=${START}`), 200)).items.length, 2);
    h.clock.set(START);

    assert.equal((await h.admin('DELETE', `/v1/schedules/${s.id}/overrides/${first.id}`)).status, 204);
    assert.deepEqual(await who(at(HOUR)), [ana.id]);
    await expectError(await h.rejected(() => h.admin('DELETE', `/v1/schedules/${s.id}/overrides/${first.id}`)), 404, 'not_found');
  });

  it('400 naming each bad field of a schedule, an override and a range', async () => {
    const layer = { name: 'p', user_ids: [ana.id], starts_at: START, rotation: 'P1D' };
    const cases: Array<[unknown, string[]]> = [
      [{}, ['name', 'time_zone', 'layers']],
      [{ name: 'x', time_zone: 'Nowhere/Land', layers: [layer] }, ['time_zone']],
      [{ name: 'x', time_zone: 'UTC', layers: [] }, ['layers']],
      [{ name: 'x', time_zone: 'UTC', layers: [{ ...layer, rotation: 'weekly' }] }, ['layers.0.rotation']],
      [{ name: 'x', time_zone: 'UTC', layers: [{ ...layer, rotation: 'PT30M' }] }, ['layers.0.rotation']],
      [{ name: 'x', time_zone: 'UTC', layers: [{ ...layer, name: 'override' }] }, ['layers.0.name']],
      [{ name: 'x', time_zone: 'UTC', layers: [layer, layer] }, ['layers.1.name']],
      [{ name: 'x', time_zone: 'UTC', layers: [{ ...layer, user_ids: [] }] }, ['layers.0.user_ids']],
      [{ name: 'x', time_zone: 'UTC', layers: [{ ...layer, user_ids: [ana.id, unknown] }] }, ['layers.0.user_ids.1']],
      [{ name: 'x', time_zone: 'UTC', layers: [{ ...layer, starts_at: 'monday' }] }, ['layers.0.starts_at']],
      [{ name: 'x', time_zone: 'UTC', layers: [{ ...layer, restrictions: [{ days: ['funday'], from: '09:00', to: '17:00' }] }] }, ['layers.0.restrictions.0.days.0']],
      [{ name: 'x', time_zone: 'UTC', layers: [{ ...layer, restrictions: [{ days: ['mon'], from: '9am', to: '24:01' }] }] }, ['layers.0.restrictions.0.from', 'layers.0.restrictions.0.to']],
      [{ name: 'x', time_zone: 'UTC', layers: [{ ...layer, restrictions: [{ days: ['mon'], from: '24:00', to: '09:00' }] }] }, ['layers.0.restrictions.0.from']],
    ];
    for (const [json, fields] of cases) await expectInvalid(await h.rejected(() => h.admin('POST', '/v1/schedules', json)), fields);

    const s = await createSchedule(daily('bad-input', [ana.id]));
    await expectInvalid(await h.rejected(() => h.admin('POST', `/v1/schedules/${s.id}/overrides`, { user_id: ana.id, starts_at: at(HOUR), ends_at: at(HOUR) })), ['ends_at']);
    await expectInvalid(await h.rejected(() => h.admin('POST', `/v1/schedules/${s.id}/overrides`, { user_id: unknown, starts_at: START, ends_at: at(HOUR) })), ['user_id']);
    await expectInvalid(await h.rejected(() => h.admin('POST', `/v1/schedules/${s.id}/overrides`, { user_id: 'ana', starts_at: START })), ['user_id', 'ends_at']);
    await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/schedules/${s.id}`, { time_zone: 'Atlantis' })), ['time_zone']);
    await expectInvalid(await h.req('GET', `/v1/schedules/${s.id}/shifts?from=${at(HOUR)}&to=${START}`, { token: ADMIN_TOKEN }), ['to']);
    await expectInvalid(await h.req('GET', `/v1/schedules/${s.id}/shifts?from=${START}&to=${at(94 * 24 * HOUR)}`, { token: ADMIN_TOKEN }), ['to']);
    await expectInvalid(await h.req('GET', `/v1/schedules/${s.id}/on-call?at=noon`, { token: ADMIN_TOKEN }), ['at']);
  });

  it('refuses a zone abbreviation (400 with a hint), keeps an IANA name as typed, and still reads a zone kept before', async () => {
    const layer = { name: 'p', user_ids: [ana.id], starts_at: START, rotation: 'P1D' };
    // Intl reads each as another zone: EST is America/Panama (no DST), BST Asia/Dhaka, CET Europe/Brussels, IST Asia/Calcutta.
    for (const zone of ['EST', 'BST', 'CET', 'IST']) {
      const err = await expectInvalid(await h.rejected(() => h.admin('POST', '/v1/schedules', { name: `rota ${zone}`, time_zone: zone, layers: [layer] })), ['time_zone']);
      assert.match(err.details![0]!.message, /use an IANA name such as America\/New_York/);
      await expectInvalid(await h.rejected(() => h.admin('POST', '/v1/users', { name: zone, email: `${zone}@example.com`, time_zone: zone })), ['time_zone']);
    }
    assert.equal((await createSchedule({ name: 'kolkata', time_zone: 'Asia/Kolkata', layers: [layer] })).time_zone, 'Asia/Kolkata');
    assert.equal((await createUser({ name: 'Priya', email: 'priya@example.com', time_zone: 'asia/kolkata' })).time_zone, 'Asia/Kolkata');
    assert.equal((await createSchedule({ name: 'kyiv', time_zone: 'Europe/Kyiv', layers: [layer] })).time_zone, 'Europe/Kyiv');

    // A row kept with an abbreviation before is still read, and changed in its other fields.
    const kept = await insertSchedule(h.sql, { name: 'kept-est', time_zone: 'EST', layers: [{ ...layer, starts_at: new Date(START) }] }, h.clock.now());
    assert.deepEqual((await expectJson<OnCall>(await h.admin('GET', `/v1/schedules/${kept.id}/on-call`), 200)).user_ids, [ana.id]);
    assert.equal((await expectJson<Schedule>(await h.admin('PATCH', `/v1/schedules/${kept.id}`, { name: 'kept-est-2' }), 200)).time_zone, 'EST');
    // An edit form sends the zone back as kept: that is no change, and the rest of the edit is made.
    assert.equal((await expectJson<Schedule>(await h.admin('PATCH', `/v1/schedules/${kept.id}`, { name: 'kept-est-3', time_zone: 'EST' }), 200)).name, 'kept-est-3');
    await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/schedules/${kept.id}`, { time_zone: 'PST' })), ['time_zone']);
    const sam = await createUser({ name: 'Sam', email: 'sam@example.com' });
    await h.sql`update users set time_zone = 'CET' where id = ${sam.id}`;
    const samEdited = await expectJson<User>(await h.admin('PATCH', `/v1/users/${sam.id}`, { name: 'Sam K.', email: 'sam@example.com', time_zone: 'CET' }), 200);
    assert.deepEqual([samEdited.name, samEdited.time_zone], ['Sam K.', 'CET']);
    await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/users/${sam.id}`, { time_zone: 'IST' })), ['time_zone']);

    // UTC by its other names, and the database's older names without an area, are taken.
    for (const zone of ['GMT', 'Zulu', 'Japan', 'EST5EDT']) {
      await expectJson(await h.admin('POST', '/v1/users', { name: zone, email: `${zone}@example.com`, time_zone: zone }), 201);
    }
  });

  it('on-call answers name each person and until when, for a schedule and for each level of a policy', async () => {
    const s = await createSchedule(daily('until-rota', [ana.id, ben.id]));
    const who = async (t: string) => expectJson<OnCall>(await h.admin('GET', `/v1/schedules/${s.id}/on-call?at=${t}`), 200);
    assert.deepEqual(await who(START), { at: START, user_ids: [ana.id], users: [{ id: ana.id, name: 'Ana', until: at(24 * HOUR) }] });
    // Ben covers Ana's last two hours: her run ends at the override, his with it.
    await expectJson(await h.admin('POST', `/v1/schedules/${s.id}/overrides`, { user_id: ben.id, starts_at: at(22 * HOUR), ends_at: at(24 * HOUR) }), 201);
    assert.deepEqual((await who(START)).users, [{ id: ana.id, name: 'Ana', until: at(22 * HOUR) }]);
    assert.deepEqual((await who(at(23 * HOUR))).users, [{ id: ben.id, name: 'Ben', until: at(48 * HOUR) }], 'the override, then his own day: one run');
    const alone = await createSchedule(daily('alone-rota', [ana.id]));
    assert.deepEqual((await expectJson<OnCall>(await h.admin('GET', `/v1/schedules/${alone.id}/on-call`), 200)).users, [{ id: ana.id, name: 'Ana', until: null }], 'no hand-off within 93 days');

    // The harness has no SMTP_URL: Ana and Ben, reached only by email, count as reaching nobody; Cleo has a webhook of her own.
    const cleo = await createUser({ name: 'Cleo', email: 'cleo@example.com', channel_ids: [hook] });
    // Saturday 11:00 in Berlin: a weekday office rota has nobody.
    const office = await createSchedule({ name: 'until-office', time_zone: 'Europe/Berlin', layers: [{ name: 'desk', user_ids: [ben.id], starts_at: START, rotation: 'P1W', restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] }] });
    const p = await expectJson<EscalationPolicy>(
      await h.admin('POST', '/v1/escalation-policies', {
        name: 'until-policy',
        levels: [
          { after_seconds: 0, schedule_ids: [s.id], user_ids: [cleo.id] },
          { after_seconds: 300, schedule_ids: [office.id] },
          { after_seconds: 600, channel_ids: [hook] },
        ],
      }),
      201,
    );
    const levels = (await expectJson<PolicyOnCall>(await h.req('GET', `/v1/escalation-policies/${p.id}/on-call?at=${START}`, { token: keys.read }), 200)).levels;
    assert.deepEqual(levels[0], {
      after_seconds: 0,
      channel_ids: [],
      user_ids: [cleo.id, ana.id],
      users: [
        { id: cleo.id, name: 'Cleo', until: null, schedule_id: null },
        { id: ana.id, name: 'Ana', until: at(22 * HOUR), schedule_id: s.id },
      ],
      empty_schedule_ids: [],
      reaches_anyone: true,
    });
    assert.deepEqual(levels[1], { after_seconds: 300, channel_ids: [], user_ids: [], users: [], empty_schedule_ids: [office.id], reaches_anyone: false });
    assert.deepEqual([levels[2]!.channel_ids, levels[2]!.reaches_anyone], [[hook], true]);
    // Monday 09:00 in Berlin the office rota has Ben until 17:00.
    const monday = '2026-11-23T08:00:00.000Z';
    const later = (await expectJson<PolicyOnCall>(await h.admin('GET', `/v1/escalation-policies/${p.id}/on-call?at=${monday}`), 200)).levels[1]!;
    assert.deepEqual([later.users, later.empty_schedule_ids, later.reaches_anyone], [[{ id: ben.id, name: 'Ben', until: '2026-11-23T16:00:00.000Z', schedule_id: office.id }], [], false]);
    await expectInvalid(await h.admin('GET', `/v1/escalation-policies/${p.id}/on-call?at=noon`), ['at']);
    await expectError(await h.admin('GET', `/v1/escalation-policies/${unknown}/on-call`), 404, 'not_found');
    assert.equal((await h.admin('DELETE', `/v1/escalation-policies/${p.id}`)).status, 204);
  });

  it('takes 24:00 as the end of a window, kept as 00:00: 18:00–24:00 ends at midnight', async () => {
    const s = await createSchedule({ name: 'evenings', time_zone: 'Europe/Berlin', layers: [{ name: 'late', user_ids: [ana.id], starts_at: START, rotation: 'P1D', restrictions: [{ days: ['sat'], from: '18:00', to: '24:00' }] }] });
    assert.deepEqual(s.layers[0]!.restrictions, [{ days: ['sat'], from: '18:00', to: '00:00' }]);
    const shifts = await expectJson<List<Shift>>(await h.admin('GET', `/v1/schedules/${s.id}/shifts?from=${START}&to=${at(24 * HOUR)}`), 200);
    // Saturday 18:00 to Sunday 00:00 in Berlin: 17:00 to 23:00 UTC.
    assert.deepEqual(shifts.items.map((x) => [x.starts_at, x.ends_at]), [[at(7 * HOUR), at(13 * HOUR)]]);
  });

  it('409 for a taken name; 404 for an unknown schedule or override', async () => {
    await createSchedule(daily('taken', [ana.id]));
    await expectError(await h.rejected(() => h.admin('POST', '/v1/schedules', daily('taken', [ben.id]))), 409, 'conflict');
    for (const path of ['/v1/schedules/nope', `/v1/schedules/${unknown}/on-call`, `/v1/schedules/nope/shifts`, `/v1/schedules/nope/overrides`]) {
      await expectError(await h.admin('GET', path), 404, 'not_found');
    }
    await expectError(await h.rejected(() => h.admin('DELETE', `/v1/schedules/taken/overrides/not-an-id`)), 404, 'not_found');
  });

  it('escalation levels name users and schedules that exist; a schedule a policy names cannot be deleted', async () => {
    const s = await createSchedule(daily('paged-rota', [ana.id]));
    const p = await expectJson<EscalationPolicy>(
      await h.admin('POST', '/v1/escalation-policies', { name: 'people', levels: [{ after_seconds: 0, schedule_ids: [s.id], user_ids: [ben.id] }, { after_seconds: 60, channel_ids: [mail] }] }),
      201,
    );
    assert.deepEqual(p.levels[0], { after_seconds: 0, channel_ids: [], user_ids: [ben.id], schedule_ids: [s.id] });
    const err = await expectError(await h.rejected(() => h.admin('DELETE', `/v1/schedules/${s.id}`)), 409, 'conflict');
    assert.match(err.message, /escalation policy "people"/);
    assert.equal((await h.admin('DELETE', `/v1/escalation-policies/${p.id}`)).status, 204);
    assert.equal((await h.admin('DELETE', `/v1/schedules/${s.id}`)).status, 204);
    await expectError(await h.admin('GET', `/v1/schedules/${s.id}`), 404, 'not_found');
  });

  it('401 without a secret and 403 for a read key on every write', async () => {
    const s = await createSchedule(daily('guarded', [ana.id]));
    const writes = [
      ['POST', '/v1/users', { name: 'x', email: 'x@example.com' }],
      ['PATCH', `/v1/users/${ana.id}`, { name: 'x' }],
      ['DELETE', `/v1/users/${ana.id}`, undefined],
      ['POST', '/v1/schedules', daily('x', [ana.id])],
      ['PATCH', `/v1/schedules/${s.id}`, { name: 'x' }],
      ['DELETE', `/v1/schedules/${s.id}`, undefined],
      ['POST', `/v1/schedules/${s.id}/overrides`, { user_id: ana.id, starts_at: START, ends_at: at(HOUR) }],
    ] as const;
    for (const [method, path, json] of writes) {
      await expectError(await h.rejected(() => h.req(method, path, { json })), 401, 'unauthorized');
      await expectError(await h.rejected(() => h.req(method, path, { json, token: keys.read })), 403, 'forbidden');
    }
  });
});
