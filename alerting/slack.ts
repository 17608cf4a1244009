// Slack incoming webhooks: `text` is what notifications and old clients show, `blocks` the
// message itself (a header plus the incident facts as fields).

import type { DigestChannel, SlackConfig } from './channel.ts';
import type { Notification } from '../src/notifications/model.ts';
import { jsonPoster, type HttpChannelOptions } from './post-json.ts';
import { DIGEST_LINES, digestGroups, digestListLabel, digestRest, digestSummary, headline, incidentFacts, leadLine, messageButtons, noteLabel, truncate } from './render.ts';

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
    async sendDigest(ns, config, now, listUrl) {
      await post(config.webhook_url, JSON.stringify(slackDigest(ns, listUrl)), {}, now);
    },
  };
}

/**
 * The digest's updates as sections of lines, each line with its links (`<url|Acknowledge>`), packed
 * into as few sections as fit 3000 characters each, then the console's list (`listUrl`). With links
 * a line is about 400 characters, so the 200 a digest lists fit the 50 blocks (some 350 would);
 * lines made long by long names and reasons may not, and then 10% fewer are listed until they fit,
 * each kind's cut counted under it as in an email, so no kind drops out of the message.
 */
function slackDigest(ns: Notification[], listUrl: string | undefined) {
  const summary = digestSummary(ns);
  const list = listUrl ? [slackLink(listUrl, digestListLabel)] : [];
  let sections: string[] | undefined;
  // Ends: with no update listed, at most five lines are left (one count per kind), one section.
  for (let lines = DIGEST_LINES; !sections; lines = Math.floor(lines * 0.9)) sections = packed(slackLines(ns, lines), BLOCKS_MAX - 1 - list.length);
  return {
    text: escapeMrkdwn(summary),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(summary, HEADER_MAX) } },
      ...[...sections, ...list].map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } })),
    ],
  };
}

/** The digest's lines when it lists at most `lines` updates (digestGroups), each kind's cut counted under it. */
function slackLines(ns: Notification[], lines: number): string[] {
  return digestGroups(ns, lines).flatMap((g) => [
    ...g.items.map((item) => [escapeMrkdwn(item.line), ...item.buttons.map((b) => slackLink(b.url, b.label))].join('  ')),
    ...(g.rest ? [digestRest(g)] : []),
  ]);
}

/** `lines` packed into as few sections of SECTION_MAX as they fit; undefined when that is more than `max`. */
function packed(lines: string[], max: number): string[] | undefined {
  const sections: string[] = [];
  for (const line of lines) {
    const last = sections.length - 1;
    if (last >= 0 && sections[last]!.length + 1 + line.length <= SECTION_MAX) sections[last] += `\n${line}`;
    else if (sections.length < max) sections.push(truncate(line, SECTION_MAX));
    else return undefined;
  }
  return sections;
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
const escapeControl = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Text a user gave (a node's name, a reason quoting a job's output) as mrkdwn that shows it as
 * written. mrkdwn has no escape for * _ ~ and `, and a name like `db_primary_1` showed as "db" and
 * an italic "primary"; a code span cannot hold a backtick of the text either. A zero-width space
 * (U+200B) after each of them leaves none a pair: Slack opens a style only on a marker followed by
 * a character that is not a space, and closes one only on a marker followed by a space, punctuation
 * or the end, so whichever it takes U+200B for, every marker fails one side. The text reads the
 * same; a copy of it carries the invisible spaces.
 */
function escapeMrkdwn(text: string): string {
  return escapeControl(text).replace(/[*_~`]/g, '$&\u200B');
}

/**
 * `<url|label>`, the URL's &, < and > escaped (nothing else: a space in `/~ops_1/` would break the
 * address) and its `|` percent-encoded: URL keeps a `|`
 * in a path as it is (`https://x/a|b/` is valid to it, so LIFELINE_PUBLIC_URL may hold one), and
 * Slack would end the address there and show the rest as the label.
 */
const slackLink = (url: string, label: string): string => `<${escapeControl(url).replaceAll('|', '%7C')}|${label}>`;
