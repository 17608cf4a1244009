import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { AppDeps } from '../http/deps.ts';
import { consoleAssets } from './assets.ts';
import { guards, type ConsoleEnv } from './guard.ts';
import { fleetRoutes } from './pages/fleet.tsx';
import { incidentRoutes } from './pages/incidents.tsx';
import { nodeRoutes } from './pages/node.tsx';
import { nodeActionRoutes } from './pages/node-actions.tsx';
import { maintenanceRoutes } from './pages/maintenance.tsx';
import { channelRoutes } from './pages/channels.tsx';
import { policyRoutes } from './pages/policies.tsx';
import { keyRoutes } from './pages/keys.tsx';
import { scheduleRoutes } from './pages/schedules.tsx';
import { userRoutes } from './pages/users.tsx';
import { signInRoutes } from './pages/sign-in.tsx';
import { refusal } from './render.tsx';

/**
 * The web console, served by the api role beside /v1. Pages are rendered on the server (hono/jsx);
 * htmx re-reads the live parts when GET /v1/events reports a change. Guards are attached route by
 * route, never as a catch-all, so the console cannot change how any other path answers.
 */
export function consoleRoutes(deps: AppDeps, authFailures: MiddlewareHandler): Hono<ConsoleEnv> {
  const g = guards(deps);
  const app = new Hono<ConsoleEnv>();
  app.route('/', consoleAssets());
  app.route('/', signInRoutes(deps, g, authFailures));
  app.route('/', fleetRoutes(deps, g));
  app.route('/', incidentRoutes(deps, g));
  app.route('/', nodeRoutes(deps, g));
  app.route('/', nodeActionRoutes(deps, g));
  app.route('/', maintenanceRoutes(deps, g));
  app.route('/', channelRoutes(deps, g));
  app.route('/', policyRoutes(deps, g));
  app.route('/', scheduleRoutes(deps, g));
  app.route('/', userRoutes(deps, g));
  app.route('/', keyRoutes(deps, g));
  return app;
}

/**
 * The answer to an address nothing serves, when a browser asked for it: a page in the console's
 * frame with a way back, not the API's JSON. /v1 and clients that do not ask for HTML (curl's
 * Accept is any type) keep the API's JSON 404.
 */
export function consoleNotFound(c: Context): Response | undefined {
  if (c.req.path === '/v1' || c.req.path.startsWith('/v1/') || !(c.req.header('accept') ?? '').includes('text/html')) return undefined;
  return refusal(c, 404, 'No such page', 'Nothing in the console lives at this address; it may be mistyped or from an older link.');
}
