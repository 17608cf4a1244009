import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CHANNEL_TYPE_NAMES as TYPE_NAMES, CHANNEL_TYPES, isChannelType, PAGERDUTY_EVENTS_URL, shownConfig, type ChannelRow, type ChannelTestRow, type ChannelType } from '../../channels/model.ts';
import { createChannel, deleteChannel, sendTest, updateChannel, type UpdateOptions } from '../../channels/service.ts';
import { getChannel, getChannelTest, listChannels, listChannelTests } from '../../channels/store.ts';
import { isUuid } from '../../db/ids.ts';
import type { AppDeps } from '../../http/deps.ts';
import { CREATE_CHANNEL, NO_ADDRESS, parsePatch } from '../../http/routes/channels.ts';
import { isNameCursor, parse } from '../../http/validation.ts';
import { acting, actor, attempt, Field, may, requireScope } from '../acting.tsx';
import { alreadyShownOnce, At, Back, createdOrSaved, Notice, Outcome, Pager, Table } from '../components.tsx';
import { chrome, cursor, href, readCursor } from '../context.ts';
import type { ErrorDetail } from '../../errors.ts';
import { placeProblems, text, type Form, type Placed } from '../forms.ts';
import { refusedDelete, refusedSave, sentVersions, Version, versionField, versionOf } from '../version.tsx';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { Csrf, Page, type Chrome } from '../layout.tsx';
import { askAgain, asking, AskFirst, Confirm, confirmed } from '../confirm.tsx';
import { actorNames } from '../../incidents/actor-names.ts';
import { Actor } from '../incident-parts.tsx';
import { createOnce, Once } from '../once.tsx';
import { html, refusal } from '../render.tsx';
import type { Refusal } from '../../errors.ts';
import { channelWithoutEmail, Unsent } from '../email-reach.tsx';
import { refusedDeletion } from '../refused-deletion.tsx';

// Channels: where incidents are announced. Create, edit and delete call src/channels/service.ts
// as the API does; "Send a test" is its sendTest, through the channel's real transport.

const PAGE_SIZE = 50;
const TESTS_SHOWN = 10;
/** An edit form's new webhook URL without its secret: a new secret is generated rather than the save refused. */
const SECRET_IF_MOVED: UpdateOptions = { generateSecretIfMoved: true };

/**
 * Each type's form fields: [name, label, hint, the hint when editing, a secret field kept when left
 * empty?, a field never shown back (as a secret is not) and so kept when left empty?]. The edit
 * hints say service.ts's rule: a stored secret never goes to a new destination.
 */
const FIELDS: Record<ChannelType, Array<{ name: string; label: string; hint: string; editHint?: string; secret?: true; kept?: true; optional?: true }>> = {
  email: [{ name: 'to', label: 'Send to', hint: 'Addresses separated by spaces, commas or lines (at most 20).' }],
  webhook: [
    {
      name: 'url',
      label: 'URL',
      hint: 'http or https. Receives Standard Webhooks POSTs (webhook-id, webhook-timestamp, webhook-signature). Shown afterwards by its origin only: its path and query may hold a token.',
      editHint: 'http or https. Leave empty to keep the stored one, shown above by its origin only (its path and query may hold a token).',
      kept: true,
    },
    {
      name: 'secret',
      label: 'Signing secret',
      hint: 'whsec_… — left empty, one is generated and shown once.',
      editHint: 'whsec_… — left empty, the stored one is kept; with a new URL, a new one is generated and shown once instead (the stored one never goes to a new URL).',
      secret: true,
      optional: true,
    },
  ],
  slack: [
    {
      name: 'webhook_url',
      label: 'Incoming webhook URL',
      hint: 'https://hooks.slack.com/… — stored sealed, never shown again.',
      editHint: 'https://hooks.slack.com/… — stored sealed, never shown again. Leave empty to keep the stored one.',
      secret: true,
    },
  ],
  pagerduty: [
    {
      name: 'routing_key',
      label: 'Routing key',
      hint: 'The Events API v2 integration key — stored sealed, never shown again.',
      editHint: 'The Events API v2 integration key — stored sealed, never shown again. Leave empty to keep the stored one, unless the Events API URL changes: then type it again (the stored one never goes to a new URL).',
      secret: true,
    },
    { name: 'url', label: 'Events API URL', hint: `https only. Leave empty for PagerDuty itself (${PAGERDUTY_EVENTS_URL}).`, optional: true },
  ],
};

