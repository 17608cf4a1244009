// Slack incoming webhooks: `text` is what notifications and old clients show, `blocks` the
// message itself (a header plus the incident facts as fields).

import type { DigestChannel, SlackConfig } from './channel.ts';
import type { Notification } from '../src/notifications/model.ts';
import { jsonPoster, type HttpChannelOptions } from './post-json.ts';
import { actionButtons, digestLines, digestSummary, headline, incidentFacts, truncate } from './render.ts';

// Slack's block limits: a header's plain text ≤ 150 characters, a section field ≤ 2000.
const HEADER_MAX = 150;
const FIELD_MAX = 2000;

// A section's text is at most 3000 characters.
const SECTION_MAX = 3000;

export function createSlackChannel(options: HttpChannelOptions = {}): DigestChannel<SlackConfig> {
  const post = jsonPoster(options);
  return {
    type: 'slack',
    async send(n, config, now) {
      await post(config.webhook_url, JSON.stringify(slackMessage(n)), {}, now);
    },
    async sendDigest(ns, config, now) {
      await post(config.webhook_url, JSON.stringify(slackDigest(ns)), {}, now);
    },
  };
}

function slackDigest(ns: Notification[]) {
  const summary = digestSummary(ns);
  return {
    text: escapeMrkdwn(summary),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(summary, HEADER_MAX) } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(digestLines(ns).map(escapeMrkdwn).join('\n'), SECTION_MAX) } },
    ],
  };
}

function slackMessage(n: Notification) {
  const title = headline(n);
  // Link buttons: Slack opens the URL in the reader's browser, where the link's page asks before acting.
  const buttons = actionButtons(n).map((b, i) => ({
    type: 'button',
    text: { type: 'plain_text', text: b.label },
    url: b.url,
    action_id: `lifeline-${i}`,
    ...(b.label === 'Acknowledge' ? { style: 'primary' } : {}),
  }));
  return {
    text: escapeMrkdwn(title),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, HEADER_MAX) } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*${escapeMrkdwn(n.incident.title)}*` },
        fields: incidentFacts(n).map((fact) => ({
          type: 'mrkdwn',
          text: truncate(`*${fact.label}*\n${escapeMrkdwn(fact.value)}`, FIELD_MAX),
        })),
      },
      ...(buttons.length ? [{ type: 'actions', elements: buttons }] : []),
    ],
  };
}

// Slack reads &, < and > as control characters in mrkdwn (links, mentions); agent-supplied
// names must not be able to ping @channel or forge a link.
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
