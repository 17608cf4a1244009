import type { IncidentView } from '../api/shapes.ts';
import type { IncidentEvent } from '../incidents/model.ts';

// Who is told what about an incident, and did it arrive: one delivery per (incident event,
// channel), recorded in a ledger. How one message is sent over a channel is alerting/'s business.

/** A node as a notification names it. */
export interface NotifiedNode {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface Notification {
  /** Stable per (incident event, channel): the webhook-id and the basis of the email Message-ID,
   *  so a retried delivery is recognisable as the same message. */
  messageId: string;
  event: IncidentEvent;
  /** RFC 3339 ms UTC: when the incident event happened, not when it is delivered. */
  occurredAt: string;
  /** Why the node changed state, e.g. "no heartbeat for 90s". */
  reason: string | null;
  incident: IncidentView;
  node: NotifiedNode;
}

export const DELIVERY_STATUSES = ['pending', 'sent', 'failed', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryRow {
  id: string;
  incident_id: string;
  event: IncidentEvent;
  event_key: string;
  channel_id: string;
  channel_type: string;
  status: DeliveryStatus;
  digest: boolean;
  attempts: number;
  last_error: string | null;
  occurred_at: Date;
  created_at: Date;
  enqueued_at: Date | null;
  sent_at: Date | null;
  /** When a failed row may be tried again (null unless failed). */
  next_attempt_at: Date | null;
}

export interface NewDelivery {
  incidentId: string;
  event: IncidentEvent;
  eventKey: string;
  channelId: string;
  channelType: string;
  occurredAt: Date;
  /** Held for the channel's storm digest instead of being sent alone. */
  digest?: boolean;
}

/** The ledger key, also the BullMQ job id and the webhook-id: stable across every retry. */
export function deliveryId(incidentId: string, eventKey: string, channelId: string): string {
  return `${incidentId}.${eventKey}.${channelId}`;
}

export interface Recipient {
  channel_id: string;
  channel_type: string;
}

/** A delivery to (re-)add to the queue, and when its next attempt is due. */
export type QueuedDelivery = Pick<DeliveryRow, 'id' | 'next_attempt_at'>;
