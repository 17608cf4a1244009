import { Hono } from 'hono';
import * as v from 'valibot';
import { SCOPES, type ApiKeyRow } from '../../access/model.ts';
import { listOf, type ApiKey, type ApiKeyWithSecret } from '../../api/shapes.ts';
import { createKey, revokeKey } from '../../access/service.ts';
import { listApiKeys } from '../../access/store.ts';
import { isUuid } from '../../db/ids.ts';
import { acting } from '../acting.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { notFound } from '../../errors.ts';
import { operationDocs } from '../openapi.ts';
import { body, closedObject, decodeCursor, DisplayName, isNameCursor, page, Paging, query } from '../validation.ts';

export const CreateKey = closedObject({
  name: DisplayName,
  scope: v.picklist(SCOPES, 'must be admin, write, read or ingest'),
});

const render = (k: ApiKeyRow): ApiKey => ({
  id: k.id,
  name: k.name,
  scope: k.scope,
  created_at: k.created_at.toISOString(),
  revoked_at: k.revoked_at ? k.revoked_at.toISOString() : null,
});

export const ListKeys = closedObject(Paging);

const isKeyId = (k: unknown): k is string => typeof k === 'string' && isUuid(k);

const doc = operationDocs('API keys');

export function apiKeyRoutes(deps: AppDeps) {
  const app = new Hono<AuthEnv>();
  app.use('*', requireScope('admin'));

  app.post(
    '/',
    doc({
      summary: 'Create an API key',
      description: 'The answer carries the secret, shown only this once.',
      access: 'admin',
      body: CreateKey,
      ok: { status: 201, description: 'The key and its secret.', body: 'ApiKeyWithSecret' },
    }),
    async (c) => {
      const input = await body(c, CreateKey);
      const { key, secret } = await createKey(deps.sql, input, deps.clock.now(), acting(c));
      const answer: ApiKeyWithSecret = { ...render(key), secret };
      return c.json(answer, 201);
    },
  );

  app.get(
    '/',
    doc({
      summary: 'List API keys',
      description: 'By name (then id), revoked ones too; never a secret.',
      access: 'admin',
      query: ListKeys,
      ok: { status: 200, description: 'A page of keys.', body: listOf('ApiKey') },
    }),
    async (c) => {
      const q = query(c, ListKeys);
      const rows = await listApiKeys(deps.sql, decodeCursor(q.cursor, isNameCursor), q.limit + 1);
      return c.json(page(rows.map(render), q.limit, (k) => [k.name, k.id]));
    },
  );

  app.delete(
    '/:id',
    doc({
      summary: 'Revoke an API key',
      description: 'It stops working at once in every process (they are told through Postgres NOTIFY). The last admin key that works is refused (409 `conflict`): create another admin key first.',
      access: 'admin',
      id: 'The key id',
      ok: { status: 204, description: 'Revoked.' },
      errors: [409],
    }),
    async (c) => {
      const id = c.req.param('id');
      if (!isKeyId(id) || !(await revokeKey(deps.sql, id, deps.clock.now(), acting(c)))) throw notFound(`API key "${id}"`);
      deps.identity.forget();
      return c.body(null, 204);
    },
  );
  return app;
}
