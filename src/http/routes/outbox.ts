import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type DeadEvent } from '../../api/shapes.ts';
import { listDeadOutbox, replayDeadOutbox } from '../../outbox/store.ts';
import { requireScope, type AuthEnv } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { notFound } from '../../errors.ts';
import { operationDocs } from '../openapi.ts';
import { decodeCursor, page, Paging, query } from '../validation.ts';

const MAX_BIGINT = 2n ** 63n - 1n;
export const ListDead = v.object(Paging);

const isId = (k: unknown): k is string => typeof k === 'string' && /^\d{1,19}$/.test(k) && BigInt(k) <= MAX_BIGINT;

const doc = operationDocs('Outbox');

/** Dead outbox events: what failed for good, and a way to send them through again once fixed. */
export function outboxRoutes(deps: AppDeps) {
  const app = new Hono<AuthEnv>();
  app.use('*', requireScope('admin'));

  app.get(
    '/dead',
    doc({
      summary: 'List dead outbox events',
      description: 'Events whose handler failed on every attempt, oldest first.',
      access: 'admin',
      query: ListDead,
      ok: { status: 200, description: 'A page of dead events.', body: listOf('DeadEvent') },
    }),
    async (c) => {
      const q = query(c, ListDead);
      const rows = await listDeadOutbox(deps.sql, decodeCursor(q.cursor, isId), q.limit + 1);
      const items = rows.map((r): DeadEvent => ({
        id: r.id,
        topic: r.topic,
        key: r.key,
        payload: r.payload,
        created_at: r.created_at.toISOString(),
        attempts: r.attempts,
        last_error: r.last_error,
        died_at: r.died_at.toISOString(),
      }));
      return c.json(page(items, q.limit, (e) => e.id));
    },
  );

  app.post(
    '/dead/:id/replay',
    doc({
      summary: 'Replay a dead outbox event',
      description: "It goes back into the outbox, in order with its key's other events.",
      access: 'admin',
      id: 'The dead event id',
      ok: { status: 202, description: 'Queued again.', body: { type: 'object', required: ['replayed'], properties: { replayed: { type: 'string' } } } },
    }),
    async (c) => {
      const id = c.req.param('id');
      if (!isId(id) || !(await deps.sql.begin((tx) => replayDeadOutbox(tx, id, deps.clock.now())))) {
        throw notFound(`Dead outbox event "${id}"`);
      }
      return c.json({ replayed: id }, 202);
    },
  );
  return app;
}
