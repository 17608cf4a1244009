import type { Child } from 'hono/jsx';
import type { MiddlewareHandler } from 'hono';
import type { AppDeps } from '../http/deps.ts';
import { Back, Notice } from './components.tsx';
import { chrome } from './context.ts';
import type { ConsoleContext, ConsoleEnv } from './guard.ts';
import { Csrf, Page, type Chrome, type Section } from './layout.tsx';
import { Once } from './once.tsx';
import { html } from './render.tsx';

// What cannot be undone is asked first, one way everywhere: a link "Delete…" (or "Revoke…") to
// GET <thing>/delete, a page naming what goes and what follows, and its form posting back to the
// same address with CONFIRMED in it. A POST without it (a form of an older page, a script
// forgetting the step) deletes nothing and is sent to that page: one click from the list once
// signed a person out by revoking their own key.

export type Verb = 'Delete' | 'Revoke' | 'Remove' | 'Replace' | 'End' | 'Cancel' | 'Acknowledge';

/** The field only the confirmation page's form carries. */
const CONFIRMED = 'confirmed';

/**
 * The link to the page that asks: `href` is where the thing's POST goes too. `name` is heard, not
 * seen: in a list every row's link would otherwise be read out as the same "Revoke…".
 */
export const AskFirst = (p: { href: string; name: string; verb?: Verb; label?: string; small?: true }) => (
  <a class={p.small ? 'button small danger' : 'button danger'} href={p.href}>
    {p.label ?? p.verb ?? 'Delete'}
    <span class="visually-hidden"> {p.name}</span>…
  </a>
);

/**
 * The page that asks: the title's question, what goes with it (the children), the button that
 * posts to `action`, and the way back to `back` without changing anything. With `once`, its form
 * is good for one POST (once.tsx): a reload of what it made answers without doing it again.
 * `fields` go with the POST as hidden fields, for an action on what the page that asked named
 * (the incidents an "Acknowledge all" took), and `keep` words the way back. With `sendOnce`, a
 * second tap while the first is on its way does nothing (send-once.ts): an action sent twice
 * would answer with the second sending's "nothing left to do". `problem` is why the last POST did
 * nothing (the thing changed since this page was drawn: version.tsx), focused so it is read first.
 */
export function Confirm(p: {
  verb?: Verb;
  name: string;
  back: string;
  backLabel?: string;
  action: string;
  once?: true;
  fields?: Record<string, string>;
  keep?: string;
  sendOnce?: true;
  problem?: string | undefined;
  chrome: Chrome;
  section: Section;
  children?: Child;
}) {
  const verb = p.verb ?? 'Delete';
  return (
    <Page title={`${verb} ${p.name}`} chrome={p.chrome} section={p.section}>
      <Back href={p.back}>{p.backLabel ?? p.name}</Back>
      <h1>
        {verb} {p.name}?
      </h1>
      {p.problem ? (
        <Notice kind="bad" focus>
          <p>{p.problem}</p>
        </Notice>
      ) : null}
      <div class="panel">
        <p>{p.children}</p>
        <form method="post" action={p.action} class="actions" data-once={p.sendOnce ? '' : undefined}>
          <Csrf session={p.chrome.session} />
          <input type="hidden" name={CONFIRMED} value="yes" />
          {p.once ? <Once /> : null}
          {Object.entries(p.fields ?? {}).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <button type="submit" class="danger solid">
            {verb} {p.name}
          </button>
          <a href={p.back}>{p.keep ?? 'Keep it'}</a>
        </form>
      </div>
    </Page>
  );
}

/**
 * GET <thing>/delete: the question about what `find` finds (else `missing`), as `ask` draws it. Where
 * `moot` gives an address for it (nothing is left to do to it), a 303 there instead of the question.
 */
export function asking<T>(
  deps: AppDeps,
  find: (c: ConsoleContext) => Promise<T | undefined>,
  missing: (c: ConsoleContext) => Promise<Response>,
  ask: (thing: T, frame: Chrome, problem?: string) => Child | Promise<Child>,
  moot?: (thing: T) => string | undefined,
) {
  return async (c: ConsoleContext) => {
    const thing = await find(c);
    if (!thing) return missing(c);
    const elsewhere = moot?.(thing);
    if (elsewhere !== undefined) return c.redirect(elsewhere, 303);
    return html(c, await ask(thing, await chrome(c, deps)));
  };
}

/**
 * The question `ask` draws, asked again of `thing` as it is now with `problem` at the top: the
 * delete was refused (412) because the thing changed since the question was drawn (version.tsx).
 */
export const askAgain =
  <T,>(c: ConsoleContext, deps: AppDeps, ask: (thing: T, frame: Chrome, problem?: string) => Child | Promise<Child>) =>
  async (thing: T, problem: string): Promise<Response> =>
    html(c, await ask(thing, await chrome(c, deps), problem), 412);

/** Before a deleting POST's handler: without the confirmation page's field, that page instead. */
export function confirmed(): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    if ((await c.req.parseBody())[CONFIRMED] !== 'yes') return c.redirect(new URL(c.req.url).pathname, 303);
    await next();
  };
}
