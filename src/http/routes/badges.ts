import { Hono } from 'hono';
import * as v from 'valibot';
import { BADGE_ID, BADGE_METRICS, BADGE_WINDOWS, badgeJson, badgeSvg, type Badge } from '../../badges/model.ts';
import { currentBadge, rotateBadgeId } from '../../badges/service.ts';
import { principalOf, requireScope, type AuthEnv } from '../auth.ts';
import { acting } from '../acting.ts';
import type { AppDeps } from '../deps.ts';
import { encodeBody, sendEncoded, type EncodedBody } from '../encoded-body.ts';
import { errorBody } from '../errors.ts';
import { operationDocs } from '../openapi.ts';
import { ref } from '../../api/shapes.ts';
import { PublicCache } from '../public-cache.ts';
import { isStorableText, query } from '../validation.ts';
import { nodeView } from './nodes.ts';

export const BadgeQuery = v.object({
  metric: v.optional(v.picklist(BADGE_METRICS, `must be one of ${BADGE_METRICS.join(', ')}`), 'state'),
  window: v.optional(v.picklist(BADGE_WINDOWS, `must be one of ${BADGE_WINDOWS.join(', ')}`), '30d'),
  label: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1, 'must not be empty'),
      v.maxLength(64, 'must be at most 64 characters'),
      v.check((s) => isStorableText(s) && !/\p{Cc}/u.test(s), 'must be printable text'),
    ),
  ),
});

/** A badge and its two renderings, each made (and encoded) the first time it is asked for. */
interface Kept {
  badge: Badge;
  svg?: EncodedBody;
  json?: EncodedBody;
}

// shields.io asks endpoint badges for at most this; README promises it for both formats.
const BADGE_CACHE_CONTROL = 'public, max-age=30';
const SVG_HEADERS = {
  'content-type': 'image/svg+xml; charset=utf-8',
  'cache-control': BADGE_CACHE_CONTROL,
  'content-security-policy': "default-src 'none'",
  'x-content-type-options': 'nosniff',
};
const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': BADGE_CACHE_CONTROL,
  'access-control-allow-origin': '*',
};

const doc = operationDocs('Nodes');

/** What the last path segment names: a badge id and the format asked for (none: an unknown file). */
const badgeFile = (file: string): { format: 'svg' | 'json' | undefined; id: string } => {
  const format = file.endsWith('.svg') ? 'svg' : file.endsWith('.json') ? 'json' : undefined;
  return { format, id: format ? file.slice(0, -(format.length + 1)) : file };
};

type BadgeOptions = v.InferOutput<typeof BadgeQuery>;
const keyOf = (id: string, q: BadgeOptions) => JSON.stringify([id, q.metric, q.window, q.label ?? null]);
// What a badge URL without a query asks for.
const PLAIN = v.parse(BadgeQuery, {});

/**
 * GET /badge/{badge_id}.svg and .json, without auth: a node's state or uptime in shields.io's
 * look and in its endpoint schema. The badge id names the badge, not the node; an unknown one
 * is 404 whatever its format.
 */
export function badgeRoutes(deps: AppDeps, cacheMs: number) {
  const { sql, clock } = deps;
  const badges = new PublicCache<Kept>({
    ttlMs: cacheMs,
    max: 10_000,
    clock,
    load: async (key) => {
      const [id, metric, window, label] = JSON.parse(key) as [string, BadgeOptions['metric'], BadgeOptions['window'], string | null];
      const badge = await currentBadge(sql, id, { metric, window, label: label ?? undefined }, clock.now().getTime());
      return badge && { badge };
    },
  });

  const rendered = (kept: Kept, format: 'svg' | 'json'): EncodedBody =>
    format === 'svg' ? (kept.svg ??= encodeBody(badgeSvg(kept.badge), SVG_HEADERS)) : (kept.json ??= encodeBody(JSON.stringify(badgeJson(kept.badge)), JSON_HEADERS));

  const app = new Hono();
  app.get(
    '/:file',
    doc({
      summary: "A node's badge",
      description:
        "`{file}` is the node's `badge_id` with `.svg` (shields.io's look) or `.json` (shields.io's endpoint schema, for `https://img.shields.io/endpoint?url=…`). Cached for 30 s (`Cache-Control`); each client address has its own budget (429).",
      access: 'none',
      pathParams: { file: '`<badge_id>.svg` or `<badge_id>.json`' },
      query: BadgeQuery,
      queryNotes: { metric: 'state (the default) or uptime', window: "uptime's period (default 30d)", label: "the badge's left-hand text (default the node's name)" },
      ok: { status: 200, description: 'The badge as SVG, or as shields.io endpoint JSON for `.json`.', body: { type: 'string' }, mediaType: 'image/svg+xml', alternatives: { 'application/json': ref('BadgeJson') } },
      also: [{ status: 404, description: 'No badge has this id, or the file is neither `.svg` nor `.json` (`not_found`).', body: 'Error' }],
      errors: [400, 429, 500, 503],
    }),
    async (c) => {
    const { format, id } = badgeFile(c.req.param('file'));
    const q = query(c, BadgeQuery);
    const kept = format && BADGE_ID.test(id) ? await badges.get(keyOf(id, q)) : undefined;
    if (!format || !kept) return c.json(errorBody('not_found', 'No such badge.'), 404);
    return sendEncoded(c, rendered(kept, format));
    },
  );
  /** The answer to `/badge/{file}` without a query when it is kept, at once (fast-public.ts); undefined sends the request to the app. */
  const kept = (file: string): EncodedBody | undefined => {
    const { format, id } = badgeFile(file);
    if (!format) return undefined;
    // Only bytes already encoded: the first encoding of a format is the app's, after the budget.
    return badges.kept(keyOf(id, PLAIN))?.[format];
  };
  return { app, forget: () => badges.clear(), kept };
}


/** POST /v1/nodes/{id}/badge: a new badge id; the old one is 404 from then on. */
export function badgeRotationRoutes(deps: AppDeps, rotated: () => void) {
  const { sql, clock } = deps;
  const app = new Hono<AuthEnv>();
  app.post(
    '/:id/badge',
    doc({
      summary: "Rotate a node's badge id",
      description: 'Draws a new random `badge_id`: badges embedded with the old one stop working (404) on every api process as the change commits.',
      access: 'write',
      id: 'The node id or name',
      ok: { status: 200, description: 'The node with its new badge id.', body: 'Node' },
    }),
    requireScope('write'),
    async (c) => {
      const node = await rotateBadgeId(sql, c.req.param('id'), clock.now(), acting(c));
      rotated();
      return c.json(nodeView(node, clock.now(), deps.publicUrl, principalOf(c)));
    },
  );
  return app;
}