/** A config from a form, as a request body would carry it; secrets left empty are left out (kept). */
function configOf(type: ChannelType, form: Form): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const f of FIELDS[type]) {
    const value = text(form, f.name)?.trim();
    if (f.name === 'to') config.to = (value ?? '').split(/[\s,]+/).filter(Boolean);
    else if (value !== undefined) config[f.name] = value;
  }
  return config;
}

/**
 * A refused channel at the form's fields: `config.to.1` is the second address typed in "Send to",
 * and a problem with the whole config is the type's first field's. The form is parsed by its type's
 * schema, so no problem is the union's at `(body)` ("Expected unknown but received Object"); one
 * that is, is said as it is, in the summary.
 */
function placedChannel(type: ChannelType, details: ErrorDetail[] | undefined): Placed {
  const fields = FIELDS[type];
  // "Send to" left blank or only separators (" , ") is no list of addresses, in the form's words.
  const worded = details?.map((d) => (d.field === 'config.to' && d.message === NO_ADDRESS ? { ...d, message: 'add at least one address' } : d));
  const spot = (path: string) => {
    if (path === 'name') return { id: 'name', label: 'Name' };
    if (path === 'config') return { id: fields[0]!.name, label: fields[0]!.label };
    const [, name, address] = /^config\.([a-z_]+)(?:\.(\d+))?/.exec(path) ?? [];
    const f = fields.find((x) => x.name === name);
    if (!f) return undefined;
    return { id: f.name, label: f.label, ...(name === 'to' && address !== undefined ? { part: `Address ${Number(address) + 1}` } : {}) };
  };
  return placeProblems(worded, spot, ['name', ...fields.map((f) => f.name)]);
}

/** Where a channel sends, without its secret, as the API shows it (a webhook's URL by its origin). */
function Target(p: { channel: ChannelRow }) {
  const c = shownConfig(p.channel.type, p.channel.config);
  switch (p.channel.type) {
    case 'email':
      return <span>{(c.to as string[]).join(', ')}</span>;
    case 'webhook':
      return <span class="mono">{String(c.url)}</span>;
    case 'slack':
      return <span class="muted">a Slack incoming webhook (sealed)</span>;
    case 'pagerduty':
      return <span class="muted">PagerDuty{c.url ? ` at ${String(c.url)}` : ''}, routing key sealed</span>;
  }
}

function ChannelFields(p: { type: ChannelType; editing: boolean; form?: Form | undefined; channel?: ChannelRow; placed?: Placed | undefined }) {
  const focus = (id: string) => (p.placed?.first?.id === id ? true : undefined);
  return (
    <>
      <Field id="name" label="Name" problem={p.placed?.at.get('name')}>
        <input id="name" name="name" type="text" required maxlength={128} autofocus={focus('name')} value={p.form ? (text(p.form, 'name') ?? '') : (p.channel?.name ?? '')} />
      </Field>
      {FIELDS[p.type].map((f) => {
        const stored = p.channel?.config[f.name];
        const kept = f.secret || f.kept;
        const shown = p.form ? (text(p.form, f.name) ?? '') : kept ? '' : Array.isArray(stored) ? stored.join(', ') : String(stored ?? '');
        const hint = p.editing ? (f.editHint ?? f.hint) : f.hint;
        return (
          <Field id={f.name} label={f.label} hint={hint} problem={p.placed?.at.get(f.name)}>
            <input id={f.name} name={f.name} type={f.secret ? 'password' : 'text'} class="wide" autocomplete="off" spellcheck={false} value={shown} required={!f.optional && !(p.editing && kept)} autofocus={focus(f.name)} />
          </Field>
        );
      })}
    </>
  );
}

