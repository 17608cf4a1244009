// The pages a link from a notification opens (src/http/routes/action-links.ts decides which):
// what the link will do with its button, what it did, what someone did before, or why it cannot
// act. Server-rendered, no script, the engine's own stylesheet.

import type { LinkAction } from '../incidents/action-links.ts';
import type { IncidentRow } from '../incidents/model.ts';
import { NOTE_MAX_CHARS } from '../incidents/resolve-note.ts';
import { stillFailingWarning } from '../incidents/still-failing.ts';
import { areaText } from '../console/components.tsx';
import { zonedStamp } from '../local-time.ts';
import { documentOf, dotIcon, Layout } from './layout.tsx';

export type ActionLinkView =
  /**
   * The link may act: what it will do, as whom, and the button that does it; `still`, for a
   * resolve, when the node is still in the state the incident opened for (stillFailing). A
   * resolve takes a note: `note` is one sent back with why it was `refused`, to send again.
   */
  | { kind: 'ask'; action: LinkAction; incident: IncidentRow; as: string; still?: string; note?: string; refused?: string }
  /** The button acted. */
  | { kind: 'done'; action: LinkAction; incident: IncidentRow; by: string; at: Date }
  /** The link's action had already happened: who did what, and when; `note`, one typed here that was not saved. */
  | { kind: 'already'; incident: IncidentRow; what: 'acknowledged' | 'resolved'; by: string | null; at: Date; note?: string }
  | { kind: 'invalid' }
  | { kind: 'expired'; until: Date }
  | { kind: 'missing' };

const VERB: Record<LinkAction, string> = { acknowledge: 'Acknowledge', resolve: 'Resolve' };
const DONE: Record<LinkAction, string> = { acknowledge: 'Acknowledged', resolve: 'Resolved' };
const EFFECT: Record<LinkAction, string> = {
  acknowledge: 'Acknowledging stops the escalation; everyone who was told hears that you took it.',
  resolve: 'Resolving closes the incident; everyone who was told hears that it is resolved.',
};

// The favicon cannot read the stylesheet's variables: the light palette's colours.
const ICON = { open: '#cf222e', acknowledged: '#0969da', resolved: '#1a7f37', none: '#6e7781' };

/**
 * "2026-11-21 10:00:00 UTC": a page without script cannot know the reader's time zone. A link sent
 * to one person knows theirs (`zone`): "2026-11-21 05:00:00 EST (10:00:00 UTC)".
 */
const when = (d: Date, zone: string | undefined) => zonedStamp(d, zone);

function Facts({ incident, zone }: { incident: IncidentRow; zone: string | undefined }) {
  return (
    <dl class="facts">
      <dt>Node</dt>
      <dd>{incident.node_name}</dd>
      {incident.reason !== null ? (
        <>
          <dt>Reason</dt>
          <dd>{incident.reason}</dd>
        </>
      ) : null}
      <dt>Opened</dt>
      <dd>{when(incident.opened_at, zone)}</dd>
      <dt>Status</dt>
      <dd>{incident.status}</dd>
      <dt>Console</dt>
      <dd>
        {/* Relative to /a/{token}: right behind a proxy's path prefix too. Signing in may be asked. */}
        <a href={`../incidents/${incident.id}`}>Open the incident in the console</a>
      </dd>
    </dl>
  );
}

/**
 * The next step once acknowledged. A token does one action (src/incidents/action-links.ts), and an
 * acknowledge link is not made a resolve one here: whoever holds only it (a receiver may pass on
 * just that link) would gain a power the message did not give them. So: the console, where the
 * reader's own key decides, or the Resolve link their message carries beside this one.
 */
function ResolveNext({ incident }: { incident: IncidentRow }) {
  return (
    <p>
      When it is over, <a href={`../incidents/${incident.id}`}>resolve it in the console</a> (signing in if asked), or with the Resolve link in the same
      message. This link only acknowledges.
    </p>
  );
}

