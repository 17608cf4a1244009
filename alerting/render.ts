// Human wording shared by every channel, so an email subject, a Slack header and a PagerDuty
// summary describe the same incident event in the same words.

import { zonedStamp } from '../src/local-time.ts';
import type { Notification } from '../src/notifications/model.ts';

export interface Fact {
  label: string;
  value: string;
}

export type EventWord = 'DOWN' | 'DEGRADED' | 'ESCALATED' | 'ACKNOWLEDGED' | 'RESOLVED';

/** DOWN / DEGRADED for an opened incident (what happened to the node), otherwise the event itself. */
export function eventWord(n: Pick<Notification, 'event' | 'incident'>): EventWord {
  switch (n.event) {
    case 'opened':
      return n.incident.category === 'node_down' ? 'DOWN' : 'DEGRADED';
    case 'escalated':
      return 'ESCALATED';
    case 'acknowledged':
      return 'ACKNOWLEDGED';
    case 'resolved':
      return 'RESOLVED';
  }
}

/**
 * `DOWN: db-1 — no heartbeat for 90s`; falls back to the incident title when no reason is known. A
 * resolve says how it ended instead (`RESOLVED: db-1 recovered after 8m`): the opening's reason
 * under RESOLVED read as a node still failing.
 */
export function headline(n: Notification): string {
  const ending = resolution(n);
  if (ending) return `${eventWord(n)}: ${ending.short}`;
  return `${eventWord(n)}: ${oneLine(n.node.name)} — ${oneLine(n.reason ?? n.incident.title)}`;
}

/**
 * The sentence under the headline: what happened, where the incident's title (`db-1 is down`)
 * would repeat the opening. A resolve says how it ended, an escalation whom it follows.
 */
export function leadLine(n: Notification): string {
  return resolution(n)?.sentence ?? escalationLine(n) ?? openingLine(n);
}

/** The zone a message's times are shown in: its reader's when it goes to one person, UTC when many read it. */
const zoneOf = (n: Pick<Notification, 'reader'>): string | undefined => n.reader?.time_zone;

/** `10:00:20 UTC`, or on the reader's clock with UTC beside it (`05:00:20 EST (10:00:20 UTC)`). */
const timeOfDay = (iso: string, zone: string | undefined): string => zonedStamp(new Date(iso), zone, false);

/**
 * `level 2 of 4`: counted from 1, as people count, out of the policy's levels, so that no reader
 * wonders whether "level 2" is the second (the API's `escalation_level` counts from 0). Without
 * the total (no policy, or one shortened since) the number alone.
 */
export const levelName = (level: number, levels: number | undefined): string => `level ${levelNumber(level, levels)}`;

/** `2 of 4`, or `2` (levelName). */
export const levelNumber = (level: number, levels: number | undefined): string => (levels !== undefined && level < levels ? `${level + 1} of ${levels}` : `${level + 1}`);

/** `a`, `a and b`, `a, b and c`. */
const listed = (items: string[]): string => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

/**
 * Whom a page reached, as its reader should read it: each person by name and the schedule that
 * put them on call, `you` in a message to that person's own contact only (a channel named on a
 * level is read by others), then the level's channels counted. Undefined without the page's reach.
 */
export function pagedNames(n: Notification): string | undefined {
  return n.paged === undefined ? undefined : reachNames(n.paged, n.reader?.user_id);
}

/**
 * A level's reach in pagedNames' words, `you` for the person `you` names: `Ana Okafor (on call in
 * Platform primary) and 2 channels`; undefined when it names nobody. The console's incident page
 * says whom the next level pages in them.
 */
export function reachNames(paged: NonNullable<Notification['paged']>, you?: string): string | undefined {
  const people = paged.people.map((p) => {
    const who = p.user_id === you ? 'you' : oneLine(p.name);
    return p.schedule_id === undefined ? who : `${who} (on call in ${p.schedule_name ? oneLine(p.schedule_name) : 'a deleted schedule'})`;
  });
  const { channels } = paged;
  return listed([...people, ...(channels ? [channels === 1 ? '1 channel' : `${channels} channels`] : [])]) || undefined;
}

/** `paging Ana Okafor (on call in Platform primary), level 2 of 4`; `paging level 2 of 4` when whom is not known. */
function paging(n: Notification, level: number): string {
  const names = pagedNames(n);
  return `paging ${names ? `${names}, ` : ''}${levelName(level, n.levels)}`;
}

/** An opening's title and whom it pages: `db-1 is down — paging you (on call in Platform primary), level 1 of 2`. */
function openingLine(n: Notification): string {
  return n.event === 'opened' && n.paged !== undefined ? `${n.incident.title} — ${paging(n, 0)}` : n.incident.title;
}

