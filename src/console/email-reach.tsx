import type { ChannelType } from '../channels/model.ts';
import type { AppDeps } from '../http/deps.ts';
import type { PolicyRow } from '../oncall/model.ts';
import { channelWarnings, levelEmailWarnings, peopleOnlyByEmail, unreachablePeople } from '../oncall/setup-warnings.ts';
import { Notice } from './components.tsx';

// What the channel, policy and people pages say when email cannot be sent: the words /readyz and the start
// log use (src/oncall/setup-warnings.ts), shown where the person is added. Judged by this (api)
// process's own SMTP_URL, the transports its test messages go out by: in a split deployment the
// notifier's may differ, so the README asks both roles to carry the same one.

/** Whether this process knows its engine sends no email. */
export const emailOff = (deps: AppDeps): boolean => deps.transports?.email.configured === false;

/** The policy page's per-level warnings (src/oncall/setup-warnings.ts decides them) for this process's SMTP_URL. */
export const levelsWithoutEmail = (deps: AppDeps, policy: PolicyRow): Promise<Map<number, string[]>> =>
  levelEmailWarnings(deps.sql, policy.levels, { emailConfigured: deps.transports?.email.configured, now: deps.clock.now() });

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

/**
 * A level that would reach nobody were it to fire `when`: nobody on call in its schedules, and
 * nothing it names able to take a message. The engine records that and fires the step after it at
 * once, or ends the escalation where none follows (`ends`).
 */
export const ReachesNobody = (p: { when: 'now' | 'then'; ends?: boolean }) => (
  <span class="tag tag-nobody" title="Nobody is on call in its schedules, and nothing it names can take a message (by email nothing can while SMTP_URL is unset)">
    reaches nobody {p.when} — {p.ends ? 'escalation ends there' : 'the next level fires at once'}
  </span>
);
