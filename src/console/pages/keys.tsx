import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { SCOPES, type Scope } from '../../access/model.ts';
import { createKey, isLastAdminKey, LAST_ADMIN_KEY, revokeKey } from '../../access/service.ts';
import { getApiKey, listApiKeys } from '../../access/store.ts';
import { isUuid } from '../../db/ids.ts';
import type { AppDeps } from '../../http/deps.ts';
import { CreateKey } from '../../http/routes/api-keys.ts';
import { clearSessionCookie } from '../../http/session.ts';
import { isNameCursor, parse } from '../../http/validation.ts';
import { acting, attempt, Field, requireScope } from '../acting.tsx';
import { alreadyShownOnce, At, Notice, Outcome, Pager, Table } from '../components.tsx';
import { chrome, cursor, href, readCursor } from '../context.ts';
import { fieldProblems, placeFieldProblems, text, type Form, type Placed } from '../forms.ts';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { Csrf, Page } from '../layout.tsx';
import { AskFirst, Confirm, confirmed } from '../confirm.tsx';
import { createOnce, Once } from '../once.tsx';
import { html } from '../render.tsx';

// API keys, for admin keys only: create (the secret is shown once) and revoke — src/access's
// createKey and revokeKey, as the API calls them. Revoking a key ends its console sessions.

const PAGE_SIZE = 100;
const SCOPE_HELP: Record<Scope, string> = {
  admin: 'everything, keys included',
  write: 'look and act: incidents, nodes, channels, policies, maintenance',
  read: 'look only',
  ingest: 'send heartbeats (and register nodes) only; cannot sign in here',
};

type PageOptions = { form?: Form; placed?: Placed; message?: string; secret?: { name: string; value: string }; done?: string; status?: ContentfulStatusCode };

