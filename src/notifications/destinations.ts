import { revealConfig } from '../channels/service.ts';
import { getChannelsByIds } from '../channels/store.ts';
import type { ChannelRow, ChannelType } from '../channels/model.ts';
import type { Queryable } from '../db/client.ts';
import { contactsOf } from '../oncall/store-users.ts';
import type { Recipient } from './model.ts';

/** Where a delivery lands, read right before sending; its config opened only when asked. */
export type Destination = { type: ChannelType; open(): Record<string, unknown> } | { gone: 'channel_deleted' | 'user_deleted' };

type Addressee = Pick<Recipient, 'channel_id' | 'user_id'>;

/**
 * A channel (a level's, or one of a person's own) sends with its stored config and opened secret;
 * a person's email goes to the address they have now, through the engine's SMTP server. Two
 * queries however many recipients: the notifier reads the destinations of a whole batch at once.
 */
export async function destinationsOf(sql: Queryable, rs: Addressee[], secretKey: Buffer): Promise<(r: Addressee) => Destination> {
  const channelIds = [...new Set(rs.flatMap((r) => (r.channel_id !== null ? [r.channel_id] : [])))];
  const userIds = [...new Set(rs.flatMap((r) => (r.channel_id === null ? [r.user_id!] : [])))];
  const channels = new Map((await getChannelsByIds(sql, channelIds)).map((c) => [c.id, c]));
  const people = await contactsOf(sql, userIds);
  // A channel's secret is opened once for all of its rows (an AES-GCM open each otherwise).
  const opened = new Map<string, Record<string, unknown>>();
  const open = (channel: ChannelRow) => opened.get(channel.id) ?? opened.set(channel.id, revealConfig(channel, secretKey)).get(channel.id)!;
  return (r) => {
    if (r.channel_id !== null) {
      const channel = channels.get(r.channel_id);
      return channel ? { type: channel.type, open: () => open(channel) } : { gone: 'channel_deleted' };
    }
    const person = people.get(r.user_id!);
    return person ? { type: 'email', open: () => ({ to: [person.email] }) } : { gone: 'user_deleted' };
  };
}

export async function destinationOf(sql: Queryable, r: Addressee, secretKey: Buffer): Promise<Destination> {
  return (await destinationsOf(sql, [r], secretKey))(r);
}
