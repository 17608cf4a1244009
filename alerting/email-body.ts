// The plain-text and HTML bodies of an incident email. Both carry the same facts (render.ts);
// the HTML one escapes every interpolated value because node names, reasons and labels come
// from agents and must not be able to inject markup into an operator's inbox.

import type { Notification } from '../src/notifications/model.ts';
import { digestGroups, digestListLabel, digestRest, digestSummary, eventWord, headline, incidentFacts, leadLine, messageButtons, noteLabel, type DigestItem, type EventWord } from './render.ts';

const ACCENT: Record<EventWord, string> = {
  DOWN: '#c0392b',
  DEGRADED: '#b9770e',
  ESCALATED: '#c0392b',
  ACKNOWLEDGED: '#2471a3',
  RESOLVED: '#1e8449',
};

export function emailText(n: Notification): string {
  const facts = incidentFacts(n).map((fact) => `${fact.label}: ${fact.value}`);
  const actions = messageButtons(n).map((b) => `${b.label}: ${b.url}`);
  const note = n.note !== undefined ? [`${noteLabel(n)}:`, n.note, ''] : [];
  return [headline(n), '', leadLine(n), '', ...facts, '', ...note, ...(actions.length ? [...actions, ''] : []), `Incident ${n.incident.id}`, ''].join('\n');
}

/** Links as buttons: styled anchors, since mail clients run no scripts and submit no forms. */
function buttonsHtml(n: Notification): string {
  const buttons = messageButtons(n).map(
    (b) =>
      `<a href="${escapeHtml(b.url)}" style="display:inline-block;margin:0 8px 0 0;padding:8px 16px;border-radius:4px;` +
      `background:#2471a3;color:#fff;text-decoration:none">${escapeHtml(b.label)}</a>`,
  );
  return buttons.length ? `<p style="margin:16px 0 0">${buttons.join('')}</p>\n` : '';
}

/** The note as written, its line breaks kept. */
function noteHtml(n: Notification): string {
  if (n.note === undefined) return '';
  return `<p style="margin:16px 0 4px;color:#555">${escapeHtml(noteLabel(n))}</p>\n<p style="margin:0;white-space:pre-wrap">${escapeHtml(n.note)}</p>\n`;
}

export function emailHtml(n: Notification): string {
  const rows = incidentFacts(n)
    .map(
      (fact) =>
        `<tr><th align="left" style="padding:4px 16px 4px 0;color:#555">${escapeHtml(fact.label)}</th>` +
        `<td style="padding:4px 0">${escapeHtml(fact.value)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html>
<body style="font-family:Helvetica,Arial,sans-serif;color:#222">
<h2 style="margin:0 0 8px;color:${ACCENT[eventWord(n)]}">${escapeHtml(headline(n))}</h2>
<p style="margin:0 0 16px">${escapeHtml(leadLine(n))}</p>
<table cellspacing="0" cellpadding="0">
${rows}
</table>
${noteHtml(n)}${buttonsHtml(n)}<p style="margin:16px 0 0;color:#888;font-size:12px">Incident ${escapeHtml(n.incident.id)} · sent by Lifeline</p>
</body>
</html>
`;
}

/**
 * Each update on its line, its links indented under it (a reader acts on one incident of the storm),
 * by kind (digestGroups), each kind's cut counted under it; then the console's list (`listUrl`).
 */
export function digestText(ns: Notification[], listUrl?: string): string {
  const lines = digestGroups(ns).flatMap((g) => [
    ...g.items.flatMap((item) => [item.line, ...item.buttons.map((b) => `    ${b.label}: ${b.url}`)]),
    ...(g.rest ? [digestRest(g)] : []),
  ]);
  return [digestSummary(ns), '', ...lines, ...(listUrl ? ['', `${digestListLabel}: ${listUrl}`] : []), ''].join('\n');
}

export function digestHtml(ns: Notification[], listUrl?: string): string {
  const li = (item: DigestItem) => {
    const links = item.buttons.map((b) => ` <a href="${escapeHtml(b.url)}" style="font-family:Helvetica,Arial,sans-serif;color:#2471a3">${escapeHtml(b.label)}</a>`).join(' ·');
    return `<li style="margin:2px 0">${escapeHtml(item.line)}${links ? ` —${links}` : ''}</li>`;
  };
  const list = digestGroups(ns)
    .flatMap((g) => [...g.items.map(li), ...(g.rest ? [`<li style="margin:2px 0">${escapeHtml(digestRest(g))}</li>`] : [])])
    .join('\n');
  const more = listUrl ? `<p style="margin:16px 0 0"><a href="${escapeHtml(listUrl)}" style="color:#2471a3">${escapeHtml(digestListLabel)}</a></p>\n` : '';
  return `<!doctype html>
<html>
<body style="font-family:Helvetica,Arial,sans-serif;color:#222">
<h2 style="margin:0 0 8px">${escapeHtml(digestSummary(ns))}</h2>
<ul style="padding-left:18px;font-family:monospace">
${list}
</ul>
${more}<p style="margin:16px 0 0;color:#888;font-size:12px">A digest: many incidents changed at once · sent by Lifeline</p>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
