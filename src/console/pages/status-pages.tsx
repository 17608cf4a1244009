import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConsoleSession } from '../../access/sessions.ts';
import type { Sql } from '../../db/client.ts';
import { isUuid } from '../../db/ids.ts';
import { Refusal, validationFailed, type ErrorDetail } from '../../errors.ts';
import type { AppDeps } from '../../http/deps.ts';
import { CreateStatusPage, PatchStatusPage } from '../../http/routes/status-pages.ts';
import { parse } from '../../http/validation.ts';
import { findNodeRefs, labelsMatchingNothing } from '../../nodes/store.ts';
import type { StatusPage } from '../../statuspages/model.ts';
import { createStatusPage, deleteStatusPage, pageTag, readStatusPage, updateStatusPage } from '../../statuspages/service.ts';
import { getPage, listPages } from '../../statuspages/store.ts';
import { acting, attempt, Field, formRefusal, may, requireScope } from '../acting.tsx';
import { areaText, Back, LabelList, Notice, Outcome, Pager, Table, createdOrSaved } from '../components.tsx';
import { componentLines, identifiedLines, lineProblems, readComponentLines, type ShownComponent } from '../component-lines.ts';
import { chrome, cursor, href, nodePath, readCursor } from '../context.ts';
import { all, fieldProblems, placeFieldProblems, text, type Form, type Placed } from '../forms.ts';
import { refusedDelete, refusedSave, sentTags, Version, versionField } from '../version.tsx';
import type { ConsoleContext, ConsoleEnv, Guards } from '../guard.ts';
import { Csrf, Page, type Chrome } from '../layout.tsx';
import { askAgain, asking, AskFirst, Confirm, confirmed } from '../confirm.tsx';
import { createOnce, Once } from '../once.tsx';
import { html, refusal } from '../render.tsx';

// Status pages: list, create, edit, delete — src/statuspages/service.ts's commands with the API's
// own schemas, so the console refuses what POST and PATCH /v1/status-pages refuse, in their words.
// Components are written one per line (component-lines.ts). No page loads the fleet: the edit
// form names only the nodes its page lists (one query by id), and a typed name is checked by the
// service's own lookup when the form is sent.

const PAGE_SIZE = 50;
const publicPath = (p: Pick<StatusPage, 'slug'>) => `/status/${p.slug}`;
const pagePath = (p: Pick<StatusPage, 'id'>) => `/status-pages/${p.id}`;

/**
 * The form as the API's body, validated with `schema` as the API does; the lines that could not
 * be read are counted in, so every problem is shown at once, not the lines' first and the
 * schema's on the next try.
 */
function checked<T>(schema: Parameters<typeof parse>[0], form: Form, shown: readonly ShownComponent[] = []): T {
  const read = readComponentLines(text(form, 'components'));
  const description = text(form, 'description')?.replace(/\r\n/g, '\n').trim();
  const body = {
    slug: text(form, 'slug')?.trim() ?? '',
    title: text(form, 'title') ?? '',
    description: description || null,
    public: text(form, 'public') === 'true',
    show_nodes: text(form, 'show_nodes') === 'true',
    components: identifiedLines(read.components, shown),
  };
  let input: T | undefined;
  let problems: ErrorDetail[] = [];
  try {
    input = parse(schema, body) as T;
  } catch (err) {
    if (!(err instanceof Refusal) || !err.details) throw err;
    problems = err.details;
  }
  if (read.problems.length || input === undefined) throw validationFailed([...read.problems, ...problems]);
  return input;
}

/**
 * A refusal laid on the form: the plain fields' problems by name, the components' by the line they
 * were typed on; the first has the focus and the summary's link.
 */
