import { countEmailChannels } from '../channels/store.ts';
import type { Queryable } from '../db/client.ts';
import type { NamedBy } from './model.ts';
import { hasDefaultPolicy } from './store.ts';
import { peopleOnlyByEmail } from './store-users.ts';

/** Said in the 201 of an email channel created on an engine without SMTP_URL, and at every start. */
export const EMAIL_UNCONFIGURED = 'SMTP_URL is not set: deliveries to email channels fail with smtp_not_configured until it is';

export const NO_DEFAULT_POLICY =
  'no default escalation policy: an incident of a node without a policy of its own notifies nobody (create one with "is_default": true)';

/** How many people the warning names: enough to start with, short enough for a log line. */
const NAMED = 5;

/** Said at start and in /readyz when people a page can name are reachable by email alone and there is none. */
export const unreachablePeople = (people: NamedBy[]): string =>
  `SMTP_URL is not set and ${people.length === 1 ? 'this person has' : `these ${people.length} people have`} no channel of their own but email, so no page reaches them ` +
  `and their escalation levels hand over at once: ${people.slice(0, NAMED).map((p) => `"${p.name}"`).join(', ')}${people.length > NAMED ? ` and ${people.length - NAMED} more` : ''}`;

/**
 * Why notifications may reach nobody with this setup, each naming its fix: at start in the log,
 * and in /readyz. `emailConfigured` is undefined in a process that sends no email.
 */
export async function setupWarnings(sql: Queryable, o: { emailConfigured: boolean | undefined; now: Date }): Promise<string[]> {
  const withoutEmail = o.emailConfigured === false;
  const [defaultPolicy, emailChannels, onlyByEmail] = await Promise.all([
    hasDefaultPolicy(sql),
    withoutEmail ? countEmailChannels(sql) : 0,
    withoutEmail ? peopleOnlyByEmail(sql, o.now) : [],
  ]);
  return [
    ...(defaultPolicy ? [] : [NO_DEFAULT_POLICY]),
    ...(emailChannels > 0 ? [EMAIL_UNCONFIGURED] : []),
    ...(onlyByEmail.length > 0 ? [unreachablePeople(onlyByEmail)] : []),
  ];
}
