import { getChannelsByIds } from '../channels/store.ts';
import type { ChannelType } from '../channels/model.ts';
import type { AppDeps } from '../http/deps.ts';
import type { PolicyRow } from '../oncall/model.ts';
import { channelWarnings, EMAIL_UNCONFIGURED, onlyByEmail, peopleOnlyByEmail, unreachablePeople } from '../oncall/setup-warnings.ts';
import { scheduleMembers } from '../oncall/store-schedules.ts';
import { contactsOf } from '../oncall/store-users.ts';
import { Notice } from './components.tsx';

// What the channel, policy and people pages say when email cannot be sent: the words /readyz and the start
// log use (src/oncall/setup-warnings.ts), shown where the person is added. Judged by this (api)
// process's own SMTP_URL, the transports its test messages go out by: in a split deployment the
// notifier's may differ, so the README asks both roles to carry the same one.

/** Whether this process knows its engine sends no email. */
export const emailOff = (deps: AppDeps): boolean => deps.transports?.email.configured === false;

/**
 * For each level of the policy (by index), what cannot land for want of email: its email channels,
 * the people it names who have no other way in, and those of each schedule it pages (anyone its
 * layers or overrides can put on call: whoever is on call when a page comes). Empty while email
 * is on or unknown.
 */
export async function levelsWithoutEmail(deps: AppDeps, policy: PolicyRow): Promise<Map<number, string[]>> {
  if (!emailOff(deps)) return new Map();
  const [schedules, channels] = await Promise.all([
    scheduleMembers(deps.sql, [...new Set(policy.levels.flatMap((l) => l.schedule_ids ?? []))], deps.clock.now()),
    getChannelsByIds(deps.sql, [...new Set(policy.levels.flatMap((l) => l.channel_ids))]),
  ]);
  const people = await contactsOf(deps.sql, [...new Set([...policy.levels.flatMap((l) => l.user_ids ?? []), ...[...schedules.values()].flatMap((s) => s.user_ids)])]);
  const stranded = (ids: string[]) => onlyByEmail(ids.flatMap((id) => people.get(id) ?? []));
  const channelTypes = new Map(channels.map((c) => [c.id, c.type]));
  const out = new Map<number, string[]>();
  policy.levels.forEach((l, i) => {
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

/** "Level 2: 1 person on call can be reached only by email, and SMTP_URL is not set: …" */
export const LevelsWithoutEmail = (p: { warnings: Map<number, string[]> }) =>
  p.warnings.size ? (
    <Notice kind="bad">
      <ul>
        {[...p.warnings].map(([i, said]) => said.map((s) => <li>Level {i + 1}: {s}.</li>))}
      </ul>
    </Notice>
  ) : null;

/**
 * The people page's word while email is off: that addresses get nothing, and who of the people a
 * page can name has no other way in (the readyz query and sentence, with names as in the start log).
 */
export async function peopleWithoutEmail(deps: AppDeps, now: Date): Promise<{ said: string[]; ids: Set<string> } | undefined> {
  if (!emailOff(deps)) return undefined;
  const stranded = await peopleOnlyByEmail(deps.sql, now);
  return {
    said: ['SMTP_URL is not set: nobody is reached at their email address, only through their own channels', ...(stranded.length ? [unreachablePeople(stranded, true)] : [])],
    ids: new Set(stranded.map((p) => p.id)),
  };
}

export const PeopleWithoutEmail = (p: { warning: { said: string[] } | undefined }) => <Unsent said={p.warning?.said ?? []} />;

/** Sentences of what will not be sent, one paragraph each; nothing when there are none. */
export const Unsent = (p: { said: string[] }) =>
  p.said.length ? (
    <Notice kind="bad">
      {p.said.map((s) => (
        <p>{s}.</p>
      ))}
    </Notice>
  ) : null;

/** Why a channel of this type cannot deliver yet: the `warnings` of the API's create answer. */
export const channelWithoutEmail = (deps: AppDeps, type: ChannelType): string[] => channelWarnings(type, deps.transports?.email.configured);

/** Why nothing goes to a person's email address yet: said at the field where it is entered. */
export const addressWithoutEmail = (deps: AppDeps): string[] => channelWarnings('email', deps.transports?.email.configured, 'person');

/**
 * Whether a delivery's error (a ledger row's `code: message`, or a timeline entry's code) is the
 * email transport's refusal without SMTP_URL: nothing was tried, so the console says "not sent"
 * rather than showing a failure.
 */
export const unsentWithoutEmail = (error: unknown): boolean => typeof error === 'string' && /^smtp_not_configured\b/.test(error);

/** What the console says of such a message, in the ledger and on the timeline. */
export const NOT_SET_UP = 'email is not set up (SMTP unset)';
