import { revealConfig } from '../channels/service.ts';
import { getChannelsByIds } from '../channels/store.ts';
import type { ChannelType } from '../channels/model.ts';
import type { Queryable } from '../db/client.ts';
import { contactsOf } from '../oncall/store-users.ts';
import type { Recipient } from './model.ts';

/** Where a delivery lands, read right before sending; its config opened only when asked. */
export type Destination = { type: ChannelType; open(): Record<string, unknown> } | { gone: 'channel_deleted' | 'user_deleted' };

/**
 * A channel (a level's, or one of a person's own) sends with its stored config and opened secret;
 * a person's email goes to the address they have now, through the engine's SMTP server.
 */
export async function destinationOf(sql: Queryable, r: Pick<Recipient, 'channel_id' | 'user_id'>, secretKey: Buffer): Promise<Destination> {
  if (r.channel_id !== null) {
    const [channel] = await getChannelsByIds(sql, [r.channel_id]);
    return channel ? { type: channel.type, open: () => revealConfig(channel, secretKey) } : { gone: 'channel_deleted' };
  }
  const person = (await contactsOf(sql, [r.user_id!])).get(r.user_id!);
  return person ? { type: 'email', open: () => ({ to: [person.email] }) } : { gone: 'user_deleted' };
}
