import type { Child } from 'hono/jsx';
import type { State } from '../health/decide.ts';
import { ENGINE_PLACEHOLDER } from './context.ts';
import type { Placed } from './forms.ts';
import { agoAndAt, atOn, duration, utc } from './format.ts';

export const StateBadge = (p: { state: State; large?: boolean }) => (
  <span class={`state state-${p.state}${p.large ? ' state-large' : ''}`}>{p.state}</span>
);

/**
 * A moment as "12 min ago · 22:41 UTC" (agoAndAt), to the second in its tooltip and for machines;
 * with `seconds`, to the second on screen too.
 */
export const Ago = (p: { at: Date | null; now: Date; never?: string; seconds?: boolean }) =>
  p.at ? (
    <time datetime={p.at.toISOString()} title={utc(p.at)}>
      {agoAndAt(p.at, p.now, { seconds: p.seconds })}
    </time>
  ) : (
    <span class="muted">{p.never ?? 'never'}</span>
  );

/**
 * A moment as agoAndAt's exact part ("03:24 UTC", with its date on another day than `now`'s), for a
 * sentence that says itself how far off it is; its full UTC time on hover, as Ago's.
 */
export const AtOn = (p: { at: Date; now: Date; seconds?: boolean }) => (
  <time datetime={p.at.toISOString()} title={utc(p.at)}>
    {atOn(p.at, p.now, { seconds: p.seconds })}
  </time>
);

/** How long something has lasted, with the moment it began underneath. */
export const Lasting = (p: { since: Date; now: Date }) => (
  <span>
    <time datetime={p.since.toISOString()}>{duration(p.now.getTime() - p.since.getTime())}</time>
    <span class="sub nowrap">{utc(p.since)}</span>
  </span>
);

/** An exact moment, in UTC like the API and the logs. */
export const At = (p: { at: Date | null; none?: string }) =>
  p.at ? <time datetime={p.at.toISOString()}>{utc(p.at)}</time> : <span class="muted">{p.none ?? '—'}</span>;

/** A node's labels as tags; given `to`, each a link there (Fleet's rows: to Fleet filtered by it). */
export const LabelList = (p: { labels: Record<string, string>; to?: (key: string, value: string) => string | undefined }) => (
  <>
    {Object.entries(p.labels).map(([k, v]) => [k, v, p.to?.(k, v)] as const).map(([k, v, to]) =>
      to !== undefined ? (
        <a class="tag mono" href={to}>
          {k}={v}
        </a>
      ) : (
        <span class="tag mono">
          {k}={v}
        </span>
      ),
    )}
  </>
);

export const Notice = (p: { kind?: 'ok' | 'bad'; focus?: true; children?: Child }) => (
  <div class={`notice${p.kind ? ` ${p.kind}` : ''}`} role={p.kind === 'bad' ? 'alert' : 'status'} tabindex={p.focus ? -1 : undefined} data-focus={p.focus ? '' : undefined}>
    {p.children}
  </div>
);

/**
 * Previous / next links of a keyset-paged list; each is absent at its end. A list paged forward
 * only gives `first` on every page after its first: with "Next" alone, the way back was the
 * browser's history or the navigation.
 */
export const Pager = (p: { prev?: string | undefined; next?: string | undefined; first?: string | undefined; children?: Child }) =>
  p.prev || p.next || p.first || p.children ? (
    <nav class="pager" aria-label="Pages">
      {p.first ? <a href={p.first}>← First page</a> : null}
      {p.prev ? <a href={p.prev}>← Previous</a> : null}
      {p.next ? <a href={p.next}>Next →</a> : null}
      {p.children}
    </nav>
  ) : null;

/** What a page says when a create form that already created it is sent again (src/console/once.tsx). */
export const ALREADY = 'That form was already sent, and this is what it created; nothing new was made.';

/**
 * ALREADY for a form whose first answer showed a secret once (a key, a generated webhook secret, a
 * rotated token): the page sent to holds no copy, so it says so and how to get another.
 */