function Tests(p: { tests: ChannelTestRow[]; names: Map<string, string> }) {
  if (p.tests.length === 0) return <p class="muted">Never tested.</p>;
  return (
    <Table head={['At', 'By', 'Outcome']}>
      {p.tests.map((t) => (
        <tr>
          <td data-label="At">
            <At at={t.at} />
          </td>
          <td data-label="By">
            <Actor by={t.by} names={p.names} />
          </td>
          <td data-label="Outcome">
            <span>
              <span class={`tag tag-${t.status === 'sent' ? 'sent' : 'dead'}`}>{t.status}</span>
              {t.error ? <span class="sub">{testFailure(t.error)}</span> : null}
            </span>
          </td>
        </tr>
      ))}
    </Table>
  );
}

/**
 * A failed test in people's words: the stored error is `code: message` ("network: could not reach
 * the receiver (ENOTFOUND)"), which the API returns as it is; the code is for machines.
 */
export function testFailure(error: string): string {
  const said = error
    .replace(/^[a-z0-9_]+: /, '')
    .replace(/^receiver /, 'the receiver ')
    .replace(/ \((E[A-Z_]+)\)$/, (whole, code: string) => (SYSTEM_ERRORS[code] ? `: ${SYSTEM_ERRORS[code]}${whole}` : whole));
  return `${said.charAt(0).toUpperCase()}${said.slice(1)}`;
}

// The system errors a receiver that cannot be reached fails with most, by their code.
const SYSTEM_ERRORS: Record<string, string> = {
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'its name could not be looked up for now',
  ECONNREFUSED: 'nothing answers at that address and port',
  ECONNRESET: 'the connection was cut',
  EHOSTUNREACH: 'no route to its host',
  ENETUNREACH: 'no route to its network',
  ETIMEDOUT: 'the connection timed out',
  CERT_HAS_EXPIRED: 'its certificate has expired',
};

type ChannelPageOptions = { form?: Form; placed?: Placed; message?: string; done?: string; secret?: string; saved?: true; tested?: string; status?: ContentfulStatusCode; focus?: true };