function placedOn(form: Form, details: ErrorDetail[]): Placed {
  const fields = fieldProblems(details.filter((d) => !d.field.startsWith('components')));
  const lines = lineProblems(details, readComponentLines(text(form, 'components')));
  if (lines.length) fields.set('components', lines.join('; '));
  return placeFieldProblems(fields, [
    ['title', 'title', 'Title'],
    ['slug', 'slug', 'Slug'],
    ['description', 'description', 'Description'],
    ['components', 'components', 'Components'],
  ]);
}

function PageForm(p: { session: ConsoleSession; action: string; submit: string; page?: StatusPage; version?: string; names?: Map<string, string>; form?: Form; placed?: Placed | undefined }) {
  const f = p.form;
  const value = (name: string, current: string | null | undefined) => (f ? (text(f, name) ?? '') : (current ?? ''));
  const flag = (name: 'public' | 'show_nodes', fallback: boolean) => (f ? text(f, name) === 'true' : (p.page?.[name] ?? fallback));
  const at = (id: string) => ({ problem: p.placed?.at.get(id), focus: p.placed?.first?.id === id });
  return (
    <form method="post" action={p.action} class="panel">
      <Csrf session={p.session} />
      {p.page ? null : <Once />}
      {p.version ? <Version tag={p.version} /> : null}
      <div class="grid-2">
        <Field id="title" label="Title" hint="What visitors read at the top, e.g. “Example Inc. status”." {...at('title')}>
          <input id="title" name="title" type="text" required maxlength={128} class="wide" value={value('title', p.page?.title)} />
        </Field>
        <Field id="slug" label="Slug" hint="Its address: /status/slug. 1–64 of a–z, 0–9 and -." {...at('slug')}>
          <input
            id="slug"
            name="slug"
            type="text"
            required
            maxlength={64}
            pattern="[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?"
            autocapitalize="none"
            spellcheck={false}
            class="wide"
            value={value('slug', p.page?.slug)}
          />
        </Field>
      </div>
      <Field id="description" label="Description" hint="Optional, shown under the title; at most 2000 characters." {...at('description')}>
        <textarea id="description" name="description" maxlength={2000}>
          {areaText(value('description', p.page?.description))}
        </textarea>
      </Field>
      <Field
        id="components"
        label="Components"
        hint="One per line: its name, then “: ” and its nodes (names or ids) and key=value labels, separated by commas — e.g. “API: api-1, api-2, role=api”. A node is in it when listed or when it has all of the labels. Up to 50."
        {...at('components')}
      >
        <textarea
          id="components"
          name="components"
          class="mono"
          required
          spellcheck={false}
          autocapitalize="none"
          rows={4}
          placeholder={'API: api-1, api-2\nDatabase: role=db, region=eu-west-1'}
        >
          {areaText(f ? (text(f, 'components') ?? '') : p.page ? componentLines(p.page.components, p.names ?? new Map()) : '')}
        </textarea>
        {/* Which component each line was, so a line renamed or moved keeps its kept days (identifiedLines). */}
        {(f ? all(f, 'component_id') : (p.page?.components.map((x) => x.id) ?? [])).map((id) => (
          <input type="hidden" name="component_id" value={id} />
        ))}
      </Field>
      <div class="field">
        <label>
          <input type="checkbox" name="public" value="true" checked={flag('public', true)} /> Public: anyone may open it at its address
        </label>
      </div>
      <div class="field">
        <label>
          <input type="checkbox" name="show_nodes" value="true" checked={flag('show_nodes', false)} /> Show node names, labels and reasons on it
        </label>
      </div>
      <div class="actions">
        <button type="submit" class="primary">
          {p.submit}
        </button>
        <a href={p.page ? pagePath(p.page) : '/status-pages'}>Cancel</a>
      </div>
    </form>
  );
}

/**
 * What an admin should hear before visitors see it: a component whose labels no node carries, one
 * listing nodes deleted since, and — when it selects nothing at all — that it reads "Not
 * reporting", grey, on the public page. `unmatched` holds the components (by index) whose labels
 * match no node; `names` the listed nodes that still exist.
 */
