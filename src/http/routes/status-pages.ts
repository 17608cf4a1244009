import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type StatusPage as StatusPageBody } from '../../api/shapes.ts';
import { notFound } from '../../errors.ts';
import { MAX_COMPONENTS, SLUG, type StatusPage } from '../../statuspages/model.ts';
import { createStatusPage, deleteStatusPage, listStatusPages, pageTag, readStatusPage, updateStatusPage } from '../../statuspages/service.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import { acting } from '../acting.ts';
import type { AppDeps } from '../deps.ts';
import { ifMatchTags, IF_MATCH_ETAG } from '../if-match.ts';
import { operationDocs } from '../openapi.ts';
import { body, boundedArray, closedObject, decodeCursor, DisplayName, Labels, NodeName, page, Paging, query } from '../validation.ts';

const Slug = v.pipe(v.string('must be a string'), v.regex(SLUG, 'must be 1-64 characters of a-z, 0-9 and -, not starting or ending with -'));
const Description = v.nullable(v.pipe(v.string('must be a string'), v.maxLength(2000, 'must be at most 2000 characters')));
const Flag = v.boolean('must be true or false');

const Component = closedObject({
  id: v.optional(v.pipe(v.string('must be a string'), v.uuid('must be the id of a component of this page'))),
  name: DisplayName,
  node_ids: v.optional(boundedArray(NodeName, 'must be an array of node ids or names', 1000, 'must hold at most 1000 nodes'), []),
  labels: v.optional(Labels, {}),
});
const Components = boundedArray(Component, 'must be an array of components', MAX_COMPONENTS, `must hold at most ${MAX_COMPONENTS} components`, 1, 'must hold at least one component');

export const CreateStatusPage = closedObject({
  slug: Slug,
  title: DisplayName,
  description: v.optional(Description, null),
  public: v.optional(Flag, true),
  show_nodes: v.optional(Flag, false),
  components: Components,
});

export const PatchStatusPage = closedObject({
  slug: v.optional(Slug),
  title: v.optional(DisplayName),
  description: v.optional(Description),
  public: v.optional(Flag),
  show_nodes: v.optional(Flag),
  components: v.optional(Components),
});

export const ListStatusPages = closedObject(Paging);

const render = (p: StatusPage): StatusPageBody => ({
  id: p.id,
  slug: p.slug,
  title: p.title,
  description: p.description,
  public: p.public,
  show_nodes: p.show_nodes,
  components: p.components.map((c) => ({ id: c.id, name: c.name, node_ids: c.node_ids, labels: c.labels })),
  path: `/status/${p.slug}`,
  created_at: p.created_at.toISOString(),
  updated_at: p.updated_at.toISOString(),
});

const doc = operationDocs('Status pages');
const PAGE = 'The status page id or slug';
const PAGE_ETAG_EXAMPLE = 'an ETag as a GET answered it, e.g. If-Match: "1765123456789-3fa1c2d0"';
// A page's tag (pageTag); one of milliseconds alone, as pages had before, is only out of date (412).
const PAGE_TAG = /^\d{1,15}(?:-[0-9a-f]{8})?$/;
const PAGE_ETAG_NOTE =
  'The answer carries an `ETag` (the page\'s `updated_at` in epoch ms and a hash of the node ids it shows, quoted: deleting a node it lists moves it too); sent back as `If-Match` on a PATCH or DELETE, it changes only the page as it was read (412 otherwise).';

/**
 * Status pages. `changed` is told after every change, so kept copies of published pages are
 * dropped at once in this process.
 */
export function statusPageRoutes(deps: AppDeps, changed: () => void) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();

  app.post(
    '/',
    doc({
      summary: 'Create a status page',
      description:
        'Published at `/status/{slug}` (HTML) and `/status/{slug}.json` for anyone when `public` (the default). Each component shows the worst state of its nodes — those listed in `node_ids` (ids or names) and those carrying all of `labels` — its 90-day uptime and 90 daily bars. Node names, labels and reasons appear only with `show_nodes`.',
      access: 'write',
      body: CreateStatusPage,
      ok: { status: 201, description: 'The page.', body: 'StatusPage' },
      errors: [409],
    }),
    requireScope('write'),
    async (c) => {
      const created = await createStatusPage(sql, await body(c, CreateStatusPage), clock.now(), acting(c));
      changed();
      return c.json(render(created), 201);
    },
  );

  app.get(
    '/',
    doc({
      summary: 'List status pages',
      description: 'By slug.',
      access: 'read',
      query: ListStatusPages,
      ok: { status: 200, description: 'A page of status pages.', body: listOf('StatusPage') },
    }),
    requireScope('read'),
    async (c) => {
      const q = query(c, ListStatusPages);
      const after = decodeCursor(q.cursor, (k): k is string => typeof k === 'string');
      const rows = await listStatusPages(sql, after, q.limit + 1);
      return c.json(page(rows.map(render), q.limit, (p) => p.slug));
    },
  );

  app.get(
    '/:id',
    doc({ summary: 'Get a status page', description: PAGE_ETAG_NOTE, access: 'read', id: PAGE, ok: { status: 200, description: 'The page.', body: 'StatusPage' } }),
    requireScope('read'),
    async (c) => {
      const found = await readStatusPage(sql, c.req.param('id'));
      if (!found) throw notFound(`Status page "${c.req.param('id')}"`);
      c.header('etag', `"${pageTag(found)}"`);
      return c.json(render(found));
    },
  );

  app.patch(
    '/:id',
    doc({
      summary: 'Change a status page',
      description: 'Fields left out keep their value; `components` replaces the whole list. A component sent with its `id` stays that component (its past days with it), renamed or moved; one without an `id` is the first of the page’s components of that name not otherwise given, else a new one.',
      access: 'write',
      id: PAGE,
      headers: [IF_MATCH_ETAG],
      body: PatchStatusPage,
      ok: { status: 200, description: 'The page as changed, with its new `ETag`.', body: 'StatusPage' },
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const expected = ifMatchTags(c, PAGE_ETAG_EXAMPLE, PAGE_TAG);
      const updated = await updateStatusPage(sql, c.req.param('id'), await body(c, PatchStatusPage), clock.now(), acting(c), deps, expected);
      changed();
      c.header('etag', `"${pageTag(updated)}"`);
      return c.json(render(updated));
    },
  );

  app.delete(
    '/:id',
    doc({ summary: 'Delete a status page', access: 'write', id: PAGE, headers: [IF_MATCH_ETAG], ok: { status: 204, description: 'Deleted.' }, errors: [412] }),
    requireScope('write'),
    async (c) => {
      await deleteStatusPage(sql, c.req.param('id'), clock.now(), acting(c), ifMatchTags(c, PAGE_ETAG_EXAMPLE, PAGE_TAG));
      changed();
      return c.body(null, 204);
    },
  );

  return app;
}
