import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Acting } from '../../audit/model.ts';
import { getChannelsByIds } from '../../channels/store.ts';
import { Refusal, validationFailed } from '../../errors.ts';
import { actorTextOf } from '../../incidents/actor-names.ts';
import { actionLinkKey, verifyActionLink, type ActionLink, type LinkAction } from '../../incidents/action-links.ts';
import type { IncidentRow } from '../../incidents/model.ts';
import { acknowledge, resolve, type Actor } from '../../incidents/service.ts';
import { noteOf, resolutionNote } from '../../incidents/resolve-note.ts';
import { getIncident } from '../../incidents/store.ts';
import { stillFailing } from '../../incidents/still-failing.ts';
import { nodeStates } from '../../nodes/store.ts';
import { getUser, userNames } from '../../oncall/store-users.ts';
import { renderActionLinkPage, type ActionLinkView } from '../../web/action-link-page.tsx';
import { FORM_PAGE_CSP, PAGE_HEADERS } from '../../web/layout.tsx';
import { unstorableText } from '../validation.ts';
import type { AppDeps } from '../deps.ts';
import { MAX_FORM_BYTES } from '../gate.ts';

// GET /a/{token}: what a link from a notification will do, changing nothing (mail scanners and
// link previews open every link); its button POSTs the same URL, which acts as the recipient
// through the same commands as the API. The token is the whole authority (see
// src/incidents/action-links.ts): there is no session, so there is nothing for another site to
// ride on, and a form elsewhere could only post a token it already has.

const HEADERS = {
  ...PAGE_HEADERS,
  // The page's one form posts back here.
  'content-security-policy': FORM_PAGE_CSP,
  // The answer depends on the incident as it stands now, and names who acted.
  'cache-control': 'no-store',
  'x-robots-tag': 'noindex',
};

type Already = Extract<ActionLinkView, { kind: 'already' }>;

/** Who did the link's action and when, from the incident itself (`by` as stored); undefined while it is not done. */
function doneBefore(incident: IncidentRow, action: LinkAction): Already | undefined {
  if (incident.status === 'resolved') return { kind: 'already', incident, what: 'resolved', by: incident.resolved_by, at: incident.resolved_at! };
  if (action === 'acknowledge' && incident.status === 'acknowledged') {
    return { kind: 'already', incident, what: 'acknowledged', by: incident.acknowledged_by, at: incident.acknowledged_at! };
  }
  return undefined;
}

const STATUS: Record<ActionLinkView['kind'], ContentfulStatusCode> = { ask: 200, done: 200, already: 200, invalid: 404, expired: 410, missing: 404 };

async function send(c: Context, view: ActionLinkView, zone: string | undefined, status = STATUS[view.kind]): Promise<Response> {
  return c.html(await renderActionLinkPage(view, zone), status, HEADERS);
}

/**
 * The form the page posted, or undefined when it cannot be read (a malformed multipart body): the
 * sender's fault, answered with the page again rather than a 500.
 */
async function formOf(c: Context): Promise<Record<string, string | File> | undefined> {
  try {
    return await c.req.parseBody();
  } catch {
    return undefined;
  }
}

/** Why the page came back when the form could not be read. */
const UNREAD = { note: '', refused: 'could not be read; type it again' };

