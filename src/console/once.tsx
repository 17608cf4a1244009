import { randomUUID } from 'node:crypto';
import { isUuid } from '../db/ids.ts';
import type { Refusal } from '../errors.ts';
import type { AppDeps } from '../http/deps.ts';
import { claim, pruneKeys, release, remember } from '../idempotency/service.ts';
import { credentialOf, fingerprintOf, KEY_LIFETIME_MS, type KeyClaim } from '../idempotency/model.ts';
import { attempt, principalOf } from './acting.tsx';
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
//
// A token is given back only when nothing was made (the command threw or was refused). Once the
// create committed, the token stays taken whatever follows: keeping the address may fail, drawing
// the answer may fail, the process may die. A claim whose first sending never finished is not
// taken over after the API's 5 minutes either, as an Idempotency-Key's would be: its create may
// have committed, and a browser re-sending the form cannot tell. That form is refused; a reloaded
// page draws a new token.

/** The form's single-use token: a fresh one on every drawing of the page. */
export const Once = () => <input type="hidden" name="_once" value={randomUUID()} />;

// Expired tokens are never replayed (a claim takes them over), so pruning only bounds the table;
// once a minute per process is one indexed delete however many forms are sent (as the API does,
// on a throttle of its own). Off the request path: no form waits for it, and a failed one fails
// no create (the next minute's tries again).
const PRUNE_EVERY_MS = 60_000;
let prunedAt = 0;
/** The prune last started, settled once it is done or failed; tests wait on it. */
export let pruning: Promise<void> = Promise.resolve();

// Tokens whose first sending this process is still carrying out. A double click sends the form
// twice within milliseconds; the second waits for the first and is sent to what it made, rather
// than told "still being sent" while the first finishes.
const carrying = new Map<string, Promise<void>>();

/**
 * Runs `command` once per form token. A refusal is drawn by `refused` (the form again, with a
 * fresh token) and gives the token back, so the corrected form may be sent. What was made lives at
 * `at(made)`; the answer is `answer(made)`, by default a 303 there with `?done=created`, and a
 * sending again is sent to `replayed(at(made))`, by default there with `?done=already`.
 */
export async function createOnce<T>(
  c: ConsoleContext,
  deps: AppDeps,
  form: Form,
  command: () => Promise<T>,
  refused: (r: Refusal) => Response | Promise<Response>,
  at: (made: T) => string,
  answer: (made: T) => Response | Promise<Response> = (made) => c.redirect(href(at(made), { done: 'created' }), 303),
  replayed: (at: string) => string = (at) => href(at, { done: 'already' }),
): Promise<Response> {
  const token = typeof form._once === 'string' && isUuid(form._once) ? form._once : undefined;
  if (!token) return expired(c, deps);
  const k: KeyClaim = { credential: credentialOf(principalOf(c.get('session'))), key: `console-form:${token}`, fingerprint: fingerprintOf('POST', c.req.path, '') };
  const carried = `${k.credential} ${k.key}`;
  while (carrying.has(carried)) await carrying.get(carried);
  let done!: () => void;
  carrying.set(carried, new Promise((resolve) => (done = resolve)));
  try {
    const now = deps.clock.now();
    if (now.getTime() - prunedAt >= PRUNE_EVERY_MS) {
      prunedAt = now.getTime();
      pruning = pruneKeys(deps.sql, now).then(
        () => undefined,
        (err: unknown) => deps.log.warn({ err }, 'expired console form tokens could not be pruned'),
      );
    }
    const claimed = await claim(deps.sql, deps.secretKey, k, now, KEY_LIFETIME_MS);
    if (claimed.kind === 'replay') return c.redirect(replayed(claimed.answer.body), 303);
    // The same token sent to another form: only a page edited by hand does that.
    if (claimed.kind === 'mismatch') return expired(c, deps);
    if (claimed.kind === 'in_flight') return unfinished(c, deps);
    let made: T | Response;
    try {
      made = await attempt(command, refused);
    } catch (err) {
      await giveBack(deps, k);
      throw err;
    }
    if (made instanceof Response) {
      await giveBack(deps, k);
      return made;
    }
    await remember(deps.sql, deps.secretKey, k, { status: 303, contentType: null, body: at(made) });
    return await answer(made);
  } finally {
    carrying.delete(carried);
    done();
  }
}

/**
 * Gives the token back after nothing was made. Failing to, the token stays taken (sent again, the
 * form is refused as unfinished; the refusal's page draws a new one), and the answer is still the
 * command's error or refusal, not the release's.
 */
async function giveBack(deps: AppDeps, k: KeyClaim): Promise<void> {
  try {
    await release(deps.sql, k);
  } catch (err) {
    deps.log.warn({ err }, 'a console form token could not be given back');
  }
}

const expired = (c: ConsoleContext, deps: AppDeps) => refusal(c, deps, 400, 'This page has expired', 'The form came from an older page of the console. Go back, reload the page and send it again.');

const unfinished = (c: ConsoleContext, deps: AppDeps) =>
  refusal(
    c,
    deps,
    409,
    'Already being sent',
    'This form was sent before, and that sending has not finished; nothing more was created. Look for what it made in the console in a moment, and reload the form\'s page to send a new one.',
  );