export function channelRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  const write = requireScope(deps, 'write');
  const missing = (c: ConsoleContext) => refusal(c, deps, 404, 'No such channel', 'There is no channel with that id; it may have been deleted.');
  const find = async (c: ConsoleContext) => (isUuid(c.req.param('id') ?? '') ? getChannel(deps.sql, c.req.param('id')!) : undefined);

  app.get('/channels', ...guards.page, async (c) => {
    const after = readCursor(c.req.query('after'), isNameCursor);
    const [frame, fetched] = await Promise.all([chrome(c, deps), listChannels(deps.sql, after, PAGE_SIZE + 1)]);
    const rows = fetched.slice(0, PAGE_SIZE);
    const last = rows.at(-1);
    const next = fetched.length > PAGE_SIZE && last ? href('/channels', { after: cursor([last.name, last.id]) }) : undefined;
    return html(
      c,
      <Page title="Channels" chrome={frame} section="channels">
        <div class="page-head">
          <h1>Channels</h1>
          {may(frame.session, 'write') ? (
            <div class="actions">
              {CHANNEL_TYPES.map((t) => (
                <a class="button" href={`/channels/new?type=${t}`}>
                  New {TYPE_NAMES[t]}
                </a>
              ))}
            </div>
          ) : null}
        </div>
        {c.req.query('deleted') !== undefined ? (
          <Notice kind="ok">
            <p>Deleted.</p>
          </Notice>
        ) : null}
        {rows.length === 0 ? (
          <p class="empty panel">No channel yet: nobody can be paged.</p>
        ) : (
          <Table head={['Channel', 'Type', 'Sends to']}>
            {rows.map((ch) => (
              <tr>
                <td data-label="Channel">
                  <a href={`/channels/${ch.id}`}>{ch.name}</a>
                </td>
                <td data-label="Type">{TYPE_NAMES[ch.type]}</td>
                <td data-label="Sends to" class="reason">
                  <Target channel={ch} />
                  {channelWithoutEmail(deps, ch.type).map((w) => (
                    <span class="sub error">{w}</span>
                  ))}
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager next={next} first={after ? '/channels' : undefined} />
      </Page>,
    );
  });

  const newPage = async (c: ConsoleContext, type: ChannelType, o: { form?: Form; placed?: Placed; message?: string; status?: ContentfulStatusCode } = {}) => {
    const frame = await chrome(c, deps);
    return html(
      c,
      <Page title={`New ${TYPE_NAMES[type]} channel`} chrome={frame} section="channels">
        <Back href="/channels">Channels</Back>
        <h1>New {TYPE_NAMES[type]} channel</h1>
        <Outcome problem={o.message} placed={o.placed} />
        <form method="post" action={`/channels/new?type=${type}`} class="panel">
          <Csrf session={frame.session} />
          <Once />
          <ChannelFields type={type} editing={false} form={o.form} placed={o.placed} />
          <button type="submit" class="primary">
            Create
          </button>
        </form>
      </Page>,
      o.status,
    );
  };

  const typeOf = (c: ConsoleContext): ChannelType | undefined => {
    const t = c.req.query('type');
    return isChannelType(t) ? t : undefined;
  };

  app.get('/channels/new', ...guards.page, write, async (c) => {
    const type = typeOf(c);
    return type ? newPage(c, type) : c.redirect('/channels', 303);
  });

  app.post('/channels/new', ...guards.action, write, async (c) => {
    const type = typeOf(c);
    if (!type) return c.redirect('/channels', 303);
    const form = (await c.req.parseBody()) as Form;
    // Read before the create: after its commit only drawing follows, so a failed read cannot lose a
    // generated secret, shown this once. A new channel has no tests to read.
    const frame = await chrome(c, deps);
    return createOnce(
      c,
      deps,
      form,
      () => createChannel(deps.sql, deps.secretKey, parse(CREATE_CHANNEL[type], { name: text(form, 'name') ?? '', type, config: configOf(type, form) }), deps.clock.now(), deps.outbound, acting(c)),
      (r) => newPage(c, type, { form, placed: placedChannel(type, r.details), message: r.details ? 'Some fields need another look.' : r.message, status: 400 }),
      (made) => `/channels/${made.channel.id}`,
      // A generated webhook secret is shown in this answer only: the receiver needs it to check signatures.
      (made) =>
        made.generatedSecret
          ? drawChannel(c, made.channel, { frame, tests: [], tested: undefined, names: new Map() }, { secret: made.generatedSecret })
          : c.redirect(`/channels/${made.channel.id}?done=created`, 303),
    );
  });

  const channelPage = async (c: ConsoleContext, channel: ChannelRow, o: ChannelPageOptions = {}) => drawChannel(c, channel, await readChannel(c, channel, o), o);

  /** What a channel's page reads from the database. */
  const readChannel = async (c: ConsoleContext, channel: ChannelRow, o: ChannelPageOptions) => {
    const [frame, tests, tested] = await Promise.all([
      chrome(c, deps),
      listChannelTests(deps.sql, channel.id, TESTS_SHOWN),
      // After "Send a test" (?test=<id>): how that test went, not the newest, which someone else's
      // test sent meanwhile may be. An id edited by hand shows nothing.
      o.tested !== undefined && /^[1-9][0-9]{0,17}$/.test(o.tested) ? getChannelTest(deps.sql, channel.id, o.tested) : undefined,
    ]);
    // A key's name, not its id: "api-key:3f2a…" wrapped over two lines on a phone and told nobody who.
    const names = await actorNames(deps.sql, tests.map((t) => t.by));
    return { frame, tests, tested, names };
  };

  const drawChannel = (c: ConsoleContext, channel: ChannelRow, { frame, tests, tested, names }: Awaited<ReturnType<typeof readChannel>>, o: ChannelPageOptions) => {
    const done = tested?.status === 'sent' ? 'The test was sent: the receiver accepted it.' : o.done;
    const message = tested && tested.status !== 'sent' ? tested.error ? `The test failed. ${testFailure(tested.error)}` : 'The test failed.' : o.message;
    const canWrite = may(frame.session, 'write');
    return html(
      c,
      <Page title={channel.name} chrome={frame} section="channels">
        <Back href="/channels">Channels</Back>
        <div class="page-head">
          <h1>{channel.name}</h1>
          <span class="tag">{TYPE_NAMES[channel.type]}</span>
        </div>
        {o.secret ? (
          <Notice kind="ok">
            <p>
              {o.saved ? 'Saved with a new URL, so with a new signing secret, shown only now' : 'Created. Its signing secret is shown only now'}: give it to the receiver so it can check
              signatures.
            </p>
            <p class="secret">{o.secret}</p>
          </Notice>
        ) : null}
        <Outcome done={done} problem={message} placed={o.placed} focus={o.focus} />
        <Unsent said={channelWithoutEmail(deps, channel.type)} />
        <div class="panel">
          <dl class="facts">
            <dt>Sends to</dt>
            <dd>
              <Target channel={channel} />
            </dd>
            <dt>Secret</dt>
            <dd>{channel.secret_sealed ? 'stored, sealed' : 'none'}</dd>
            <dt>Changed</dt>
            <dd>
              <At at={channel.updated_at} />
            </dd>
          </dl>
        </div>
        <h2>Tests</h2>
        {canWrite ? (
          <form method="post" action={`/channels/${channel.id}/test`} class="actions">
            <Csrf session={frame.session} />
            <button type="submit" class="primary" id="send-test">
              Send a test
            </button>
            <span class="muted">A “resolved” message for a node named lifeline-test: it arrives like a page but pages nobody.</span>
          </form>
        ) : null}
        <Tests tests={tests} names={names} />
        {canWrite ? (
          <>
            <h2>Edit</h2>
            <form method="post" action={`/channels/${channel.id}/edit`} class="panel">
              <Csrf session={frame.session} />
              {channel.type === 'webhook' ? <Once /> : null}
              <Version tag={versionOf(channel)} />
              <ChannelFields type={channel.type} editing channel={channel} form={o.form} placed={o.placed} />
              <button type="submit">Save</button>
            </form>
            <h2>Delete</h2>
            <div class="actions">
              <AskFirst href={`/channels/${channel.id}/delete`} name={channel.name} />
              <span class="muted">Refused while an escalation policy or a person names it. Incidents it was told about keep their ledger.</span>
            </div>
          </>
        ) : null}
      </Page>,
      o.status,
    );
  };

  app.get('/channels/:id', ...guards.page, async (c) => {
    const channel = await find(c);
    const test = c.req.query('test');
    if (!channel) return missing(c);
    // A webhook's create answer showed the secret it generated (if it did) that once only.
    const done = c.req.query('done') === 'already' && channel.type === 'webhook' ? { done: alreadyShownOnce('its signing secret, if one was generated,', 'If it was lost, set a new one with Edit.') } : createdOrSaved(c.req.query('done'));
    return channelPage(c, channel, test !== undefined ? { tested: test } : done);
  });

  app.post('/channels/:id/edit', ...guards.action, write, async (c) => {
    const channel = await find(c);
    if (!channel) return missing(c);
    const form = (await c.req.parseBody()) as Form;
    // A webhook given a new URL with its secret left empty would be refused, as by the API: the
    // stored secret never goes to a new URL. The console offers what create does instead: a new
    // generated secret (updateChannel's generateSecretIfMoved), shown in this answer once.
    const save = async () => {
      const input = parsePatch(channel, deps.secretKey, { name: text(form, 'name') ?? '', config: configOf(channel.type, form) }, SECRET_IF_MOVED);
      return updateChannel(deps.sql, deps.secretKey, channel, input, deps.clock.now(), deps.outbound, acting(c), SECRET_IF_MOVED, sentVersions(form));
    };
    const refused = (r: Refusal) =>
      refusedSave(
        r,
        (r) => channelPage(c, channel, { form, placed: placedChannel(channel.type, r.details), message: r.details ? 'Not saved: some fields need another look.' : r.message, status: 400 }),
        () => getChannel(deps.sql, channel.id),
        (current, message) => channelPage(c, current, { message, status: 412, focus: true }),
        (x) => x.name,
        { sql: deps.sql, type: 'channel', form },
      );
    if (channel.type !== 'webhook') {
      const outcome = await attempt(save, refused);
      return outcome instanceof Response ? outcome : channelPage(c, outcome.channel, { done: 'Saved.' });
    }
    // That secret is the receiver's only copy, so a webhook's form is sent once, as a create form
    // is: a double click must not answer with the second sending's "Saved." and lose it. Read
    // before the save, as on create, so that no failed read after its commit can lose it either.
    const read = await readChannel(c, channel, {});
    return createOnce(c, deps, form, save, refused, () => `/channels/${channel.id}`, (made) =>
      drawChannel(c, made.channel, read, made.generatedSecret ? { secret: made.generatedSecret, saved: true } : { done: 'Saved.' }),
    );
  });

  app.post('/channels/:id/test', ...guards.action, write, async (c) => {
    const channel = await find(c);
    if (!channel) return missing(c);
    if (!deps.transports) throw new Error('this process has no channel transports');
    const test = await sendTest(deps.sql, deps.secretKey, deps.transports, channel, actor(c.get('session')), deps.clock.now(), acting(c));
    // Back to the channel's own address, so a reload, Back or a bookmark finds the page, not a POST.
    return c.redirect(`/channels/${channel.id}?test=${test.id}`, 303);
  });

  const askDelete = (channel: ChannelRow, frame: Chrome, problem?: string) => (
    <Confirm name={channel.name} back={`/channels/${channel.id}`} action={`/channels/${channel.id}/delete`} fields={versionField(versionOf(channel))} problem={problem} chrome={frame} section="channels">
      Nothing is sent to <Target channel={channel} /> through it any more, and its sealed secret is gone. It is refused while an escalation policy or
      a person names it, or while an open incident it was paged for is unresolved (so the resolve reaches it). Incidents it was told about keep their
      ledger.
    </Confirm>
  );
  app.get('/channels/:id/delete', ...guards.page, write, asking(deps, find, missing, askDelete));

  app.post('/channels/:id/delete', ...guards.action, write, confirmed(), async (c) => {
    const channel = await find(c);
    if (!channel) return missing(c);
    const form = (await c.req.parseBody()) as Form;
    const outcome = await attempt(
      () => deleteChannel(deps.sql, channel.id, deps.clock.now(), acting(c), undefined, sentVersions(form)),
      (r) =>
        refusedDelete(
          r,
          (r) => refusedDeletion(c, deps, { name: channel.name, href: `/channels/${channel.id}`, held: 'is still paged by', fix: 'remove it there first' }, r),
          () => getChannel(deps.sql, channel.id),
          askAgain(c, deps, askDelete),
          (x) => x.name,
          { sql: deps.sql, type: 'channel', form },
        ),
    );
    if (outcome instanceof Response) return outcome;
    return c.redirect('/channels?deleted', 303);
  });

  return app;
}

