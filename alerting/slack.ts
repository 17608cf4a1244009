// Slack incoming webhooks: `text` is what notifications and old clients show, `blocks` the
// message itself (a header plus the incident facts as fields).

import type { DigestChannel, SlackConfig } from './channel.ts';
import type { Notification } from '../src/notifications/model.ts';
import { jsonPoster, type HttpChannelOptions } from './post-json.ts';
import { digestItems, digestRest, digestSummary, headline, incidentFacts, leadLine, messageButtons, noteLabel, truncate } from './render.ts';

// Slack's block limits: a header's plain text ≤ 150 characters, a section field ≤ 2000.
const HEADER_MAX = 150;
const FIELD_MAX = 2000;

// A section's text is at most 3000 characters, and a message holds at most 50 blocks.
const SECTION_MAX = 3000;
const BLOCKS_MAX = 50;

export function createSlackChannel(options: HttpChannelOptions = {}): DigestChannel<SlackConfig> {
  const post = jsonPoster(options);
  return {
    type: 'slack',
    async send(n, config, now, start) {
      await post(config.webhook_url, JSON.stringify(slackMessage(n)), {}, now, start);
    },
    async sendDigest(ns, config, now) {
      await post(config.webhook_url, JSON.stringify(slackDigest(ns)), {}, now);
    },
  };
}

/**
 * The digest's updates as sections of lines, each line with its links (`<url|Acknowledge>`), packed
 * into as few sections as fit 3000 characters each. What does not fit the 50 blocks is counted in
 * the last line: with links a line is about 400 characters, so some 350 updates fit.
 */
function slackDigest(ns: Notification[]) {
  const summary = digestSummary(ns);
  const { items, rest } = digestItems(ns);
  const lines = items.map((item) => [escapeMrkdwn(item.line), ...item.buttons.map((b) => `<${b.url}|${b.label}>`)].join('  '));
  const sections: string[] = [];
  let left = rest;
  for (const [i, line] of lines.entries()) {
    const last = sections.length - 1;
    if (last >= 0 && sections[last]!.length + 1 + line.length <= SECTION_MAX) sections[last] += `\n${line}`;
    else if (sections.length < BLOCKS_MAX - 2) sections.push(truncate(line, SECTION_MAX));
    else {
      left += lines.length - i;
      break;
    }
  }
  if (left) sections.push(digestRest(left));
  return {
    text: escapeMrkdwn(summary),
    blocks: [{ type: 'header', text: { type: 'plain_text', text: truncate(summary, HEADER_MAX) } }, ...sections.map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } }))],
  };
}

function slackMessage(n: Notification) {
  const title = headline(n);
  // Link buttons: Slack opens the URL in the reader's browser, where the link's page asks before acting.
  const buttons = messageButtons(n).map((b, i) => ({
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
        text: { type: 'mrkdwn', text: `*${truncate(escapeMrkdwn(leadLine(n)), SECTION_MAX - 2)}*` },
        fields: incidentFacts(n).map((fact) => ({
          type: 'mrkdwn',
          text: truncate(`*${fact.label}*\n${escapeMrkdwn(fact.value)}`, FIELD_MAX),
        })),
      },
      ...noteBlock(n),
      ...(buttons.length ? [{ type: 'actions', elements: buttons }] : []),
    ],
  };
}

/**
 * A resolve's note under the facts, headed as the email heads it (noteLabel). It is user text: a
 * Resolve link lets whoever holds it write 2,000 characters to the channel. In mrkdwn, even marked
 * `verbatim`, Slack still renders *bold* and the like, so a note could draw a second "Note from
 * <someone else>" heading of its own. A rich_text block's `text` element is "the text shown to the
 * user" (Block Kit reference): no markup, and mentions and links are elements of their own types,
 * so a typed <!channel>, @here or URL mentions and links nothing, and nothing is escaped. The note
 * is a quote under a bold heading, so a heading typed into it shows inside the quote. The API caps
 * it at 2,000 UTF-16 units; Slack documents no limit for a rich text element, so a longer note
 * (only one written past the API) is cut to a text object's 3,000.
 */
function noteBlock(n: Notification) {
  if (n.note === undefined) return [];
  return [
    {
      type: 'rich_text',
      elements: [
        { type: 'rich_text_section', elements: [{ type: 'text', text: noteLabel(n), style: { bold: true } }] },
        { type: 'rich_text_quote', elements: [{ type: 'text', text: truncate(n.note, SECTION_MAX) }] },
      ],
    },
  ];
}

// Slack reads &, < and > as control characters in mrkdwn (links, mentions); agent-supplied
// names must not be able to ping @channel or forge a link.
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
