import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StatusPage as PageBody } from '../../src/api/shapes.ts';
import { consoleCookie, consolePages, createHarness, expectJson, textareaText, unescapeHtml, type Harness } from '../helpers/app.ts';

// Status pages in the console: the commands and schemas the API uses, so the same things are
// refused in the same words; read keys look, write keys act; what the public sees changes as the
// form is saved.

const ORIGIN = 'http://localhost';

describe('console: status pages', () => {
  let h: Harness;
  let admin: string;
  let reader: string;

  before(async () => {
    h = await createHarness();
    await h.createNode('api-1', { labels: { role: 'api' } });
    await h.createNode('api-2', { labels: { role: 'api' } });
    await h.createNode('db-1', { labels: { role: 'db', region: 'eu west' } });
    // A fleet the form must not list: none of these appears on any status page's form.
    for (let i = 0; i < 30; i++) await h.createNode(`bulk-${i}`);
    admin = await consoleCookie(h, ORIGIN);
    reader = await consoleCookie(h, ORIGIN, (await h.createKey('read', 'wall screen')).secret);
  });
  after(async () => {
    await h.close();
  });

  const { get, post, sent } = consolePages(() => h, ORIGIN, () => admin);
  /** The form at `action` on `page`, as a browser would send it with these fields changed. */
  const filled = async (page: string, action: string, fields: Record<string, string | undefined>) => {
    const body = sent((await get(page)).html, action);
    for (const [k, v] of Object.entries(fields)) (v === undefined ? body.delete(k) : body.set(k, v));
    return body;
  };
  const count = async () => Number((await h.sql`select count(*) from status_pages`)[0]!.count);
  const textarea = (html: string, id: string) =>
    textareaText(unescapeHtml(new RegExp(`<textarea id="${id}"[^>]*>([^<]*)</textarea>`).exec(html)?.[1] ?? assert.fail(`no ${id} field`)));

  let id = '';

  it('creates a page from the form: nodes by name, labels with a quoted value, private or public', async () => {
    const form = await get('/status-pages/new');
    assert.equal(form.status, 200);
    assert.doesNotMatch(form.html, /bulk-/, 'the form lists no nodes');
    const body = await filled('/status-pages/new', '/status-pages/new', {
      slug: 'acme',
      title: 'Acme status',
      description: 'Line one\r\nLine two',
      components: 'API: api-1, api-2\r\nDatabase: role=db, region="eu west"',
      public: 'true',
    });
    const res = await post('/status-pages/new', body);
    assert.equal(res.status, 303, await res.text());
    id = /^\/status-pages\/([0-9a-f-]{36})\?done=created$/.exec(res.headers.get('location') ?? '')?.[1] ?? assert.fail(`went to ${res.headers.get('location')}`);
    const saved = await expectJson<PageBody>(await h.admin('GET', `/v1/status-pages/${id}`), 200);
    const ids = (await h.sql<{ id: string }[]>`select id from nodes where name in ('api-1', 'api-2') order by name`).map((r) => r.id);
    assert.deepEqual(
      [saved.slug, saved.title, saved.description, saved.public, saved.show_nodes, saved.components.map(({ id: _, ...c }) => c)],
      [
        'acme',
        'Acme status',
        'Line one\nLine two',
        true,
        false,
        [
          { name: 'API', node_ids: ids, labels: {} },
          { name: 'Database', node_ids: [], labels: { role: 'db', region: 'eu west' } },
        ],
      ],
    );
    assert.equal((await h.req('GET', '/status/acme')).status, 200, 'published');
  });

  it('lists pages with their slug, visibility, components and public address', async () => {
    await h.admin('POST', '/v1/status-pages', { slug: 'internal', title: 'Internal', public: false, components: [{ name: 'All', labels: { role: 'api' } }] });
    const list = await get('/status-pages');
    assert.equal(list.status, 200);
    assert.match(list.html, /aria-current="page"[^>]*>Status pages</);
    const rows = [...list.html.matchAll(/<tr>(.*?)<\/tr>/gs)].slice(1).map((m) => m[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());
    assert.deepEqual(rows, ['Acme status acme public 2 /status/acme', 'Internal internal private 1 not published']);
    assert.match(list.html, /<a class="mono" href="\/status\/acme">/);
    assert.match(list.html, /href="\/status-pages\/new"/);
  });

  it("refuses what the API refuses, in the API's words, keeps what was typed, and stores nothing", async () => {
    const before = await count();
    const typed = 'API: api-1, web-9\nno separator here\nEmpty: ';
    const res = await post('/status-pages/new', await filled('/status-pages/new', '/status-pages/new', { slug: 'Bad Slug', title: '  ', components: typed, description: 'kept <b>' }));
    assert.equal(res.status, 400);
    const html = await res.text();
    const api = await h.admin('POST', '/v1/status-pages', { slug: 'Bad Slug', title: '  ', components: [{ name: 'API', node_ids: ['api-1', 'web-9'] }] });
    const { error } = (await api.json()) as { error: { details: Array<{ field: string; message: string }> } };
    const said = (field: string) => error.details.find((d) => d.field === field)?.message ?? assert.fail(`the API said nothing of ${field}`);
    assert.match(html, /Not created: some fields need another look\./);
    assert.ok(unescapeHtml(html).includes(`<p class="error" id="slug-error">${said('slug')}</p>`), 'the slug problem beside it, as the API says it');
    assert.ok(unescapeHtml(html).includes(`<p class="error" id="title-error">${said('title')}</p>`));
    const componentsSaid = (page: string) => unescapeHtml(/<p class="error" id="components-error">([^<]*)<\/p>/.exec(page)?.[1] ?? '');
    // The line it could not read, with the schema's problems: the nodes are looked up once those are fixed.
    assert.equal(componentsSaid(html), 'line 2: write it as "name: nodes or labels", e.g. "API: api-1, role=api"');
    assert.match(html, /<input id="slug" name="slug"[^>]*value="Bad Slug"[^>]*aria-invalid="true" aria-describedby="slug-error slug-hint"/);
    assert.equal(textarea(html, 'components'), typed);
    assert.equal(textarea(html, 'description'), 'kept <b>');
    assert.equal(await count(), before);

    const lines = await post('/status-pages/new', await filled('/status-pages/new', '/status-pages/new', { slug: 'fine', title: 'Fine', components: 'API: api-1, web-9\n\nEmpty: ' }));
    assert.equal(lines.status, 400);
    const linesHtml = await lines.text();
    assert.equal(componentsSaid(linesHtml), 'line 3: node_ids or labels must name at least one node or label');
    // A first blank line is shown again as typed, so the line numbers still match.
    const blankFirst = '\nAPI: api-1\nEmpty: ';
    const shown = await post('/status-pages/new', await filled('/status-pages/new', '/status-pages/new', { slug: 'fine', title: 'Fine', components: blankFirst }));
    const shownHtml = await shown.text();
    assert.equal(componentsSaid(shownHtml), 'line 3: node_ids or labels must name at least one node or label');
    assert.equal(textarea(shownHtml, 'components'), blankFirst);
    const nodes = await post('/status-pages/new', await filled('/status-pages/new', '/status-pages/new', { slug: 'fine', title: 'Fine', components: 'API: api-1, web-9\n\nDB: db-1' }));
    assert.equal(nodes.status, 400);
    assert.equal(componentsSaid(await nodes.text()), 'line 1: "web-9" is not a node');
    assert.equal(await count(), before);

    const taken = await post('/status-pages/new', await filled('/status-pages/new', '/status-pages/new', { slug: 'acme', title: 'Again', components: 'API: api-1' }));
    assert.equal(taken.status, 409);
    assert.ok(unescapeHtml(await taken.text()).includes('A status page with the slug "acme" already exists.'));
    assert.equal(await count(), before);
  });

  it('edits a page as shown: saved unchanged it stays the same; made private it is gone from its address at once', async () => {
    const page = await get(`/status-pages/${id}`);
    assert.equal(page.status, 200);
    assert.equal(textarea(page.html, 'components'), 'API: api-1, api-2\nDatabase: role=db, region="eu west"');
    assert.doesNotMatch(page.html, /bulk-/);
    const before = await expectJson<PageBody>(await h.admin('GET', `/v1/status-pages/${id}`), 200);
    const same = await post(`/status-pages/${id}`, sent(page.html, `/status-pages/${id}`));
    assert.equal(same.status, 303, await same.text());
    assert.equal(same.headers.get('location'), `/status-pages/${id}?done=saved`);
    const unchanged = await expectJson<PageBody>(await h.admin('GET', `/v1/status-pages/${id}`), 200);
    assert.deepEqual({ ...unchanged, updated_at: before.updated_at }, before);

    // Kept by the public surface for 10 s; the console's save forgets it.
    assert.equal((await h.req('GET', '/status/acme')).status, 200);
    const edited = await post(`/status-pages/${id}`, await filled(`/status-pages/${id}`, `/status-pages/${id}`, { title: 'Acme (internal)', public: undefined, components: 'API: api-1' }));
    assert.equal(edited.status, 303, await edited.text());
    assert.equal((await h.req('GET', '/status/acme')).status, 404, 'private at once');
    const after = await expectJson<PageBody>(await h.admin('GET', `/v1/status-pages/${id}`), 200);
    assert.deepEqual([after.title, after.public, after.components.length], ['Acme (internal)', false, 1]);

    const refused = await post(`/status-pages/${id}`, await filled(`/status-pages/${id}`, `/status-pages/${id}`, { slug: 'internal' }));
    assert.equal(refused.status, 409);
    assert.ok(unescapeHtml(await refused.text()).includes('A status page with the slug "internal" already exists.'));
  });

  it('lets a read key look, offers it nothing to press, and refuses what it forges', async () => {
    const page = await get(`/status-pages/${id}`, reader);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.html, /<form method="post" action="\/status-pages/);
    assert.doesNotMatch((await get('/status-pages', reader)).html, /New status page/);
    assert.equal((await get('/status-pages/new', reader)).status, 403);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? assert.fail('no token');
    const before = await count();
    for (const [path, fields] of [
      ['/status-pages/new', { slug: 'forged', title: 'F', components: 'API: api-1' }],
      [`/status-pages/${id}`, { slug: 'forged', title: 'F', components: 'API: api-1' }],
      [`/status-pages/${id}/delete`, {}],
    ] as const) {
      const res = await post(path, new URLSearchParams({ _csrf: csrf, ...fields }), reader);
      assert.equal(res.status, 403, path);
      assert.match(await res.text(), /this needs write scope/);
    }
    assert.equal(await count(), before);
    // A write session's form without its token is refused too.
    const forged = await post('/status-pages/new', new URLSearchParams({ slug: 'forged', title: 'F', components: 'API: api-1' }));
    assert.equal(forged.status, 403);
    assert.equal(await count(), before);
  });

  it('warns of a component whose labels no node carries, or whose listed nodes were deleted, before visitors see it grey', async () => {
    const gone = await h.createNode('old-1');
    const made = await expectJson<PageBody>(
      await h.admin('POST', '/v1/status-pages', {
        slug: 'warned',
        title: 'Warned',
        components: [
          { name: 'API', labels: { role: 'api' } },
          { name: 'Typo', labels: { role: 'apl' } },
          { name: 'Retired', node_ids: ['old-1'] },
          { name: 'Mixed', node_ids: ['api-1', 'old-1'], labels: { role: 'none' } },
        ],
      }),
      201,
    );
    assert.equal((await h.admin('DELETE', `/v1/nodes/${gone.id}`)).status, 204);
    const page = unescapeHtml((await get(`/status-pages/${made.id}`)).html);
    const warned = /<div class="notice bad" role="alert"><ul>(.*?)<\/ul><\/div>/.exec(page)?.[1] ?? assert.fail('no warning');
    assert.deepEqual([...warned.matchAll(/<li>(.*?)<\/li>/g)].map((m) => m[1]), [
      'Typo: no node has the labels role=apl — it holds no node, so visitors see it grey, “Not reporting”.',
      'Retired: 1 node it listed was deleted — it holds no node, so visitors see it grey, “Not reporting”.',
      'Mixed: no node has the labels role=none; 1 node it listed was deleted.',
    ]);
    // A page whose every component selects a node says nothing.
    assert.doesNotMatch((await get(`/status-pages/${id}`)).html, /notice bad/);
  });

  it('asks before deleting, then deletes', async () => {
    const confirm = await get(`/status-pages/${id}/delete`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.html, /<h1>Delete Acme \(internal\)\?<\/h1>/);
    assert.equal((await h.admin('GET', `/v1/status-pages/${id}`)).status, 200, 'asking deletes nothing');
    const res = await post(`/status-pages/${id}/delete`, sent(confirm.html, `/status-pages/${id}/delete`));
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/status-pages?deleted');
    assert.equal((await h.admin('GET', `/v1/status-pages/${id}`)).status, 404);
    assert.match((await get('/status-pages?deleted')).html, /<p>Deleted\. The status page answers 404 now\.<\/p>/);
    // A link anyone can send: what it says was deleted is not shown as the console's own word.
    const spoof = await get(`/status-pages?deleted=${encodeURIComponent('Security notice: sign in again at https://evil.example')}`);
    assert.match(spoof.html, /<p>Deleted\. The status page answers 404 now\.<\/p>/);
    assert.doesNotMatch(spoof.html, /evil\.example|Security notice/);
    assert.equal((await get(`/status-pages/${id}`)).status, 404);
    assert.equal((await post(`/status-pages/${id}/delete`, sent(confirm.html, `/status-pages/${id}/delete`))).status, 404);
  });
});