/** Acknowledge and resolve links from notifications, as pages for people. */
export function actionLinkRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const key = actionLinkKey(deps.secretKey);
  const app = new Hono();

  /** The recipient as the timeline will name them: a person's name, or the channel's. */
  const actorFor = async (link: ActionLink): Promise<Actor> => {
    const { kind, id } = link.recipient;
    const name = kind === 'user' ? (await userNames(sql, [id])).get(id) : (await getChannelsByIds(sql, [id]))[0]?.name;
    return { by: name ?? `${kind}:${id}`, detail: { via: 'link', [`${kind}_id`]: id } };
  };

  /** The recipient the link names, as the audit log records them. */
  const actingFor = (c: Context, link: ActionLink, actor: Actor): Acting => ({
    actor: { kind: 'person', id: link.recipient.id, name: actor.by },
    via: 'link',
    requestId: c.var.requestId,
  });

  /** Who did it as people read it, as the console and the messages name them (actorText): "key ops-bot", "Lifeline". */
  const shown = async (v: Already): Promise<Already> => (v.by === null ? v : { ...v, by: await actorTextOf(sql, v.by) });

  /** What the link will do, before its button; `kept`: a note sent back with why it was refused. */
  const ask = async (link: ActionLink, incident: IncidentRow, as: string, kept?: { note: string; refused: string }): Promise<ActionLinkView> => {
    // Resolving while the node is still down leaves it unwatched: say so before the button, as the console does.
    const still = link.action === 'resolve' ? stillFailing(incident, (await nodeStates(sql, [incident.node_id])).get(incident.node_id)) : undefined;
    return { kind: 'ask', action: link.action, incident, as, ...(still ? { still } : {}), ...kept };
  };

  /** The time zone of the person a link was sent to; none for a channel's link, whose readers are many. */
  const zoneFor = async (link: ActionLink): Promise<string | undefined> =>
    link.recipient.kind === 'user' ? (await getUser(sql, link.recipient.id))?.time_zone : undefined;

  /**
   * The link checked and its incident found, or the page that says why not; either way the zone its
   * times are shown in (a link this engine signed names its recipient even once expired).
   */
  const open = async (c: Context): Promise<({ link: ActionLink; incident: IncidentRow } | { view: ActionLinkView }) & { zone: string | undefined }> => {
    const check = verifyActionLink(key, c.req.param('token')!, clock.now());
    if (!check.ok && check.reason === 'invalid') return { view: { kind: 'invalid' }, zone: undefined };
    const zone = await zoneFor(check.link);
    if (!check.ok) return { view: { kind: 'expired', until: check.link.expiresAt }, zone };
    const incident = await getIncident(sql, check.link.incidentId);
    return incident ? { link: check.link, incident, zone } : { view: { kind: 'missing' }, zone };
  };

  app.get('/:token', async (c) => {
    const opened = await open(c);
    const reply = (view: ActionLinkView) => send(c, view, opened.zone);
    if ('view' in opened) return reply(opened.view);
    const { link, incident } = opened;
    const before = doneBefore(incident, link.action);
    return reply(before ? await shown(before) : await ask(link, incident, (await actorFor(link)).by));
  });

  const small = bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.text('Too much to send: this page sends a note of at most 2,000 characters.', 413, HEADERS) });

  app.post('/:token', small, async (c) => {
    const opened = await open(c);
    const reply = (view: ActionLinkView, status?: ContentfulStatusCode) => send(c, view, opened.zone, status);
    if ('view' in opened) return reply(opened.view);
    const { link } = opened;
    // Read before anything is decided: a note typed while someone else resolved comes back to copy.
    const form = link.action === 'resolve' ? await formOf(c) : {};
    const typed = form ? noteOf(form) : '';
    /** The action done by someone else, with the note typed here, which was not saved. */
    const already = async (v: Already) => reply({ ...(await shown(v)), ...(typed.trim() !== '' ? { note: typed } : {}) });
    const before = doneBefore(opened.incident, link.action);
    if (before) return already(before);
    const actor = await actorFor(link);
    let note: string | undefined;
    if (link.action === 'resolve') {
      if (!form) return reply(await ask(link, opened.incident, actor.by, UNREAD), 400);
      try {
        const unstorable = unstorableText(typed);
        if (unstorable.length) throw validationFailed(unstorable);
        note = resolutionNote(typed);
      } catch (err) {
        if (!(err instanceof Refusal && err.code === 'validation_failed')) throw err;
        // Sent back to be shortened, not lost: it was typed on a phone.
        return reply(await ask(link, opened.incident, actor.by, { note: typed, refused: err.details?.[0]?.message ?? err.message }), 400);
      }
    }
    let incident: IncidentRow;
    try {
      const who = actingFor(c, link, actor);
      incident = await (link.action === 'acknowledge' ? acknowledge(sql, link.incidentId, actor, clock, who) : resolve(sql, link.incidentId, { ...actor, note }, clock, who));
    } catch (err) {
      // Resolved by someone else between the check above and the command.
      if (!(err instanceof Refusal && err.code === 'conflict')) throw err;
      incident = (await getIncident(sql, link.incidentId))!;
    }
    const done = doneBefore(incident, link.action)!;
    // Someone else may have got there first: the command keeps the first acknowledgement.
    if (done.by !== actor.by) return already(done);
    return reply({ kind: 'done', action: link.action, incident, by: done.by, at: done.at });
  });

  return app;
}
