import { Hono } from 'hono';
import type { AppDeps } from '../../http/deps.ts';
import { chrome } from '../context.ts';
import type { ConsoleEnv, Guards } from '../guard.ts';
import { OPEN_COUNT_PATH, OpenCount } from '../layout.tsx';
import { html } from '../render.tsx';

/** The navigation's count of open incidents alone, which it re-reads on the live feed (OpenCount). */
export function openCountRoutes(deps: AppDeps, guards: Guards): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  app.get(OPEN_COUNT_PATH, ...guards.page, async (c) => html(c, <OpenCount count={(await chrome(c, deps)).openIncidents} />));
  return app;
}