function componentWarnings(components: StatusPage['components'], unmatched: ReadonlySet<number>, names: ReadonlyMap<string, string>): string[] {
  return components.flatMap((x, i) => {
    const deleted = x.node_ids.filter((id) => !names.has(id)).length;
    const said = [
      ...(unmatched.has(i) ? [`no node has the labels ${Object.entries(x.labels).map(([k, v]) => `${k}=${v}`).join(', ')}`] : []),
      ...(deleted ? [deleted === 1 ? '1 node it listed was deleted' : `${deleted} nodes it listed were deleted`] : []),
    ];
    if (said.length === 0) return [];
    const empty = deleted === x.node_ids.length && (unmatched.has(i) || Object.keys(x.labels).length === 0);
    return [`${x.name}: ${said.join('; ')}${empty ? ' — it holds no node, so visitors see it grey, “Not reporting”' : ''}`];
  });
}

/**
 * The page's components the form was showing (its `component_id` fields, in the order of its
 * lines), their nodes named as its lines named them; one dropped since by another edit is left out.
 */
async function shownOn(sql: Sql, form: Form, page: StatusPage): Promise<ShownComponent[]> {
  const shown = all(form, 'component_id').flatMap((id) => page.components.filter((x) => x.id === id));
  const ids = [...new Set(shown.flatMap((x) => x.node_ids))];
  const names = new Map((ids.length ? await findNodeRefs(sql, ids) : []).map((n) => [n.id, n.name]));
  // A node deleted since is not on the form's lines (editPage leaves it out).
  return shown.map((x) => ({ ...x, node_ids: x.node_ids.flatMap((id) => names.get(id) ?? []) }));
}

