import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Acting } from '../../audit/model.ts';
import { getChannelsByIds } from '../../channels/store.ts';
import { Refusal } from '../../errors.ts';
import { actionLinkKey, verifyActionLink, type ActionLink, type LinkAction } from '../../incidents/action-links.ts';
import type { IncidentRow } from '../../incidents/model.ts';
import { acknowledge, resolve, type Actor } from '../../incidents/service.ts';
import { getIncident } from '../../incidents/store.ts';
import { stillFailing } from '../../incidents/still-failing.ts';
import { nodeStates } from '../../nodes/store.ts';
import { userNames } from '../../oncall/store-users.ts';
import { renderActionLinkPage, type ActionLinkView } from '../../web/action-link-page.tsx';
import { FORM_PAGE_CSP, PAGE_HEADERS } from '../../web/layout.tsx';
import type { AppDeps } from '../deps.ts';

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

/** Who did the link's action and when, from the incident itself; undefined while it is not done. */
function doneBefore(incident: IncidentRow, action: LinkAction): Extract<ActionLinkView, { kind: 'already' }> | undefined {
  if (incident.status === 'resolved') return { kind: 'already', incident, what: 'resolved', by: incident.resolved_by, at: incident.resolved_at! };
  if (action === 'acknowledge' && incident.status === 'acknowledged') {
    return { kind: 'already', incident, what: 'acknowledged', by: incident.acknowledged_by, at: incident.acknowledged_at! };
  }
  return undefined;
}

const STATUS: Record<ActionLinkView['kind'], ContentfulStatusCode> = { ask: 200, done: 200, already: 200, invalid: 404, expired: 410, missing: 404 };

async function send(c: Context, view: ActionLinkView): Promise<Response> {
  return c.html(await renderActionLinkPage(view), STATUS[view.kind], HEADERS);
}

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

  /** The link checked and its incident found, or the page that says why not. */
  const open = async (c: Context): Promise<{ link: ActionLink; incident: IncidentRow } | ActionLinkView> => {
    const check = verifyActionLink(key, c.req.param('token')!, clock.now());
    if (!check.ok) return check.reason === 'invalid' ? { kind: 'invalid' } : { kind: 'expired', until: check.link.expiresAt };
    const incident = await getIncident(sql, check.link.incidentId);
    return incident ? { link: check.link, incident } : { kind: 'missing' };
  };

  app.get('/:token', async (c) => {
    const opened = await open(c);
    if ('kind' in opened) return send(c, opened);
    const { link, incident } = opened;
    const before = doneBefore(incident, link.action);
    if (before) return send(c, before);
    const [actor, states] = await Promise.all([actorFor(link), link.action === 'resolve' ? nodeStates(sql, [incident.node_id]) : undefined]);
    // Resolving while the node is still down leaves it unwatched: say so before the button, as the console does.
    const still = states && stillFailing(incident, states.get(incident.node_id));
    return send(c, { kind: 'ask', action: link.action, incident, as: actor.by, ...(still ? { still } : {}) });
  });

  app.post('/:token', async (c) => {
    const opened = await open(c);
    if ('kind' in opened) return send(c, opened);
    const { link } = opened;
    const before = doneBefore(opened.incident, link.action);
    if (before) return send(c, before);
    const actor = await actorFor(link);
    let incident: IncidentRow;
    try {
      const who = actingFor(c, link, actor);
      incident = await (link.action === 'acknowledge' ? acknowledge(sql, link.incidentId, actor, clock.now(), who) : resolve(sql, link.incidentId, actor, clock.now(), who));
    } catch (err) {
      // Resolved by someone else between the check above and the command.
      if (!(err instanceof Refusal && err.code === 'conflict')) throw err;
      incident = (await getIncident(sql, link.incidentId))!;
    }
    const done = doneBefore(incident, link.action)!;
    // Someone else may have got there first: the command keeps the first acknowledgement.
    if (done.by !== actor.by) return send(c, done);
    return send(c, { kind: 'done', action: link.action, incident, by: done.by, at: done.at });
  });

  return app;
}
