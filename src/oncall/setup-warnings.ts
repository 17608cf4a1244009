import { countEmailChannels } from '../channels/store.ts';
import type { Queryable } from '../db/client.ts';
import { hasDefaultPolicy } from './store.ts';

/** Said in the 201 of an email channel created on an engine without SMTP_URL, and at every start. */
export const EMAIL_UNCONFIGURED = 'SMTP_URL is not set: deliveries to email channels fail with smtp_not_configured until it is';

export const NO_DEFAULT_POLICY =
  'no default escalation policy: an incident of a node without a policy of its own notifies nobody (create one with "is_default": true)';

/**
 * Why notifications may reach nobody with this setup, each naming its fix: at start in the log,
 * and in /readyz. `emailConfigured` is undefined in a process that sends no email.
 */
export async function setupWarnings(sql: Queryable, o: { emailConfigured: boolean | undefined }): Promise<string[]> {
  const [defaultPolicy, emailChannels] = await Promise.all([hasDefaultPolicy(sql), o.emailConfigured === false ? countEmailChannels(sql) : 0]);
  return [...(defaultPolicy ? [] : [NO_DEFAULT_POLICY]), ...(emailChannels > 0 ? [EMAIL_UNCONFIGURED] : [])];
}