function Page(p: { title: string; icon: string; heading: string; headingClass?: string; children?: unknown }) {
  return (
    <Layout title={`${p.title} · Lifeline`} icon={dotIcon(p.icon)}>
      <main class="page narrow">
        <header class="page-head">
          <h1 class={p.headingClass}>{p.heading}</h1>
        </header>
        <div class="card link-card">{p.children}</div>
      </main>
    </Layout>
  );
}

function View({ v, zone }: { v: ActionLinkView; zone: string | undefined }) {
  switch (v.kind) {
    case 'ask':
      return (
        <Page title={`${VERB[v.action]} ${v.incident.title}`} icon={ICON[v.incident.status]} heading={`${VERB[v.action]}: ${v.incident.title}?`}>
          <Facts incident={v.incident} zone={zone} />
          {v.still ? (
            <p class="link-warning">
              {stillFailingWarning(v.incident.node_name, v.still)}
            </p>
          ) : null}
          {v.refused ? <p class="link-warning">Nothing was changed: the note {v.refused}.</p> : null}
          {/* No action attribute: the form posts to this very URL, behind any proxy path. */}
          <form method="post">
            {v.action === 'resolve' ? (
              <p class="field">
                <label for="note">Resolution note (optional)</label>
                {/* The console's limit (the API's): everyone told of the resolve reads it. */}
                <textarea id="note" name="note" maxlength={NOTE_MAX_CHARS} rows={3}>
                  {areaText(v.note ?? '')}
                </textarea>
              </p>
            ) : null}
            <button type="submit" class="button">
              {VERB[v.action]} as {v.as}
            </button>
          </form>
          <p class="muted small">{EFFECT[v.action]}</p>
        </Page>
      );
    case 'done':
      return (
        <Page title={DONE[v.action]} icon={ICON[v.incident.status]} heading={`${DONE[v.action]} by ${v.by}`} headingClass="fg-healthy">
          <p>At {when(v.at, zone)}. Everyone who was told about this incident hears it.</p>
          {v.incident.status === 'acknowledged' ? <ResolveNext incident={v.incident} /> : null}
          <Facts incident={v.incident} zone={zone} />
        </Page>
      );
    case 'already':
      return (
        <Page title={`Already ${v.what}`} icon={ICON[v.incident.status]} heading={`Already ${v.what}`}>
          <p>
            {v.by ?? 'Someone'} {v.what} this incident at {when(v.at, zone)}. Nothing was changed
            {v.note !== undefined ? '; your note was not saved. It is kept below to copy.' : '.'}
          </p>
          {v.note !== undefined ? (
            // As the console keeps it: shown to copy, sent nowhere (no name, no form).
            <p class="field">
              <label for="note">Your note (not saved)</label>
              <textarea id="note" readonly rows={3}>
                {areaText(v.note)}
              </textarea>
            </p>
          ) : null}
          {v.incident.status === 'acknowledged' ? <ResolveNext incident={v.incident} /> : null}
          <Facts incident={v.incident} zone={zone} />
        </Page>
      );
    case 'invalid':
      return (
        <Page title="Not a valid link" icon={ICON.none} heading="This link is not valid">
          <p>Nothing was changed. Copy the whole link from the message, or act from the console or the API.</p>
        </Page>
      );
    case 'expired':
      return (
        <Page title="Link expired" icon={ICON.none} heading="This link expired">
          <p>It could be used until {when(v.until, zone)}. Nothing was changed; act from the console or the API.</p>
        </Page>
      );
    case 'missing':
      return (
        <Page title="No such incident" icon={ICON.none} heading="This incident no longer exists">
          <p>Nothing was changed.</p>
        </Page>
      );
  }
}

/** The page; `zone`: the time zone of the person the link was sent to, when it was sent to one. */
export function renderActionLinkPage(v: ActionLinkView, zone?: string): Promise<string> {
  return documentOf(<View v={v} zone={zone} />);
}