export function keyRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  const admin = requireScope(deps, 'admin');

  /** What the page reads from the database. */
  const read = async (c: ConsoleContext) => {
    const after = readCursor(c.req.query('after'), isNameCursor);
    const [frame, fetched] = await Promise.all([chrome(c, deps), listApiKeys(deps.sql, after, PAGE_SIZE + 1)]);
    return { after, frame, fetched };
  };
  const page = async (c: ConsoleContext, o: PageOptions = {}) => draw(c, await read(c), o);
  const draw = (c: ConsoleContext, { after, frame, fetched }: Awaited<ReturnType<typeof read>>, o: PageOptions) => {
    const rows = fetched.slice(0, PAGE_SIZE);
    const last = rows.at(-1);
    const next = fetched.length > PAGE_SIZE && last ? href('/keys', { after: cursor([last.name, last.id]) }) : undefined;
    const f = o.form;
    return html(
      c,
      <Page title="API keys" chrome={frame} section="keys">
        <h1>API keys</h1>
        <p>
          What every key changed, and from what to what: <a href="/audit">the audit log</a>.
        </p>
        {o.secret ? (
          <Notice kind="ok">
            <p>
              The key <b>{o.secret.name}</b> was created. Its secret is shown only now:
            </p>
            <p class="secret" id="secret">
              {o.secret.value}
            </p>
          </Notice>
        ) : null}
        <Outcome done={o.done} problem={o.message} placed={o.placed} />
        <Table head={['Key', 'Scope', 'Created', 'Revoked', { label: 'Actions', hidden: true }]}>
          {rows.map((k) => (
            <tr>
              <td data-label="Key">
                {k.name}
                {k.id === frame.session.keyId ? <span class="sub">yours, this session</span> : null}
              </td>
              <td data-label="Scope">{k.scope}</td>
              <td data-label="Created">
                <At at={k.created_at} />
              </td>
              <td data-label="Revoked">
                <At at={k.revoked_at} none="no" />
              </td>
              <td data-label="">
                {k.revoked_at ? null : <AskFirst href={`/keys/${k.id}/revoke`} name={k.name} verb="Revoke" small />}
              </td>
            </tr>
          ))}
        </Table>
        <Pager next={next} first={after ? '/keys' : undefined} />
        <h2>New key</h2>
        <form method="post" action="/keys" class="panel">
          <Csrf session={frame.session} />
          <Once />
          <Field id="name" label="Name" hint="Who or what uses it: a person, a laptop, a CI job." problem={o.placed?.at.get('name')} focus={o.placed?.first?.id === 'name'}>
            <input id="name" name="name" type="text" required maxlength={128} value={f ? (text(f, 'name') ?? '') : ''} />
          </Field>
          <fieldset>
            <legend>Scope</legend>
            {SCOPES.map((s) => (
              <div>
                <label>
                  <input type="radio" name="scope" value={s} checked={f ? text(f, 'scope') === s : s === 'read'} /> <b>{s}</b>: {SCOPE_HELP[s]}
                </label>
              </div>
            ))}
          </fieldset>
          <button type="submit" class="primary">
            Create key
          </button>
        </form>
      </Page>,
      o.status,
    );
  };

  app.get('/keys', ...guards.page, admin, async (c) =>
    page(c, c.req.query('done') === 'already' ? { done: alreadyShownOnce('the secret of the key it created (listed here)', 'If it was lost, create another key and revoke this one.') } : {}),
  );

  app.post('/keys', ...guards.action, admin, async (c) => {
    const form = (await c.req.parseBody()) as Form;
    // Read before the create: after its commit only drawing follows, so a failed read cannot lose
    // the secret, shown this once. The new key joins the list read, in its place by name.
    const listed = await read(c);
    return createOnce(
      c,
      deps,
      form,
      () => createKey(deps.sql, parse(CreateKey, { name: text(form, 'name') ?? '', scope: text(form, 'scope') }), deps.clock.now(), acting(c)),
      (r) => page(c, { form, placed: placeFieldProblems(fieldProblems(r.details), [['name', 'name', 'Name']]), message: 'The key was not created: some fields need another look.', status: 400 }),
      () => '/keys',
      // The secret is in this answer only: sending the form again shows the list without it.
      (made) =>
        draw(c, { ...listed, fetched: [...listed.fetched, made.key].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id)) }, { secret: { name: made.key.name, value: made.secret } }),
    );
  });

  const noSuchKey = (c: ConsoleContext) => page(c, { message: 'There is no such key.', status: 404 });

  app.get('/keys/:id/revoke', ...guards.page, admin, async (c) => {
    const id = c.req.param('id');
    const key = isUuid(id) ? await getApiKey(deps.sql, id) : undefined;
    if (!key) return noSuchKey(c);
    // Said before asking: the revocation would be refused.
    if (await isLastAdminKey(deps.sql, key)) return page(c, { message: LAST_ADMIN_KEY, status: 409 });
    const frame = await chrome(c, deps);
    return html(
      c,
      <Confirm verb="Revoke" name={key.name} back="/keys" backLabel="API keys" action={`/keys/${key.id}/revoke`} chrome={frame} section="keys">
        {key.id === frame.session.keyId ? (
          <>
            <b>This is the key you signed in with:</b> revoking it signs you out at once, here and in every other console session opened with it.{' '}
          </>
        ) : null}
        Everything that uses it, scripts and agents and console sessions, is refused from then on, in every process. It stays listed, revoked, so
        what it did stays attributed; it cannot be made to work again.
      </Confirm>,
    );
  });

  app.post('/keys/:id/revoke', ...guards.action, admin, confirmed(), async (c) => {
    const id = c.req.param('id');
    if (!isUuid(id)) return noSuchKey(c);
    const revoked = await attempt(
      () => revokeKey(deps.sql, id, deps.clock.now(), acting(c)),
      (r) => page(c, { message: r.message, status: 409 }),
    );
    if (revoked instanceof Response) return revoked;
    if (!revoked) return noSuchKey(c);
    deps.identity.forget();
    if (id === c.get('session').keyId) {
      // The key this session acts as: the session ended with it, and the sign-in page says why.
      clearSessionCookie(c, deps.console);
      return c.redirect('/sign-in?signed_out=revoked', 303);
    }
    return page(c, { done: 'Revoked: the key and its console sessions stopped working at once.' });
  });

  return app;
}
