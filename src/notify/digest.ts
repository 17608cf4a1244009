import type { ChannelRegistry } from '../../alerting/index.ts';
import { DeliveryError } from '../../alerting/errors.ts';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import { getChannelsByIds, revealConfig } from '../db/channels.ts';
import { pendingDigests, recordAttempts, tryDigestLock } from '../db/deliveries.ts';
import { addTimeline } from '../db/incidents.ts';
import { notificationsFor } from './deliver.ts';
import { DELIVERY_ATTEMPTS } from './queue.ts';

export interface DigestDeps {
  sql: Sql;
  clock: Clock;
  channels: ChannelRegistry;
  secretKey: Buffer;
  onResult?: (channelType: string, result: 'sent' | 'failed' | 'dead', count: number) => void;
}

// Held updates one pass takes per channel: a 10k-node outage drains in one digest per channel,
// while memory stays bounded (the message itself lists the first 200 and counts the rest).
const DIGEST_ROWS = 20_000;

/**
 * Sends one digest per channel holding storm rows, covering all of them. The pass runs in one
 * transaction that holds a lock only one notifier can take, so two notifiers never send the same
 * digest; its rows are marked with the outcome in that transaction. A digest succeeds or fails as
 * a whole; after the contract's 12 attempts its rows are dead, like single deliveries.
 */
export async function sendDigests(deps: DigestDeps): Promise<number> {
  const { clock } = deps;
  return deps.sql.begin(async (tx) => {
    if (!(await tryDigestLock(tx))) return 0;
    let sent = 0;
    for (const [channelId, rows] of await pendingDigests(tx, DIGEST_ROWS)) {
      const [channel] = await getChannelsByIds(tx, [channelId]);
      const ids = rows.map((r) => r.id);
      const notifications = channel ? [...(await notificationsFor(deps.sql, rows)).values()] : [];
      if (!channel || channel.type === 'webhook' || channel.type === 'pagerduty' || notifications.length === 0) {
        await recordAttempts(tx, ids, { status: 'dead', error: channel ? 'nothing to send' : 'channel_deleted', at: clock.now() });
        deps.onResult?.(rows[0]!.channel_type, 'dead', ids.length);
        continue;
      }
      const at = clock.now();
      try {
        await deps.channels[channel.type].sendDigest(notifications, revealConfig(channel, deps.secretKey) as never, at);
      } catch (err) {
        const e = err instanceof DeliveryError ? err : new DeliveryError(String(err), { permanent: false, code: 'internal' });
        const final = e.permanent || Math.max(...rows.map((r) => r.attempts)) + 1 >= DELIVERY_ATTEMPTS;
        await recordAttempts(tx, ids, { status: final ? 'dead' : 'failed', error: `${e.code}: ${e.message}`, at });
        deps.onResult?.(channel.type, final ? 'dead' : 'failed', ids.length);
        continue;
      }
      await recordAttempts(tx, ids, { status: 'sent', error: null, at });
      await addTimeline(
        tx,
        rows.map((r) => ({ incident_id: r.incident_id, at, kind: 'notified', detail: { channel_id: channelId, channel_type: channel.type, event: r.event, digest: true } })),
      );
      deps.onResult?.(channel.type, 'sent', ids.length);
      sent += ids.length;
    }
    return sent;
  });
}
