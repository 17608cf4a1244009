import type { ChannelRegistry } from '../../alerting/index.ts';
import { DeliveryError } from '../../alerting/errors.ts';
import type { Notification } from '../../alerting/message.ts';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import { getChannelsByIds, revealConfig } from '../db/channels.ts';
import { pendingDigests, recordAttempts } from '../db/deliveries.ts';
import { addTimeline } from '../db/incidents.ts';
import { notificationFor } from './deliver.ts';
import { DELIVERY_ATTEMPTS } from './queue.ts';

export interface DigestDeps {
  sql: Sql;
  clock: Clock;
  channels: ChannelRegistry;
  secretKey: Buffer;
  onResult?: (channelType: string, result: 'sent' | 'failed' | 'dead', count: number) => void;
}

// One digest lists at most this many updates; a bigger storm is told over several digests.
const DIGEST_MAX = 500;

/**
 * Sends one digest per channel holding storm rows. A digest succeeds or fails as a whole and its
 * rows share the outcome; after the contract's 12 attempts they are dead, like single deliveries.
 */
export async function sendDigests(deps: DigestDeps): Promise<number> {
  const { sql, clock } = deps;
  const byChannel = await pendingDigests(sql, DIGEST_MAX);
  let sent = 0;
  for (const [channelId, rows] of byChannel) {
    const [channel] = await getChannelsByIds(sql, [channelId]);
    const ids = rows.map((r) => r.id);
    const notifications = channel ? (await Promise.all(rows.map((r) => notificationFor(sql, r)))).filter((n): n is Notification => n !== undefined) : [];
    if (!channel || channel.type === 'webhook' || channel.type === 'pagerduty' || notifications.length === 0) {
      await recordAttempts(sql, ids, { status: 'dead', error: channel ? 'nothing to send' : 'channel_deleted', at: clock.now() });
      deps.onResult?.(rows[0]!.channel_type, 'dead', ids.length);
      continue;
    }
    const at = clock.now();
    try {
      await deps.channels[channel.type].sendDigest(notifications, revealConfig(channel, deps.secretKey) as never, at);
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError(String(err), { permanent: false, code: 'internal' });
      const final = e.permanent || Math.max(...rows.map((r) => r.attempts)) + 1 >= DELIVERY_ATTEMPTS;
      await recordAttempts(sql, ids, { status: final ? 'dead' : 'failed', error: `${e.code}: ${e.message}`, at });
      deps.onResult?.(channel.type, final ? 'dead' : 'failed', ids.length);
      continue;
    }
    await recordAttempts(sql, ids, { status: 'sent', error: null, at });
    await addTimeline(
      sql,
      rows.map((r) => ({ incident_id: r.incident_id, at, kind: 'notified', detail: { channel_id: channelId, channel_type: channel.type, event: r.event, digest: true } })),
    );
    deps.onResult?.(channel.type, 'sent', ids.length);
    sent += ids.length;
  }
  return sent;
}
