import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { formatTime } from '../../../alerting/render.ts';
import { getChannelsByIds } from '../../channels/store.ts';
import { Refusal } from '../../errors.ts';
import { actionLinkKey, verifyActionLink, type ActionLink, type LinkAction } from '../../incidents/action-links.ts';
import type { IncidentRow } from '../../incidents/model.ts';
import { acknowledge, resolve, type Actor } from '../../incidents/service.ts';
import { getIncident } from '../../incidents/store.ts';
import { userNames } from '../../oncall/store-users.ts';
import type { AppDeps } from '../deps.ts';

// GET /a/{token}: what a link from a notification will do, changing nothing (mail scanners and
// link previews open every link); its button POSTs the same token, which acts as the recipient
// through the same commands as the API. The token is the whole authority (see
// src/incidents/action-links.ts): there is no session, so there is nothing for another site to
// ride on, and a form elsewhere cannot post a token it does not have. Pages load nothing: one
// inline stylesheet allowed by its hash, no scripts, no images.

const CSS = `body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
h1{font-size:1.4rem;margin:0 0 .5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:1rem 0}
dt{color:#555}
dd{margin:0}
button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:4px;background:#2471a3;color:#fff;cursor:pointer}
.done{color:#1e8449}
.note{color:#666;font-size:.9rem}`;

const HEADERS = {
  'content-security-policy': [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  // The token is in the URL: no Referer may carry it anywhere (nothing is loaded, but links may be followed).
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-robots-tag': 'noindex',
};

const VERBS: Record<LinkAction, string> = { acknowledge: 'Acknowledge', resolve: 'Resolve' };

function Page(props: { title: string; children?: unknown }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{props.title} · Lifeline</title>
        <style dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>{props.children}</body>
    </html>
  );
}

function Facts({ incident }: { incident: IncidentRow }) {
  return (
    <dl>
      <dt>Incident</dt>
      <dd>{incident.title}</dd>
      <dt>Node</dt>
      <dd>{incident.node_name}</dd>
      {incident.reason !== null && (
        <>
          <dt>Reason</dt>
          <dd>{incident.reason}</dd>
        </>
      )}
      <dt>Opened</dt>
      <dd>{formatTime(incident.opened_at.toISOString())}</dd>
      <dt>Status</dt>
      <dd>{incident.status}</dd>
    </dl>
  );
}

/** Who did the link's action and when, from the incident itself; undefined while it is not done. */
function doneBy(incident: IncidentRow, action: LinkAction): { by: string | null; at: Date; what: string } | undefined {
  if (incident.status === 'resolved') return { by: incident.resolved_by, at: incident.resolved_at!, what: 'resolved' };
  if (action === 'acknowledge' && incident.status === 'acknowledged') return { by: incident.acknowledged_by, at: incident.acknowledged_at!, what: 'acknowledged' };
  return undefined;
}

const send = (c: Context, status: ContentfulStatusCode, page: unknown) => c.html(`<!doctype html>${String(page)}`, status, HEADERS);

/** Acknowledge and resolve links from notifications, as pages for people. */
export function actionLinkRoutes(deps: AppDeps) {
  const { sql, clock } = deps;
  const key = actionLinkKey(deps.secretKey);
  const app = new Hono();

  /** The recipient's name as the timeline will show it, and what the timeline entry adds. */
  const actorFor = async (link: ActionLink): Promise<Actor> => {
    const { kind, id } = link.recipient;
    const name = kind === 'user' ? (await userNames(sql, [id])).get(id) : (await getChannelsByIds(sql, [id]))[0]?.name;
    return { by: name ?? `${kind}:${id}`, detail: { via: 'link', [`${kind}_id`]: id } };
  };

  /** The link checked and its incident found, or the page that says why not. */
  const open = async (c: Context): Promise<{ link: ActionLink; incident: IncidentRow } | Response> => {
    const check = verifyActionLink(key, c.req.param('token')!, clock.now());
    if (!check.ok && check.reason === 'invalid') {
      return send(c, 404, <Page title="Not a valid link"><h1>This link is not valid</h1><p>Nothing was changed. Copy the whole link from the message, or act from the console or the API.</p></Page>);
    }
    if (!check.ok) {
      return send(c, 410, <Page title="Link expired"><h1>This link expired</h1><p>It could be used until {formatTime(check.link.expiresAt.toISOString())}. Nothing was changed; act from the console or the API.</p></Page>);
    }
    const incident = await getIncident(sql, check.link.incidentId);
    if (!incident) return send(c, 404, <Page title="No such incident"><h1>This incident no longer exists</h1><p>Nothing was changed.</p></Page>);
    return { link: check.link, incident };
  };

  const already = (c: Context, incident: IncidentRow, done: NonNullable<ReturnType<typeof doneBy>>) =>
    send(
      c,
      200,
      <Page title={`Already ${done.what}`}>
        <h1>Already {done.what}</h1>
        <p>
          {done.by ?? 'Someone'} {done.what} this incident at {formatTime(done.at.toISOString())}. Nothing was changed.
        </p>
        <Facts incident={incident} />
      </Page>,
    );

  app.get('/:token', async (c) => {
    const opened = await open(c);
    if (opened instanceof Response) return opened;
    const { link, incident } = opened;
    const done = doneBy(incident, link.action);
    if (done) return already(c, incident, done);
    const actor = await actorFor(link);
    const verb = VERBS[link.action];
    return send(
      c,
      200,
      <Page title={`${verb} ${incident.title}`}>
        <h1>
          {verb}: {incident.title}?
        </h1>
        <Facts incident={incident} />
        {/* No action attribute: the form posts to this very URL, behind any proxy path. */}
        <form method="post">
          <button type="submit">
            {verb} as {actor.by}
          </button>
        </form>
        <p class="note">
          {link.action === 'acknowledge' ? 'Acknowledging stops the escalation; whoever was told hears that you took it.' : 'Resolving closes the incident; whoever was told hears that it is resolved.'}
        </p>
      </Page>,
    );
  });

  app.post('/:token', async (c) => {
    const opened = await open(c);
    if (opened instanceof Response) return opened;
    const { link } = opened;
    const before = doneBy(opened.incident, link.action);
    if (before) return already(c, opened.incident, before);
    const actor = await actorFor(link);
    let incident: IncidentRow;
    try {
      incident = await (link.action === 'acknowledge' ? acknowledge(sql, link.incidentId, actor, clock.now()) : resolve(sql, link.incidentId, actor, clock.now()));
    } catch (err) {
      // Resolved by someone else between the check above and the command.
      if (!(err instanceof Refusal && err.code === 'conflict')) throw err;
      incident = (await getIncident(sql, link.incidentId))!;
    }
    const done = doneBy(incident, link.action)!;
    // Someone else may have got there first (the command keeps the first acknowledgement).
    if (done.by !== actor.by) return already(c, incident, done);
    return send(
      c,
      200,
      <Page title={`${VERBS[link.action]}d`}>
        <h1 class="done">
          {done.what[0]!.toUpperCase() + done.what.slice(1)} by {done.by}
        </h1>
        <p>At {formatTime(done.at.toISOString())}. Everyone who was told about this incident hears it.</p>
        <Facts incident={incident} />
      </Page>,
    );
  });

  return app;
}
