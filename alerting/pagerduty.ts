// PagerDuty Events API v2. The incident id is the dedup_key, so opened and escalated collapse
// into one PagerDuty alert, and acknowledge/resolve reach that same alert.

import type { Channel, PagerDutyConfig } from './channel.ts';
import { PAGERDUTY_EVENTS_URL } from '../src/channels/model.ts';
import type { IncidentEvent } from '../src/incidents/model.ts';
import type { Notification } from '../src/notifications/model.ts';
import { jsonPoster, type HttpChannelOptions } from './post-json.ts';
import { headline, incidentFacts, pagedNames, truncate } from './render.ts';


// The Events API rejects a summary longer than 1024 characters.
const SUMMARY_MAX = 1024;

const EVENT_ACTION: Record<IncidentEvent, 'trigger' | 'acknowledge' | 'resolve'> = {
  opened: 'trigger',
  escalated: 'trigger',
  acknowledged: 'acknowledge',
  resolved: 'resolve',
};

export function createPagerDutyChannel(options: HttpChannelOptions = {}): Channel<PagerDutyConfig> {
  const post = jsonPoster(options);
  return {
    type: 'pagerduty',
    async send(n, config, now, start) {
      const event = pagerDutyEvent(n, config.routing_key);
      await post(config.url ?? PAGERDUTY_EVENTS_URL, JSON.stringify(event), {}, now, start);
    },
  };
}

/**
 * An acknowledge or a resolve is the bare three fields: the Events API v2 shows only a trigger's
 * payload and client (its schema says so of `client`; a resolve's `payload` changes nothing on the
 * alert), so a resolve's note does not travel here. A trigger sent to carry it would open a new
 * alert, and page, wherever the alert was already resolved in PagerDuty (ARCHITECTURE.md).
 */
function pagerDutyEvent(n: Notification, routingKey: string) {
  const base = { routing_key: routingKey, event_action: EVENT_ACTION[n.event], dedup_key: n.incident.id };
  if (base.event_action !== 'trigger') return base;
  const paged = pagedNames(n);
  return {
    ...base,
    client: 'Lifeline',
    payload: {
      summary: truncate(headline(n), SUMMARY_MAX),
      source: n.node.name,
      severity: n.incident.severity,
      timestamp: n.occurredAt,
      class: n.incident.category,
      custom_details: {
        ...Object.fromEntries(incidentFacts(n).map((fact) => [fact.label, fact.value])),
        // The summary has room for the headline alone (1,024 characters): whom the page reached goes here.
        ...(paged !== undefined ? { Paged: paged } : {}),
        incident_id: n.incident.id,
        node_id: n.node.id,
      },
    },
  };
}