/**
 * How a resolve ended, short (for subjects and headers) and as a sentence. The engine resolving it
 * (`auto`) means the node recovered (a scheduled job by a run that succeeded, not by heartbeats
 * resuming: it sends none); by hand, the node's state says whether it still fails, and then
 * nothing pages for it until it recovers and fails again (a new incident). None for a message
 * built without the node's state (a channel's test).
 */
function resolution(n: Notification): { short: string; sentence: string } | undefined {
  const { incident } = n;
  if (n.event !== 'resolved' || n.nodeState === undefined || incident.resolved_at === null) return undefined;
  const node = oneLine(n.node.name);
  const after = formatDuration(Date.parse(incident.resolved_at) - Date.parse(incident.opened_at));
  if (incident.resolved_by === 'auto') {
    // A job's heartbeats are its success pings: what ended its outage is a run that succeeded.
    const how = incident.category !== 'node_down' ? 'healthy again' : n.scheduled ? 'a run succeeded' : 'heartbeats resumed';
    return { short: `${node} recovered after ${after}`, sentence: `${node} recovered (${how} at ${timeOfDay(incident.resolved_at, zoneOf(n))} after ${after})` };
  }
  if (incident.resolved_by === 'node_deleted') return { short: `${node} was deleted`, sentence: `${node} was deleted, which closed its incident after ${after}` };
  const who = oneLine(n.shownBy.resolved_by ?? 'someone');
  if (n.nodeState === 'down' || n.nodeState === 'degraded') {
    return {
      short: `${node} still ${n.nodeState}, resolved by ${who}`,
      sentence: `resolved by ${who} while ${node} is still ${n.nodeState} — it will not page again until it recovers and fails again`,
    };
  }
  return { short: `${node} resolved by ${who} after ${after}`, sentence: `resolved by ${who} after ${after}` };
}

/**
 * `Paged: Dana Oncall (level 1 of 3) at 07:43:50 UTC, not acknowledged after 3m; now paging Ana
 * Okafor (on call in Platform primary), level 2 of 3`: whom an escalation follows, read from the
 * incident's timeline with the message (escalation), and whom it pages now. A page that restarts
 * the levels after an acknowledgement expired says so: `Acknowledged by alice at 10:00:30 UTC, not
 * resolved 10m after; now paging …, level 1 of 2 again` (not "not acknowledged": it was).
 */
function escalationLine(n: Notification): string | undefined {
  if (n.event !== 'escalated' || n.escalation === undefined) return undefined;
  const { level, before, expired } = n.escalation;
  const now = `now ${paging(n, level)}`;
  if (expired) {
    return `Acknowledged by ${oneLine(expired.by)} at ${timeOfDay(expired.at, zoneOf(n))}, not resolved ${formatDuration(expired.after_seconds * 1000)} after; ${now} again`;
  }
  const first = before[0];
  if (!first) return `Not acknowledged; ${now}`;
  const paged = before.map((p) => `${oneLine(listed(p.names) || 'nobody')} (${levelName(p.level, n.levels)}) at ${timeOfDay(p.at, zoneOf(n))}`);
  return `Paged: ${paged.join('; ')}, not acknowledged after ${formatDuration(Date.parse(n.occurredAt) - Date.parse(first.at))}; ${now}`;
}

/** The message's acknowledge and resolve links as labelled buttons, in that order; none without links. */
export function actionButtons(n: Notification): Array<{ label: string; url: string }> {
  const links = n.links ?? {};
  return [
    ...(links.acknowledge ? [{ label: 'Acknowledge', url: links.acknowledge }] : []),
    ...(links.resolve ? [{ label: 'Resolve', url: links.resolve }] : []),
  ];
}

/**
 * A single message's buttons: its action links, then the incident's console page (what a reader
 * needs beyond acknowledging: its timeline, who was paged). A digest keeps to the action links, so
 * as many updates fit a Slack message as before.
 */
export function messageButtons(n: Notification): Array<{ label: string; url: string }> {
  return [...actionButtons(n), ...(n.incidentUrl ? [{ label: 'Open in console', url: n.incidentUrl }] : [])];
}

/** `[Lifeline] DOWN: db-1 — no heartbeat for 90s` */
export function subjectLine(n: Notification): string {
  return `[Lifeline] ${headline(n)}`;
}

/**
 * The labelled details every channel shows. At most ten entries, because a Slack section
 * accepts at most ten fields.
 */
