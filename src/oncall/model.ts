// Who is paged for an incident, and when: escalation policies, the people they name and the
// on-call schedules that say who those people are at a given moment. The pure rules of a
// schedule are in schedule.ts, of escalation timing in escalation.ts.

import { Refusal } from '../errors.ts';
import { onCallAt, type Layer, type Override, type Schedule } from './schedule.ts';

/**
 * The most levels a policy holds: the API refuses more, and the console's form always shows this
 * many rows so that no level a policy has is left off and lost on save.
 */
export const MAX_LEVELS = 10;

/** A level pages channels, people and whoever a schedule has on call when the level fires. */
export interface PolicyLevel {
  after_seconds: number;
  channel_ids: string[];
  /** Absent in levels stored before people existed: none. */
  user_ids?: string[] | undefined;
  schedule_ids?: string[] | undefined;
}

export interface PolicyRow {
  id: string;
  name: string;
  levels: PolicyLevel[];
  repeat: number;
  /** An acknowledgement still unresolved this long after it is put back to open and pages level 0 again; null: never. */
  ack_timeout_seconds: number | null;
  is_default: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface NewPolicy {
  name: string;
  levels: PolicyLevel[];
  repeat: number;
  /** Absent: none (null). */
  ack_timeout_seconds?: number | null | undefined;
  is_default: boolean;
}

export type PolicyPatch = Partial<NewPolicy>;

/** What holds a channel, a user or a schedule, for refusals ("used by policy X"). */
export interface NamedBy {
  id: string;
  /** Its name; an incident's title. */
  name: string;
  /** An incident's node, by its name now (the title keeps the name it had when it opened). */
  node?: string;
  /** The dead outbox event of the incident that holds it: what an admin replays or discards. */
  event_id?: string;
}

/**
 * What keeps a channel, a user or a schedule from being deleted: what names it (`override`: an
 * override still to come, by its schedule), or incidents by their id: open ones it was `paged`
 * for, ones `owing` it messages, and their dead outbox events (`parked`) that would message it.
 */
export type HolderKind = 'policy' | 'user' | 'schedule' | 'override' | 'paged' | 'owing' | 'parked';

/** The things of one kind that still hold something a deletion was asked for. */
export interface HeldBy {
  kind: HolderKind;
  list: NamedBy[];
  /** How many hold it where `list` names only the first NAMED_INCIDENTS. */
  total?: number;
}

/** How a refusal names one holder of a kind, and several. */
export const HOLDER_WORDS: Readonly<Record<HolderKind, readonly [one: string, many: string]>> = {
  policy: ['escalation policy', 'escalation policies'],
  user: ['user', 'users'],
  schedule: ['schedule', 'schedules'],
  override: ['an override of schedule', 'overrides of schedules'],
  paged: ['open incident', 'open incidents'],
  owing: ['incident', 'incidents'],
  parked: ['dead outbox event', 'dead outbox events'],
};

/**
 * How a refused deletion of a person says what holds them, each kind by what it does with them:
 * "on call through schedule …" would say a person in a rotation is on call now, which they may not
 * be (an admin of 40 people reads it as a page going out).
 */
export const USER_HOLDER_WORDS: Readonly<Record<HolderKind, readonly [one: string, many: string]>> = {
  ...HOLDER_WORDS,
  policy: ['is named on escalation policy', 'is named on escalation policies'],
  schedule: ['is in the rotation of schedule', 'is in the rotation of schedules'],
  override: ['has an override of schedule', 'has overrides of schedules'],
};

/**
 * A deletion refused because other things still hold what it would delete. The message is the
 * API's (names with ids); `heldBy` carries the same things by kind, so the console can link each
 * one to its page instead of quoting ids.
 */
export class InUse extends Refusal {
  constructor(
    message: string,
    readonly heldBy: HeldBy[],
  ) {
    super('conflict', message);
  }
}

/**
 * The refusal of a deletion while anything in `groups` names it, its message `say`ing what does
 * (`escalation policy "p" (id) and user "u" (id)`, each kind in `words`); undefined when nothing does.
 */
export function inUse(groups: HeldBy[], say: (by: string) => string, words = HOLDER_WORDS): InUse | undefined {
  const held = groups.filter((g) => g.list.length > 0);
  if (held.length === 0) return undefined;
  const by = held.map(({ kind, list }) => `${words[kind][list.length === 1 ? 0 : 1]} ${list.map((x) => `"${x.name}" (${x.id})`).join(', ')}`);
  return new InUse(say(by.join(' and ')), held);
}

/** How many open incidents a refusal names; the count it gives covers the rest. */
export const NAMED_INCIDENTS = 5;

/** The first of `total` things a refusal names, comma-separated, then how many it leaves out. */
function listed<T>(shown: T[], total: number, name: (x: T) => string): string {
  const more = total - shown.length;
  return shown.map(name).join(', ') + (more > 0 ? ` and ${more} more` : '');
}

/** An incident holding a deletion, with the count of all that do (the list names the first NAMED_INCIDENTS). */
export type HoldingIncident = Required<Pick<NamedBy, 'id' | 'name' | 'node'>> & { total: number };

/**
 * Why a channel or person must stay while incidents hold it, each list oldest first with the count
 * of all: open incidents the ledger paged it for (their resolves go to what was paged), else
 * incidents that still owe it messages (incidentsOwing). Undefined when neither.
 */
export function stillHeld(what: 'channel' | 'user', paged: HoldingIncident[], owing: HoldingIncident[]): InUse | undefined {
  const held = paged.length ? paged : owing;
  const total = held[0]?.total;
  if (!total) return undefined;
  const list = listed(held, total, (x) => `"${x.name}" (${x.id})`);
  const heldBy: HeldBy[] = [{ kind: held === paged ? 'paged' : 'owing', list: held, total }];
  if (held === paged) {
    return new InUse(
      total === 1
        ? `The ${what} was paged for open incident ${list}; delete it once that is resolved, so its resolve reaches the ${what}.`
        : `The ${what} was paged for ${total} open incidents: ${list}; delete it once they are resolved, so their resolves reach the ${what}.`,
      heldBy,
    );
  }
  return new InUse(
    total === 1
      ? `Messages of incident ${list} to the ${what} are not all delivered yet; delete it once they are.`
      : `Messages of ${total} incidents to the ${what} are not all delivered yet: ${list}; delete it once they are.`,
    heldBy,
  );
}

/**
 * Why a channel or person must stay while dead outbox events would message it once replayed
 * (parkedEventsMessaging): each event is named by its id, which an admin replays (then the
 * deletion waits for its messages) or discards (its messages are given up). The caller may hold
 * only the write scope, so the message says an admin does it. Undefined when there are none.
 */
export function stillParked(what: 'channel' | 'user', parked: Array<HoldingIncident & { event_id: string }>): InUse | undefined {
  const total = parked[0]?.total;
  if (!total) return undefined;
  const list = listed(parked, total, (e) => `${e.event_id} (incident "${e.name}", ${e.id})`);
  const [id, its] = total === 1 ? [parked[0]!.event_id, 'its'] : ['{id}', 'their'];
  const settle = `an admin replays (POST /v1/outbox/dead/${id}/replay: delete the ${what} once ${its} messages are delivered) or discards (DELETE /v1/outbox/dead/${id}: ${its} messages are never sent)`;
  return new InUse(
    total === 1
      ? `Dead outbox event ${list} would still message the ${what} once replayed; ${settle} it first.`
      : `${total} dead outbox events would still message the ${what} once replayed: ${list}; ${settle} each first.`,
    [{ kind: 'parked', list: parked, total }],
  );
}

/** One detail per id in `ids` that `existing` lacks, named `field.i`. */
export function missingIds(ids: readonly string[], existing: ReadonlySet<string>, field: string, message: string): Array<{ field: string; message: string }> {
  return ids.flatMap((id, i) => (existing.has(id) ? [] : [{ field: `${field}.${i}`, message }]));
}

// ─── People ─────────────────────────────────────────────────────────────────────────────────────

/** A person: reached by email and by each of their own channels, in that order. */
export interface UserRow {
  id: string;
  name: string;
  email: string;
  time_zone: string;
  channel_ids: string[];
  created_at: Date;
  updated_at: Date;
}

export interface NewUser {
  name: string;
  email: string;
  time_zone: string;
  channel_ids: string[];
}

export type UserPatch = Partial<NewUser>;

/** Cursor: the last item's (name, id); names are not unique, the id breaks ties. */
export type NameCursor = [name: string, id: string];

/** How a person is reached: their address and their own channels (with each one's type). */
export interface Contacts {
  id: string;
  name: string;
  email: string;
  channels: Array<{ id: string; type: string }>;
}

// ─── Schedules ──────────────────────────────────────────────────────────────────────────────────

export interface ScheduleRow {
  id: string;
  name: string;
  time_zone: string;
  /** Lowest first: a later layer wins where it has someone. */
  layers: Layer[];
  created_at: Date;
  updated_at: Date;
}

export interface NewSchedule {
  name: string;
  time_zone: string;
  layers: Layer[];
}

export type SchedulePatch = Partial<NewSchedule>;

export interface OverrideRow extends Override {
  id: string;
  schedule_id: string;
}

/** A schedule with the overrides that matter for the question asked of it. */
export function asSchedule(row: ScheduleRow, overrides: OverrideRow[]): Schedule {
  return { time_zone: row.time_zone, layers: row.layers, overrides };
}

// ─── Who a level pages ──────────────────────────────────────────────────────────────────────────

/** A person a level pages, and the schedule that put them on it (absent: named directly). */
export interface PagedUser {
  user_id: string;
  schedule_id?: string | undefined;
}

/** Everyone a level reaches when it fires: what the escalation handler writes into the event. */
export interface LevelRecipients {
  channel_ids: string[];
  users: PagedUser[];
  /** Schedules the level names that had nobody on call at that moment. */
  empty_schedule_ids: string[];
}

/**
 * Who a level pages at `at`: its channels, the people it names, and each schedule's on-call people
 * at that instant (a person named twice is paged once, under the first mention). `schedules`
 * holds the level's schedules with their overrides; a schedule missing from it (deleted since the
 * policy was read) counts as empty.
 */
export function levelRecipients(level: PolicyLevel, schedules: ReadonlyMap<string, Schedule>, at: Date): LevelRecipients {
  const users: PagedUser[] = [];
  const seen = new Set<string>();
  const add = (user_id: string, schedule_id?: string) => {
    if (seen.has(user_id)) return;
    seen.add(user_id);
    users.push(schedule_id === undefined ? { user_id } : { user_id, schedule_id });
  };
  for (const id of level.user_ids ?? []) add(id);
  const empty: string[] = [];
  for (const id of level.schedule_ids ?? []) {
    const schedule = schedules.get(id);
    const onCall = schedule ? onCallAt(schedule, at) : [];
    if (onCall.length === 0) empty.push(id);
    for (const user of onCall) add(user, id);
  }
  return { channel_ids: [...level.channel_ids], users, empty_schedule_ids: empty };
}

/**
 * What a transaction has read of the channels and people its pages name, by id: each channel's
 * type and each person's contacts (ids that no longer exist are absent). Judging a level reads
 * them and the fan-out writing its rows needs them again; handed on, they are read once.
 */
export interface Directory {
  channelTypes: ReadonlyMap<string, string>;
  people: ReadonlyMap<string, Contacts>;
}

/** Whether a level's recipients name anyone at all, reachable or not. */
export const namesAnyone = (r: Pick<LevelRecipients, 'channel_ids' | 'users'>): boolean => r.channel_ids.length + r.users.length > 0;

/**
 * Whether this process's engine sends email: true or false where the notifier role runs in it (it
 * knows SMTP_URL), undefined where it does not. Only a known false makes email unreachable: an
 * outbox without SMTP_URL may page for a notifier elsewhere that has it, and skipping a level on
 * a guess would lose its page.
 */
export type EmailSetup = boolean | undefined;

/** Whether a message by a channel of this type can land: an email one not while email is known off. */
const channelCanLand = (type: string | undefined, email: EmailSetup): boolean => email !== false || type !== 'email';

/**
 * Whether a message to this person can land anywhere: by their address or an email channel of
 * their own only when email is not known off (without SMTP_URL every such row goes `dead` with
 * smtp_not_configured), otherwise by a channel of their own of another type. A person deleted since is not.
 */
export const canReach = (person: Contacts | undefined, email: EmailSetup): boolean =>
  person !== undefined && ((email !== false && person.email !== '') || person.channels.some((c) => channelCanLand(c.type, email)));

/**
 * Whether a level's recipients reach anyone: a channel of its own that `channelCanLand` (`channelTypes`
 * holds the types of its email channels at least; a channel missing there, deleted since, counts
 * as it did before: the fan-out records it), or a person `canReach`. A level that does not is
 * recorded as reaching nobody and hands over to the next one at once, instead of waiting out its
 * delay on messages that can only die.
 */
export const reachesAnyone = (
  r: Pick<LevelRecipients, 'channel_ids' | 'users'>,
  channelTypes: ReadonlyMap<string, string>,
  people: ReadonlyMap<string, Contacts>,
  email: EmailSetup,
): boolean => r.channel_ids.some((id) => channelCanLand(channelTypes.get(id), email)) || r.users.some((u) => canReach(people.get(u.user_id), email));
