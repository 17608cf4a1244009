import { Hono, type Context } from 'hono';
import { allows } from '../../access/model.ts';
import { closeSession, openSession, type SessionLimits } from '../../access/sessions.ts';
import type { AppDeps } from '../../http/deps.ts';
import { BudgetSpent, type AuthBudget } from '../../http/auth-budget.ts';
import { clearSessionCookie, sessionOf, setSessionCookie } from '../../http/session.ts';
import { Field } from '../acting.tsx';
import { duration } from '../format.ts';
import { safeNext, type ConsoleEnv, type Guards } from '../guard.ts';
import { Bare, Mark } from '../layout.tsx';
import { html } from '../render.tsx';

function SignIn(p: { next: string; problem?: string; /** Why no key was looked at (too many wrong ones): not the key field's fault. */ refused?: string;  /** ?signed_out=, whose value `revoked` says why. */ signedOut?: string | undefined; limits: SessionLimits; httpsAddress?: string | undefined }) {
  return (
    <Bare title="Sign in">
      <div class="signin">
        <p class="brand">
          <Mark /> Lifeline
        </p>
        <h1>Sign in</h1>
        {p.signedOut !== undefined ? (
          <div class="notice ok" role="status">
            <p>{p.signedOut === 'revoked' ? 'Your key was revoked, so you are signed out.' : 'You are signed out.'}</p>
          </div>
        ) : null}
        {p.refused ? (
          <div class="notice bad" role="alert">
            <p>{p.refused}</p>
          </div>
        ) : null}
        {p.httpsAddress ? (
          <div class="notice bad" role="alert">
            <p>
              This page was opened over plain http, but this console keeps its session cookie only over https, so the browser drops it
              and signing in comes back here. Open <a href={p.httpsAddress}>{p.httpsAddress}</a> instead.
            </p>
          </div>
        ) : null}
        <form method="post" action={`/sign-in?next=${encodeURIComponent(p.next)}`} class="panel">
          {/* The refusal under the field, read with it as the focus lands there (Field). */}
          <Field id="key" label="API key" hint="A key with read scope can look; write can also act on incidents and settings; admin also manages keys." problem={p.problem}>
            <input id="key" name="key" type="password" autocomplete="current-password" required autofocus spellcheck={false} aria-describedby="key-first" />
          </Field>
          {/* A first run makes the only key there is and names its file in the log alone: say so here, where a new user is stuck. */}
          <p class="hint" id="key-first">
            No key yet? On its first run the engine makes an admin key, and its log says which file holds the secret;{' '}
            <code>npx lifeline admin create-key</code> makes another.
          </p>
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
        <p class="muted">
          The key is sent once. The browser then holds only a session cookie it cannot read from scripts; the session ends when you sign
          out, after {duration(p.limits.idleMs)} without use, {duration(p.limits.maxMs)} after signing in however much it is used, or when the
          key is revoked.
        </p>
      </div>
    </Bare>
  );
}

/** Hosts where browsers keep Secure cookies over plain http too. */
const LOOPBACK = /^(localhost|.+\.localhost|127(\.\d+){3}|\[::1\])$/;

/**
 * Whether the browser itself is on a plain-http address of this server, judged from what the
 * browser writes: a form post's Origin, or a page's Referer (the console sends it within its own
 * origin, so the sign-in page reached by the redirects after a dropped cookie carries the http
 * page it was posted from). Not from the request's scheme: behind a TLS proxy with no trusted hops
 * every request arrives as http, and X-Forwarded-Proto, which nginx's `$scheme` replaces rather than
 * appends, cannot be picked hop by hop. The address must also be the one the request came to, so a
 * link from some other http site says nothing; a first visit with neither header is not warned
 * about — a missed warning costs one more try, a false one tells everyone behind a proxy to open
 * the address they are on.
 */
function browserOnPlainHttp(c: Context): boolean {
  const from = c.req.header('origin') ?? c.req.header('referer');
  if (!from) return false;
  let url: URL;
  try {
    url = new URL(from);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && !LOOPBACK.test(url.hostname) && url.host === new URL(c.req.url).host;
}

/** Sign in and out: the only console routes that work without a session. */
export function signInRoutes(deps: AppDeps, guards: Guards, budget: AuthBudget) {
  const app = new Hono<ConsoleEnv>();
  const { limits } = deps.console;
  /**
   * Where to sign in instead, when the cookie is Secure (an https LIFELINE_PUBLIC_URL) and the
   * browser is on plain http (http://10.0.0.5:8080): without it the browser drops the cookie and
   * sign-in sends the person back here with no word why.
   */
  const httpsAddress = (c: Context, next: string) =>
    deps.console.secureCookies && deps.console.publicOrigin && browserOnPlainHttp(c)
      ? `${deps.console.publicOrigin}/sign-in?next=${encodeURIComponent(next)}`
      : undefined;

  app.get('/sign-in', ...guards.open, async (c) => {
    const next = safeNext(c.req.query('next'));
    if (await sessionOf(c, deps.sql, deps.console, deps.clock)) return c.redirect(next, 303);
    return html(c, <SignIn next={next} signedOut={c.req.query('signed_out')} limits={limits} httpsAddress={httpsAddress(c, next)} />);
  });

  // A key that may sign in gets a session. It is first looked up through the identity cache, so a
  // wrong one costs one indexed select (or nothing, for a key in use), not openSession's
  // transaction and its sweep of expired sessions.
  const open = async (key: string, charge: () => void) => {
    const principal = await deps.identity.principal(key, charge);
    return principal && allows(principal, 'read') ? openSession(deps.sql, key, deps.console.limits, deps.clock.now()) : undefined;
  };

  // A key goes through the API's failed-authentication budget of the address (auth-budget.ts): a
  // valid one signs in however many wrong secrets an agent behind the same address sent, unless
  // they (with the secrets being looked up) passed the hard cap and this process has not seen the
  // key yet. Refused, the person is told so on the sign-in page, with when to try again, rather
  // than in the API's JSON, and not whether the key is right: past the hard cap it was not looked
  // up; past the budget only, it was, and is wrong.
  app.post('/sign-in', ...guards.anonymous, async (c) => {
    const next = safeNext(c.req.query('next'));
    // A wrong key is said at its field (aria-invalid); a refusal past the budget in a notice, as it
    // says nothing about the key typed.
    const again = (said: { problem: string } | { refused: string }, status: 401 | 429) => html(c, <SignIn next={next} {...said} limits={limits} httpsAddress={httpsAddress(c, next)} />, status);
    const key = (await c.req.parseBody()).key;
    let opened;
    try {
      opened = await budget.authenticate(c, (charge) => (typeof key === 'string' && key.trim() !== '' ? open(key.trim(), charge) : undefined));
    } catch (err) {
      if (!(err instanceof BudgetSpent)) throw err;
      c.header('retry-after', String(err.retryAfterSeconds));
      return again({ refused: `Too many wrong keys came from this address in the last minute, so this one was refused without saying whether it is right. Try again in ${err.retryAfterSeconds} seconds.` }, 429);
    }
    if (!opened) return again({ problem: 'That is not a key that may sign in: it is unknown, revoked, or an ingest key (which may only send heartbeats).' }, 401);
    setSessionCookie(c, deps.console, opened.id);
    return c.redirect(next, 303);
  });

  app.post('/sign-out', ...guards.action, async (c) => {
    await closeSession(deps.sql, c.get('session'));
    clearSessionCookie(c, deps.console);
    return c.redirect('/sign-in?signed_out', 303);
  });

  return app;
}