export function incidentFacts(n: Notification): Fact[] {
  const { incident, node } = n;
  const facts: Fact[] = [{ label: 'Node', value: node.name }];
  if (n.reason !== null) facts.push({ label: 'Reason', value: n.reason });
  facts.push(
    { label: 'Severity', value: incident.severity },
    { label: 'Status', value: incident.status },
    { label: 'Opened', value: opening(n) },
  );
  if (incident.acknowledged_at !== null) {
    facts.push({ label: 'Acknowledged', value: byline(incident.acknowledged_at, n.shownBy.acknowledged_by, zoneOf(n)) });
  }
  // A page after an acknowledgement expired: who had it, so nobody reads "open" as never answered.
  const expired = n.escalation?.expired;
  if (expired) facts.push({ label: 'Acknowledgement expired', value: `${byline(expired.at, expired.by, zoneOf(n))}, not resolved ${formatDuration(expired.after_seconds * 1000)} after` });
  if (incident.resolved_at !== null) {
    facts.push(
      { label: 'Resolved', value: byline(incident.resolved_at, n.shownBy.resolved_by, zoneOf(n)) },
      { label: 'Duration', value: formatDuration(Date.parse(incident.resolved_at) - Date.parse(incident.opened_at)) },
    );
  }
  // `2 of 4`: counted from 1 out of the policy's levels (the API's escalation_level counts from 0).
  // An escalation's is the level its page went to, as its timeline entry recorded it: the incident
  // is read when the message is sent, and a level-2 page retried after level 3 fired said 3. An
  // opening's page is level 1's (index 0) however late it leaves: one sent after level 2 fired said 2.
  const level = n.escalation?.level ?? (n.event === 'opened' ? 0 : incident.escalation_level);
  facts.push({ label: 'Escalation level', value: levelNumber(level, n.levels) });
  const labels = Object.entries(node.labels);
  if (labels.length > 0) facts.push({ label: 'Labels', value: labels.map(([k, v]) => `${k}=${v}`).join(', ') });
  return facts;
}

/**
 * When the incident opened, and why when that is no longer the reason above it (a job down for a
 * missed run that then failed): `2026-12-08 03:00:00 UTC — no run has ended since it was created`.
 * In the Opened fact, not one of its own: a Slack section takes ten fields.
 */
function opening(n: Notification): string {
  const at = formatTime(n.incident.opened_at, zoneOf(n));
  return n.incident.reason !== null && n.reason !== null && n.reason !== n.incident.reason ? `${at} — ${n.incident.reason}` : at;
}

const DURATION_UNITS = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
] as const;

/**
 * `4m 10s`, `2h 5m`, `3d`: the largest non-zero unit and the next one when it is non-zero.
 * Two units are as precise as a reader of an alert needs; seconds under a minute are exact.
 */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const counts = DURATION_UNITS.map(([unit, size]) => {
    const count = Math.floor(rest / size);
    rest -= count * size;
    return { unit, count };
  });
  const first = counts.findIndex((c) => c.count > 0);
  if (first === -1) return '0s';
  return counts
    .slice(first, first + 2)
    .filter((c) => c.count > 0)
    .map((c) => `${c.count}${c.unit}`)
    .join(' ');
}

/**
 * `2026-11-21 10:00:00 UTC`, unambiguous for readers in any time zone; to one person (`zone`, their
 * own), on their clock with UTC beside it: `2026-11-21 05:00:00 EST (10:00:00 UTC)`.
 */
export function formatTime(iso: string, zone?: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return zonedStamp(at, zone);
}

/**
 * Cuts `text` to at most `max` UTF-16 units, marking the cut, for receivers with length limits.
 * An emoji is two units (a surrogate pair); a cut between them would leave a lone high surrogate,
 * which is not valid Unicode, so that half goes too: one unit shorter, never malformed.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept = text.slice(0, max - 1);
  return `${/[\uD800-\uDBFF]$/.test(kept) ? kept.slice(0, -1) : kept}…`;
}

/**
 * Who wrote a resolve's note, as people read them (Notification.shownBy): whoever resolved, since
 * the note is written with the resolve. Anyone holding a Resolve link may write 2,000 characters to
 * everyone paged, so the note is never shown unsigned.
 */
export function noteAuthor(n: Notification): string {
  return oneLine(n.shownBy.resolved_by ?? 'whoever resolved it');
}

/**
 * What heads a resolve's note in every channel that shows it (email, Slack): `Note from <who>`. The
 * note goes under the facts, whole: it is prose, often several lines, and the facts are a table
 * (Slack's ten fields) of one-line values.
 */
export const noteLabel = (n: Notification): string => `Note from ${noteAuthor(n)}`;

/** `2026-11-21 10:04:10 UTC by Lifeline`; `by` as people read it (Notification.shownBy). */
function byline(at: string, by: string | null, zone: string | undefined): string {
  return by === null ? formatTime(at, zone) : `${formatTime(at, zone)} by ${by}`;
}

// Node names and reasons come from agents; a line break in one must not split a subject header
// or a Slack header into something else.
function oneLine(text: string): string {
  return text.replace(/[\s\p{Cc}]+/gu, ' ').trim();
}

