import { Hono, type Context } from 'hono';
import type { AuthBudget } from '../http/auth-budget.ts';
import type { AppDeps } from '../http/deps.ts';
import { consoleAssets } from './assets.ts';
import { guards, type ConsoleEnv } from './guard.ts';
import { fleetRoutes } from './pages/fleet.tsx';
import { incidentRoutes } from './pages/incidents.tsx';
import { nodeRoutes } from './pages/node.tsx';
import { nodeActionRoutes } from './pages/node-actions.tsx';
import { nodeAddRoutes } from './pages/node-add.tsx';
import { maintenanceRoutes } from './pages/maintenance.tsx';
import { channelRoutes } from './pages/channels.tsx';
import { statusPageRoutes } from './pages/status-pages.tsx';
import { policyRoutes } from './pages/policies.tsx';
import { keyRoutes } from './pages/keys.tsx';
import { auditRoutes } from './pages/audit.tsx';
import { scheduleRoutes } from './pages/schedules.tsx';
import { userRoutes } from './pages/users.tsx';
import { signInRoutes } from './pages/sign-in.tsx';
import { openCountRoutes } from './pages/open-count.tsx';
import { failedPage, refusal } from './render.tsx';

/**
 * The web console, served by the api role beside /v1. Pages are rendered on the server (hono/jsx);
 * htmx re-reads the live parts when GET /v1/events reports a change. Guards are attached route by
 * route, never as a catch-all, so the console changes how no other path answers; only a browser's
 * navigation to an address nothing serves gets its 404 page (consoleNotFound).
 */
export function consoleRoutes(deps: AppDeps, authBudget: AuthBudget): Hono<ConsoleEnv> {
  const g = guards(deps);
  const app = new Hono<ConsoleEnv>();
  app.route('/', consoleAssets());
  app.route('/', signInRoutes(deps, g, authBudget));
  app.route('/', openCountRoutes(deps, g));
  app.route('/', fleetRoutes(deps, g));
  app.route('/', incidentRoutes(deps, g));
  app.route('/', nodeRoutes(deps, g));
  app.route('/', nodeActionRoutes(deps, g));
  app.route('/', nodeAddRoutes(deps, g));
  app.route('/', maintenanceRoutes(deps, g));
  app.route('/', statusPageRoutes(deps, g));
  app.route('/', channelRoutes(deps, g));
  app.route('/', policyRoutes(deps, g));
  app.route('/', scheduleRoutes(deps, g));
  app.route('/', userRoutes(deps, g));
  app.route('/', keyRoutes(deps, g));
  app.route('/', auditRoutes(deps, g));
  // Every console route is wrapped in this (hono's route() composes a sub-app's own onError around
  // each of its handlers), so the app's onError, and its JSON, is left to /v1 and the rest.
  app.onError((err, c) => failedPage(c, deps, err));
  return app;
}

// Addresses of the API and of what the public reads (status pages, badges, acknowledge links, ping
// URLs, the API's docs): a miss there is theirs to answer, not the console's; a status page's
// visitor has no console to go back to.
const NOT_THE_CONSOLE = /^\/(v1|status|badge|a|ping|docs)(\/|$)/;

/**
 * Whether a browser is navigating: it says so (`Sec-Fetch-Mode: navigate`, every current browser),
 * or, from one too old for that, asks for HTML and XHTML first as browsers have for twenty years. A
 * client naming text/html among others (Java's default Accept, `text/html;q=0`) or not at all
 * (curl's is any type) is not one.
 */
const navigating = (c: Context): boolean =>
  c.req.header('sec-fetch-mode') === 'navigate' || /^\s*text\/html\s*,\s*application\/xhtml\+xml/.test(c.req.header('accept') ?? '');

/**
 * The answer to an address nothing serves, when a browser navigated to it: a page in the console's
 * frame with a way back (the whole frame, navigation included, when signed in), not the API's JSON. Every other client, and every address in
 * NOT_THE_CONSOLE, keeps the API's JSON 404.
 */
export async function consoleNotFound(c: Context, deps: AppDeps): Promise<Response | undefined> {
  if (NOT_THE_CONSOLE.test(c.req.path) || !navigating(c)) return undefined;
  return refusal(c, deps, 404, 'No such page', 'Nothing in the console lives at this address; it may be mistyped or from an older link.');
}