export const alreadyShownOnce = (secret: string, instead: string) => `That form was already sent, and nothing new was made: ${secret} is not shown again. ${instead}`;

/**
 * What `?done=` says, from a page's own sayings: own keys only, so `?done=constructor` or
 * `?done=toString` says nothing rather than drawing a function inherited from Object.
 */
export const sayingOf = (said: Record<string, string>, done: string | undefined): { done?: string } => (done !== undefined && Object.hasOwn(said, done) ? { done: said[done]! } : {});

/** What a page says when a create or a save redirected to it (`?done=created|saved|already`). */
export const createdOrSaved = (done: string | undefined): { done?: string } => sayingOf({ created: 'Created.', saved: 'Saved.', already: ALREADY }, done);

/**
 * What a page says after an action: that it was done, or why it was not; for a refused form, a
 * link to its first refused input and, as text, what no input of the page holds. A problem no input
 * holds (a save over a row changed since its form was drawn: version.tsx) takes the focus itself
 * (`focus`), so it is read before the values it asks to review.
 */
export const Outcome = (p: { done?: Child | undefined; problem?: string | undefined; placed?: Placed | undefined; focus?: true | undefined }) => (
  <>
    {/* Focused right after the action (send-once.ts): the page comes back with the focus on
        <body>, and a status line already there when the page loads is not announced; read as the
        focus lands on it. */}
    {p.done ? (
      <Notice kind="ok" focus>
        <p>{p.done}</p>
      </Notice>
    ) : null}
    {p.problem ? (
      <Notice kind="bad" {...(p.focus ? { focus: true as const } : {})}>
        <p>
          {p.problem}
          {/* A form far down a long page: on a phone its field can be 1,500 px below this. */}
          {p.placed?.first ? (
            <>
              {' '}
              <a href={`#${p.placed.first.id}`}>{p.placed.first.says}</a>
            </>
          ) : null}
          {p.placed?.rest.map((said) => ` ${said}.`)}
        </p>
      </Notice>
    ) : null}
  </>
);

/** The way back up, above a page's title. */
export const Back = (p: { href: string; children?: Child }) => (
  <p class="crumbs">
    <a href={p.href}>← {p.children}</a>
  </p>
);

export type Column = string | { label: string; num?: true; hidden?: true };

/**
 * A table in its scrolling frame; `cards` (the default) turns each row into a card on a narrow
 * screen, each cell under its `data-label`. Rows are the children.
 */
export function Table(p: { head: Column[]; cards?: false; children?: Child }) {
  return (
    <div class="table-wrap">
      <table class={p.cards === false ? undefined : 'cards'}>
        <thead>
          <tr>
            {p.head.map((c) =>
              typeof c === 'string' ? (
                <th scope="col">{c}</th>
              ) : (
                <th scope="col" class={c.num ? 'num' : undefined}>
                  {c.hidden ? <span class="visually-hidden">{c.label}</span> : c.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{p.children}</tbody>
      </table>
    </div>
  );
}

/**
 * A textarea's text as markup keeps it: HTML drops one newline right after `<textarea>`, so a
 * value starting with a blank line (typed, then shown again on a refused form) lost it, and the
 * "line N" of a message no longer matched. One newline is given for the parser to drop.
 */
export const areaText = (value: string): string => `\n${value}`;

/** Text to copy whole: one click selects all of it. */
export const Snippet = (p: { id?: string; children?: Child }) => (
  <pre class="snippet" id={p.id}>
    <code>{p.children}</code>
  </pre>
);

/** Said under addresses to copy that start with ENGINE_PLACEHOLDER (engineAddress): what to put there. */
export const EngineUnset = () => (
  <p class="hint" id="engine-unset">
    <code>{ENGINE_PLACEHOLDER}</code> stands for this engine's address as agents reach it (e.g. https://lifeline.example.com): set
    LIFELINE_PUBLIC_URL to it and the console fills it in.
  </p>
);
