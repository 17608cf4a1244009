import type { ChannelType } from '../channels/model.ts';
import { countEmailChannels, getChannelsByIds } from '../channels/store.ts';
import type { Queryable } from '../db/client.ts';
import { canReach, type Contacts, type NamedBy, type PolicyRow } from './model.ts';
import { hasDefaultPolicy } from './store.ts';
import { scheduleMembers } from './store-schedules.ts';
import { contactsOf, pageablePeople } from './store-users.ts';

/** Said in the 201 of an email channel created on an engine without SMTP_URL, and at every start. */
export const EMAIL_UNCONFIGURED = 'SMTP_URL is not set: deliveries to email channels fail with smtp_not_configured until it is';

/** Said where a person's email address is entered (the console's people forms) on such an engine. */
export const PERSON_EMAIL_UNCONFIGURED = 'SMTP_URL is not set: nothing is sent to this address until it is, so pages reach them only through their own channels';

/**
 * Why a contact of this type cannot be sent to yet: a channel's (the API's 201, the console's
 * channel pages) or a person's own address (`person`: the console's people forms). The ledger marks
 * each such message dead at its first attempt (ARCHITECTURE.md). `emailConfigured` is undefined in
 * a process that sends no email.
 */
export const channelWarnings = (type: ChannelType, emailConfigured: boolean | undefined, of: 'channel' | 'person' = 'channel'): string[] =>
  type === 'email' && emailConfigured === false ? [of === 'channel' ? EMAIL_UNCONFIGURED : PERSON_EMAIL_UNCONFIGURED] : [];

export const NO_DEFAULT_POLICY =
  'no default escalation policy: an incident of a node without a policy of its own notifies nobody (create one with "is_default": true)';

/** How many people the start log names: enough to start with, short enough for a log line. */
const NAMED = 5;

/**
 * Said when people a page can name are reachable by email alone and there is none: in /readyz as
 * a count only (it answers anyone on the public port), in the start log with the first names.
 */
export const unreachablePeople = (people: NamedBy[], named: boolean): string =>
  `${people.length === 1 ? '1 person' : `${people.length} people`} on call can be reached only by email, and SMTP_URL is not set: no page reaches them` +
  (named ? `: ${people.slice(0, NAMED).map((p) => `"${p.name}"`).join(', ')}${people.length > NAMED ? ` and ${people.length - NAMED} more` : ''}` : '');

/**
 * Of these people, those no page reaches without SMTP_URL, by name: `canReach` with email off is
 * the one definition, shared by the start log, /readyz and the console's policy and people pages.
 */
export const onlyByEmail = (people: Iterable<Contacts>): NamedBy[] =>
  [...people]
    .filter((p) => !canReach(p, false))
    .map(({ id, name }) => ({ id, name }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** Everyone a page can name who has no channel of their own but email. */
export async function peopleOnlyByEmail(sql: Queryable, now: Date): Promise<NamedBy[]> {
  return onlyByEmail((await contactsOf(sql, await pageablePeople(sql, now))).values());
}

/**
 * Why notifications may reach nobody with this setup, each naming its fix: at start in the log
 * (`named`: with the people's names), and in /readyz (never a name: it needs no secret).
 * `emailConfigured` is undefined in a process that sends no email.
 */
export async function setupWarnings(sql: Queryable, o: { emailConfigured: boolean | undefined; now: Date; named: boolean }): Promise<string[]> {
  const withoutEmail = o.emailConfigured === false;
  const [defaultPolicy, emailChannels, onlyByEmail] = await Promise.all([
    hasDefaultPolicy(sql),
    withoutEmail ? countEmailChannels(sql) : 0,
    withoutEmail ? peopleOnlyByEmail(sql, o.now) : [],
  ]);
  return [
    ...(defaultPolicy ? [] : [NO_DEFAULT_POLICY]),
    ...(emailChannels > 0 ? [EMAIL_UNCONFIGURED] : []),
    ...(onlyByEmail.length > 0 ? [unreachablePeople(onlyByEmail, o.named)] : []),
  ];
}

/**
 * For each level of a policy (by index), what cannot land without SMTP_URL: its email channels,
 * the people it names who have no other way in, and those of each schedule it pages (anyone its
 * layers or overrides can put on call: whoever is on call when a page comes). Said on the
 * console's policy page; empty unless `emailConfigured` is false (undefined: a process that sends
 * no email cannot tell).
 */
export async function levelEmailWarnings(
  sql: Queryable,
  levels: PolicyRow['levels'],
  o: { emailConfigured: boolean | undefined; now: Date },
): Promise<Map<number, string[]>> {
  if (o.emailConfigured !== false) return new Map();
  const [schedules, channels] = await Promise.all([
    scheduleMembers(sql, [...new Set(levels.flatMap((l) => l.schedule_ids ?? []))], o.now),
    getChannelsByIds(sql, [...new Set(levels.flatMap((l) => l.channel_ids))]),
  ]);
  const people = await contactsOf(sql, [...new Set([...levels.flatMap((l) => l.user_ids ?? []), ...[...schedules.values()].flatMap((s) => s.user_ids)])]);
  const stranded = (ids: string[]) => onlyByEmail(ids.flatMap((id) => people.get(id) ?? []));
  const channelTypes = new Map(channels.map((c) => [c.id, c.type]));
  const out = new Map<number, string[]>();
  levels.forEach((l, i) => {
    const named = stranded(l.user_ids ?? []);
    const said = [
      ...(l.channel_ids.some((id) => channelTypes.get(id) === 'email') ? [EMAIL_UNCONFIGURED] : []),
      ...(named.length ? [unreachablePeople(named, true)] : []),
      ...(l.schedule_ids ?? []).flatMap((id) => {
        const schedule = schedules.get(id);
        const onIt = schedule ? stranded(schedule.user_ids) : [];
        return onIt.length ? [`${unreachablePeople(onIt, true)} (on schedule "${schedule!.name}")`] : [];
      }),
    ];
    if (said.length) out.set(i, said);
  });
  return out;
}
