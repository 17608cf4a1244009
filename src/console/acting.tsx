import type { Context, MiddlewareHandler } from 'hono';
import { cloneElement, isValidElement, type Child } from 'hono/jsx';
import type { ConsoleSession } from '../access/sessions.ts';
import { actorOf, allows, type Need, type Principal } from '../access/model.ts';
import { actorOf as auditActorOf, type Acting } from '../audit/model.ts';
import { Refusal, type ErrorDetail } from '../errors.ts';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppDeps } from '../http/deps.ts';
import type { ConsoleEnv } from './guard.ts';
import { refusal } from './render.tsx';

// Console actions call the very commands the API calls (src/<room>/service.ts), as the key the
// session was opened with: the same checks, the same transaction, the same outbox events, and the
// same actor in timelines (`api-key:<id>`, shown by the key's name).

export const principalOf = (s: ConsoleSession): Principal => ({ kind: 'key', keyId: s.keyId, keyName: s.keyName, scope: s.scope });

/** Who the timeline says did it. */
export const actor = (s: ConsoleSession): string => actorOf(principalOf(s), undefined);

/** Who acts through the console, for the audit rows of the commands this request runs. */
export const acting = (c: Context<ConsoleEnv>): Acting => ({ actor: auditActorOf(principalOf(c.get('session'))), via: 'console', requestId: c.var.requestId });

export const may = (s: ConsoleSession, need: Need): boolean => allows(principalOf(s), need);

/** Refuses an action the session's key may not take, whatever a forged form says. */
export function requireScope(deps: AppDeps, need: 'write' | 'admin'): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    if (may(c.get('session'), need)) return next();
    return refusal(c, deps, 403, 'Your key may not do that', `Signed in with a ${c.get('session').scope} key: this needs ${need} scope. Sign in with another key to act.`);
  };
}

/**
 * Runs a command; a refusal (not found, conflict, stale version, invalid input) is handed to
 * `refused` to be shown on the page it came from, never as an error page.
 */
export async function attempt<T>(command: () => Promise<T>, refused: (r: Refusal) => Response | Promise<Response>): Promise<T | Response> {
  try {
    return await command();
  } catch (err) {
    if (err instanceof Refusal) return refused(err);
    throw err;
  }
}

/**
 * How a form page shows a refused submission: each field's problem beside it, or the refusal's
 * own words (a conflict: 409), in a page answered with that status.
 */
export function formRefusal(r: Refusal, what: string): { details: ErrorDetail[]; message: string; status: ContentfulStatusCode } {
  return {
    details: r.details ?? [],
    message: r.details ? `${what}: some fields need another look.` : r.message,
    status: r.code === 'conflict' ? 409 : r.code === 'not_found' ? 404 : 400,
  };
}

/**
 * A form field with its label, hint and the problem a refused submission found in it. Its control
 * (the child whose id is `id`) is told both: marked invalid, and described by the problem and the
 * hint, so a screen reader moving from field to field reads them with it, not only someone who sees
 * them beside it. A control's own aria-describedby (a warning of its own) is kept after those.
 */
export function Field(p: { id: string; label: Child; hint?: Child; problem?: string | undefined; focus?: boolean | undefined; children?: Child }) {
  const said = [...(p.problem ? [`${p.id}-error`] : []), ...(p.hint ? [`${p.id}-hint`] : [])];
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      {described(p.children, p.id, said, Boolean(p.problem), p.focus === true)}
      {p.hint ? (
        <p class="hint" id={`${p.id}-hint`}>
          {p.hint}
        </p>
      ) : null}
      {p.problem ? (
        <p class="error" id={`${p.id}-error`}>
          {p.problem}
        </p>
      ) : null}
    </div>
  );
}

/**
 * `children` with the one whose id is `id` (an element, or a component taking those props) given the
 * field's aria attributes, and the focus when `focus` (the first field a refused form's problems are
 * at, placeProblems).
 */
function described(children: Child, id: string, said: string[], invalid: boolean, focus: boolean): Child {
  if (Array.isArray(children)) return children.map((c) => described(c, id, said, invalid, focus));
  if (!isValidElement(children) || children.props.id !== id) return children;
  const own = children.props['aria-describedby'];
  const by = [...said, ...(typeof own === 'string' ? [own] : [])];
  return cloneElement(children, {
    'aria-invalid': invalid ? 'true' : undefined,
    'aria-describedby': by.length ? by.join(' ') : undefined,
    ...(focus ? { autofocus: true } : {}),
  });
}