/**
 * The order of a digest's kinds, in its summary and its list alike: what pages someone (DOWN,
 * DEGRADED, ESCALATED) before what only reports an answer (ACKNOWLEDGED) before what is over
 * (RESOLVED), so a reader meets what needs action first and two digests read alike.
 */
const DIGEST_ORDER: EventWord[] = ['DOWN', 'DEGRADED', 'ESCALATED', 'ACKNOWLEDGED', 'RESOLVED'];

/** The digest's updates by kind, in DIGEST_ORDER, kinds with none left out. */
function byKind(ns: Notification[]): Array<{ word: EventWord; ns: Notification[] }> {
  const kinds = new Map<EventWord, Notification[]>(DIGEST_ORDER.map((w) => [w, []]));
  for (const n of ns) kinds.get(eventWord(n))!.push(n);
  return [...kinds].filter(([, of]) => of.length > 0).map(([word, of]) => ({ word, ns: of }));
}

/**
 * `37 incident updates: 30 DOWN, 5 DEGRADED, 2 RESOLVED` — the one-line summary of a storm digest,
 * counts in a fixed order so two digests read alike.
 */
export function digestSummary(ns: Notification[]): string {
  const parts = byKind(ns).map((k) => `${k.ns.length} ${k.word}`);
  return `${ns.length} incident update${ns.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

// A digest lists this many updates; the summary line still counts them all.
export const DIGEST_LINES = 200;

// Lines each kind keeps before the earlier kinds take the rest, a twentieth of the list: five
// kinds take at most a quarter (50 of the 200), so pages keep three quarters however many resolves
// came with them, and 283 resolves still show 10 recovered nodes beside 500 DOWN instead of none.
// A Slack digest cut to 48 lines by long reasons gives each kind 2, not 10 (18 of its 48 went to
// updates that page nobody).
const kindLines = (lines: number): number => Math.floor(lines / 20);

/** One update of a digest: its line, and its acknowledge and resolve links when it has any. */
export interface DigestItem {
  line: string;
  buttons: Array<{ label: string; url: string }>;
}

/** One kind of update in a digest: the updates listed, and how many more of that kind are only counted. */
export interface DigestGroup {
  word: EventWord;
  items: DigestItem[];
  rest: number;
}

/**
 * What still stands first (an update of an incident resolved since, e.g. a DOWN whose RESOLVED is
 * further down the same digest, after those still open), then newest first, then by node name,
 * then by incident: the first updates of a storm were sent alone (the first 20 a minute to a
 * destination go out before it is held), so what a reader does not yet know is the newest, and a
 * cut keeps it. In a 300-node outage the 3 jobs that went down 3 s after 280 nodes were the ones
 * cut when the list ran oldest first. Names and ids compared by code unit, not by locale, so every
 * engine lists a digest alike.
 */
const newestFirst = (a: Notification, b: Notification): number =>
  Number(isOver(a)) - Number(isOver(b)) ||
  compare(b.occurredAt, a.occurredAt) ||
  compare(a.node.name, b.node.name) ||
  compare(a.incident.id, b.incident.id) ||
  compare(a.messageId, b.messageId);

const isOver = (n: Notification): boolean => n.incident.status === 'resolved';

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * How many lines each kind gets of `lines`: first up to kindLines each, in DIGEST_ORDER, then what
 * is left in that order, so pages fill the list while no kind is cut to nothing by another.
 */
function shares(counts: number[], lines: number): number[] {
  const share = counts.map(() => 0);
  let left = lines;
  for (const cap of [kindLines(lines), Infinity]) {
    counts.forEach((count, i) => {
      const take = Math.min(Math.min(count, cap) - share[i]!, left);
      share[i]! += take;
      left -= take;
    });
  }
  return share;
}

/**
 * The digest's updates by kind (DIGEST_ORDER), each newest first and stamped with when it happened,
 * at most `lines` listed in all; each group counts its own updates left out, so every kind is named.
 */
export function digestGroups(ns: Notification[], lines = DIGEST_LINES): DigestGroup[] {
  const kinds = byKind(ns);
  const share = shares(kinds.map((k) => k.ns.length), lines);
  return kinds.map((k, i) => ({
    word: k.word,
    items: [...k.ns]
      .sort(newestFirst)
      .slice(0, share[i])
      .map((n) => ({ line: `${formatTime(n.occurredAt, zoneOf(n))}  ${headline(n)}`, buttons: actionButtons(n) })),
    rest: k.ns.length - share[i]!,
  }));
}

/** "… and 37 more DOWN" under a kind's listed updates, when the digest lists only some of them. */
export const digestRest = (g: DigestGroup): string => `… and ${g.rest} more ${g.word}`;

/**
 * The console's list of incidents not yet resolved, under a digest: where to read the updates it
 * only counts. Given only when the engine knows its public URL.
 */
export const digestListLabel = 'All incidents not yet resolved';