export function statusPageRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  const write = requireScope(deps, 'write');
  const missing = (c: ConsoleContext) => refusal(c, deps, 404, 'No such status page', 'There is no status page with that id; it may have been deleted.');
  const find = async (c: ConsoleContext) => (isUuid(c.req.param('id') ?? '') ? getPage(deps.sql, c.req.param('id')!) : undefined);
  /** The page's public copies, kept for seconds by this process, go at once (others hear the NOTIFY). */
  const published = () => deps.publicChanges?.changed(['pages']);

  app.get('/status-pages', ...guards.page, async (c) => {
    const after = readCursor(c.req.query('after'), (k): k is string => typeof k === 'string');
    const [frame, fetched] = await Promise.all([chrome(c, deps), listPages(deps.sql, after, PAGE_SIZE + 1)]);
    const rows = fetched.slice(0, PAGE_SIZE);
    const last = rows.at(-1);
    const next = fetched.length > PAGE_SIZE && last ? href('/status-pages', { after: cursor(last.slug) }) : undefined;
    return html(
      c,
      <Page title="Status pages" chrome={frame} section="status-pages">
        <div class="page-head">
          <h1>Status pages</h1>
          {may(frame.session, 'write') ? (
            <div class="actions">
              <a class="button" href="/status-pages/new">
                New status page
              </a>
            </div>
          ) : null}
        </div>
        <p class="muted">What the public sees of the fleet: each component's state, its 90-day uptime and the open incidents, without a key.</p>
        {/* Said as users, policies and channels say it: the address carries no name, as anyone may
            send a link with words of their own there for this box to vouch for. */}
        <Outcome done={c.req.query('deleted') !== undefined ? 'Deleted. The status page answers 404 now.' : undefined} />
        {rows.length === 0 ? (
          <p class="empty panel">No status page yet.</p>
        ) : (
          <Table head={['Page', 'Visibility', { label: 'Components', num: true }, 'Address']}>
            {rows.map((p) => (
              <tr>
                <td data-label="Page">
                  <span>
                    <a href={pagePath(p)}>{p.title}</a>
                    <span class="sub mono">{p.slug}</span>
                  </span>
                </td>
                <td data-label="Visibility">{p.public ? <span class="tag tag-sent">public</span> : <span class="tag">private</span>}</td>
                <td data-label="Components" class="num">
                  {p.components.length}
                </td>
                <td data-label="Address" class="reason">
                  {p.public ? (
                    <a class="mono" href={publicPath(p)}>
                      {publicPath(p)}
                    </a>
                  ) : (
                    <span class="muted">not published</span>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager next={next} />
      </Page>,
    );
  });

  const newPage = async (c: ConsoleContext, o: { form?: Form; details?: ErrorDetail[]; message?: string; status?: ContentfulStatusCode } = {}) => {
    const frame = await chrome(c, deps);
    const placed = o.form && o.details ? placedOn(o.form, o.details) : undefined;
    return html(
      c,
      <Page title="New status page" chrome={frame} section="status-pages">
        <Back href="/status-pages">Status pages</Back>
        <h1>New status page</h1>
        <Outcome problem={o.message} placed={placed} />
        <PageForm session={frame.session} action="/status-pages/new" submit="Create" {...(o.form ? { form: o.form } : {})} placed={placed} />
      </Page>,
      o.status,
    );
  };

  app.get('/status-pages/new', ...guards.page, write, async (c) => newPage(c));

  app.post('/status-pages/new', ...guards.action, write, async (c) => {
    const form = (await c.req.parseBody()) as Form;
    return createOnce(
      c,
      deps,
      form,
      async () => {
        const made = await createStatusPage(deps.sql, checked<Parameters<typeof createStatusPage>[1]>(CreateStatusPage, form), deps.clock.now(), acting(c));
        published();
        return made;
      },
      (r) => newPage(c, { form, ...formRefusal(r, 'Not created') }),
      pagePath,
    );
  });

  const editPage = async (c: ConsoleContext, page: StatusPage, o: { form?: Form; details?: ErrorDetail[]; message?: string; done?: string; status?: ContentfulStatusCode; focus?: true } = {}) => {
    const ids = [...new Set(page.components.flatMap((x) => x.node_ids))];
    const [frame, refs, unmatched] = await Promise.all([chrome(c, deps), ids.length ? findNodeRefs(deps.sql, ids) : [], labelsMatchingNothing(deps.sql, page.components)]);
    const names = new Map(refs.map((n) => [n.id, n.name]));
    const warnings = componentWarnings(page.components, unmatched, names);
    // A node deleted since is left out, as GET /v1/status-pages/{id} leaves it out.
    const shown = { ...page, components: page.components.map((x) => ({ ...x, node_ids: x.node_ids.filter((id) => names.has(id)) })) };
    const canWrite = may(frame.session, 'write');
    const placed = o.form && o.details ? placedOn(o.form, o.details) : undefined;
    return html(
      c,
      <Page title={page.title} chrome={frame} section="status-pages">
        <Back href="/status-pages">Status pages</Back>
        <div class="page-head">
          <h1>{page.title}</h1>
          {page.public ? <span class="tag tag-sent">public</span> : <span class="tag">private</span>}
        </div>
        <Outcome done={o.done} problem={o.message} placed={placed} focus={o.focus} />
        <div class="panel">
          <dl class="facts">
            <dt>Address</dt>
            <dd>
              {page.public ? (
                <a class="mono" href={publicPath(page)}>
                  {publicPath(page)}
                </a>
              ) : (
                <span>
                  <span class="mono">{publicPath(page)}</span> <span class="muted">(private: answers 404)</span>
                </span>
              )}
            </dd>
            <dt>Node names</dt>
            <dd>{page.show_nodes ? 'shown' : 'hidden'}</dd>
          </dl>
        </div>
        <h2>Components</h2>
        {warnings.length ? (
          <Notice kind="bad">
            <ul>
              {warnings.map((w) => (
                <li>{w}.</li>
              ))}
            </ul>
          </Notice>
        ) : null}
        <Table head={['Component', 'Nodes', 'Labels']}>
          {shown.components.map((x) => (
            <tr>
              <td data-label="Component">{x.name}</td>
              <td data-label="Nodes">
                {x.node_ids.length ? (
                  <span>
                    {x.node_ids.map((id) => (
                      <a class="tag" href={nodePath({ id, name: names.get(id)! })}>
                        {names.get(id)}
                      </a>
                    ))}
                  </span>
                ) : (
                  <span class="muted">none listed</span>
                )}
              </td>
              <td data-label="Labels">
                {Object.keys(x.labels).length ? (
                  <span>
                    <LabelList labels={x.labels} />
                  </span>
                ) : (
                  <span class="muted">none</span>
                )}
              </td>
            </tr>
          ))}
        </Table>
        {canWrite ? (
          <>
            <h2>Edit</h2>
            <PageForm session={frame.session} action={pagePath(page)} submit="Save" page={shown} version={pageTag(shown)} names={names} {...(o.form ? { form: o.form } : {})} placed={placed} />
            <div class="actions">
              <AskFirst href={`${pagePath(page)}/delete`} name={page.title} />
            </div>
          </>
        ) : null}
      </Page>,
      o.status,
    );
  };

  app.get('/status-pages/:id', ...guards.page, async (c) => {
    const page = await find(c);
    if (!page) return missing(c);
    return editPage(c, page, createdOrSaved(c.req.query('done')));
  });

  app.post('/status-pages/:id', ...guards.action, write, async (c) => {
    const page = await find(c);
    if (!page) return missing(c);
    const form = (await c.req.parseBody({ all: true })) as Form;
    const outcome = await attempt(
      async () => updateStatusPage(deps.sql, page.id, checked<Parameters<typeof updateStatusPage>[2]>(PatchStatusPage, form, await shownOn(deps.sql, form, page)), deps.clock.now(), acting(c), deps, sentTags(form)),
      (r) =>
        refusedSave(
          r,
          (r) => editPage(c, page, { form, ...formRefusal(r, 'Not saved') }),
          () => getPage(deps.sql, page.id),
          (current, message) => editPage(c, current, { message, status: 412, focus: true }),
          (p) => p.title,
          { sql: deps.sql, type: 'status_page', form },
        ),
    );
    if (outcome instanceof Response) return outcome;
    published();
    return c.redirect(`${pagePath(page)}?done=saved`, 303);
  });

  // Its version as a GET of the API tags it: what the page shows is its nodes too (pageTag).
  const askDelete = async (page: StatusPage, frame: Chrome, problem?: string) => (
    <Confirm name={page.title} back={pagePath(page)} action={`${pagePath(page)}/delete`} fields={versionField(pageTag((await readStatusPage(deps.sql, page.id)) ?? page))} problem={problem} chrome={frame} section="status-pages">
      Its address, <span class="mono">{publicPath(page)}</span>, answers 404 at once, to people and to anything that embeds or polls it. The nodes it shows
      are not touched, and its slug can be used again.
    </Confirm>
  );
  app.get('/status-pages/:id/delete', ...guards.page, write, asking(deps, find, missing, askDelete));

  app.post('/status-pages/:id/delete', ...guards.action, write, confirmed(), async (c) => {
    const page = await find(c);
    if (!page) return missing(c);
    // Deleted elsewhere since the page was found: there is no such page.
    const form = (await c.req.parseBody()) as Form;
    const gone = await attempt(
      () => deleteStatusPage(deps.sql, page.id, deps.clock.now(), acting(c), sentTags(form)),
      (r) => refusedDelete(r, () => missing(c), () => getPage(deps.sql, page.id), askAgain(c, deps, askDelete), (p) => p.title, { sql: deps.sql, type: 'status_page', form }),
    );
    if (gone instanceof Response) return gone;
    published();
    return c.redirect('/status-pages?deleted', 303);
  });

  return app;
}
