import { randomUUID } from 'node:crypto';
import { isUuid } from '../db/ids.ts';
import type { AppDeps } from '../http/deps.ts';
import { claim, release, remember } from '../idempotency/service.ts';
import { credentialOf, fingerprintOf } from '../idempotency/model.ts';
import type { KeyClaim } from '../idempotency/store.ts';
import { principalOf } from './acting.tsx';
import { href } from './context.ts';
import type { Form } from './forms.ts';
import type { ConsoleContext } from './guard.ts';
import { refusal } from './render.tsx';

// A create form is good for one creation. Its page draws a random token; the first POST carrying
// it claims the token in the API's idempotency table (under the session's key, like an
// Idempotency-Key) and creates; a reload that re-sends the POST, a double click or a form brought
// back with Back finds the token taken and is sent to what the first one created, with
// `?done=already`, and nothing new is made. The answer kept is only that address, never a
// secret shown on the first answer (a new key's, a generated webhook signing secret).

/** The form's single-use token: a fresh one on every drawing of the page. */
export const Once = () => <input type="hidden" name="_once" value={randomUUID()} />;

/** What a create made: the page it lives on, and the answer to send this once. */
export interface Created {
  at: string;
  answer: Response;
}

/** A create that sends the browser to what it made (POST, then a 303 to the page). */
export const redirected = (c: ConsoleContext, at: string, done = 'created'): Created => ({ at, answer: c.redirect(href(at, { done }), 303) });

/**
 * Runs `act` once per form token. `act` answers a Response when it created nothing (the refused
 * form, drawn again with a fresh token): the token is given back, so sending the same form again
 * tries again.
 */
export async function createOnce(c: ConsoleContext, deps: AppDeps, form: Form, act: () => Promise<Response | Created>): Promise<Response> {
  const token = typeof form._once === 'string' && isUuid(form._once) ? form._once : undefined;
  if (!token) return expired(c);
  const k: KeyClaim = { credential: credentialOf(principalOf(c.get('session'))), key: `console-form:${token}`, fingerprint: fingerprintOf('POST', c.req.path, '') };
  const now = deps.clock.now();
  const claimed = await claim(deps.sql, deps.secretKey, k, now);
  if (claimed.kind === 'replay') return c.redirect(href(claimed.answer.body, { done: 'already' }), 303);
  // The same token sent to another form: only a page edited by hand does that.
  if (claimed.kind === 'mismatch') return expired(c);
  if (claimed.kind === 'in_flight') return refusal(c, 409, 'Already being sent', 'This form was sent a moment ago and is still being carried out; nothing more was created. Reload the list in a moment to see it.');
  let outcome: Response | Created;
  try {
    outcome = await act();
  } catch (err) {
    await release(deps.sql, k);
    throw err;
  }
  if (outcome instanceof Response) {
    await release(deps.sql, k);
    return outcome;
  }
  await remember(deps.sql, deps.secretKey, k, { status: 303, contentType: null, body: outcome.at });
  return outcome.answer;
}

const expired = (c: ConsoleContext) => refusal(c, 400, 'This page has expired', 'The form came from an older page of the console. Go back, reload the page and send it again.');

