import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { matchedRoutes, routePath } from 'hono/route';
import { bearerSecret, type AuthEnv } from './auth.ts';
import { apiGate } from './gate.ts';
import { ping } from '../db/client.ts';
import { renderWithoutAsyncStorage } from '../web/render-context.ts';
import type { AppDeps } from './deps.ts';
import { docsPage } from './docs.ts';
import { consoleNotFound, consoleRoutes } from '../console/app.ts';
import { errorBody, failureAnswer } from './errors.ts';
import { openApiDocument, operationDocs } from './openapi.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { auditRoutes } from './routes/audit.ts';
import { eventRoutes } from './routes/events.ts';
import { heartbeatIntake, heartbeatRefusals, heartbeatRoutes } from './routes/heartbeats.ts';
import { fastHeartbeats } from './fast-heartbeat.ts';
import type { FastPath } from './fast-path.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { pingRoutes } from './routes/ping.ts';
import { outboxRoutes } from './routes/outbox.ts';
import { incidentRoutes } from './routes/incidents.ts';
import { channelRoutes } from './routes/channels.ts';
import { opensStoredSecrets } from '../channels/secret-key.ts';
import { escalationPolicyRoutes } from './routes/escalation-policies.ts';
import { maintenanceRoutes } from './routes/maintenances.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { userRoutes } from './routes/users.ts';
import { uptimeRoutes } from './routes/uptime.ts';
import { statusPageRoutes } from './routes/status-pages.ts';
import { badgeRotationRoutes } from './routes/badges.ts';
import { setupWarnings } from '../oncall/setup-warnings.ts';
import { publicSurface } from './public.ts';
import { bearerOrSession, type StreamEnv } from './session.ts';
import { refuseUnstorableText } from './validation.ts';
import { requestLimits } from './limits.ts';
import { nameRequest } from './request-id.ts';
import { within } from '../settles.ts';

const doc = operationDocs('Operations');

/**
 * Whether an Authorization header carries `secret` as its Bearer secret, compared in constant time:
 * both sides are hashed first, so neither the secret's length nor its first differing byte shows in
 * how long a wrong guess takes.
 */
function sameSecret(secret: string): (header: string | undefined) => boolean {
  const want = createHash('sha256').update(secret).digest();
  return (header) => timingSafeEqual(createHash('sha256').update(bearerSecret(header) ?? '').digest(), want);
}

// A file named by its content's hash (web/assets.ts): one label for every version of it.
const HASHED_FILE = /-[0-9a-f]{12}(\.[a-z]+)$/;

/**
 * The request histogram's route label: the pattern of the route that answered, never the path. A
 * request a middleware refused before its route (the API's gate: 401, 429, 413) is labelled with
 * that route (`/v1/heartbeats`), not the middleware's `/v1/*`; a file named by its hash is
 * labelled `…-:hash.css`, so a restyle adds no series.
 */
function routeLabel(c: Context): string {
  const at = routePath(c);
  if (c.res.status >= 400 && at.endsWith('*')) {
    const routes = matchedRoutes(c);
    for (let i = routes.length - 1; i >= 0; i--) if (routes[i]!.method !== 'ALL') return routes[i]!.path;
    return c.res.status === 404 && at === '/*' ? 'unmatched' : at;
  }
  return at.replace(HASHED_FILE, '-:hash$1');
}

const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The methods `path` has a route of its own for (middleware, registered for every method, is no
 * route), HEAD beside GET as hono answers it; none for a path no route has. Asked only on the way
 * to a 404, so a request that is answered never pays for it.
 */
function methodsOf(app: Hono<AuthEnv>, path: string): string[] {
  const methods: string[] = ROUTE_METHODS.filter((method) => app.router.match(method, path)[0].some(([[, route]]) => route.method === method));
  return methods.includes('GET') ? ['HEAD', ...methods].sort() : methods;
}

/**
 * Said by /readyz of a process whose roles work on while the queues' store is away: an api still
 * takes heartbeats, an outbox leaves new deliveries in the ledger for the sweeper.
 */
export function queueStoreDown(store: string): string {
  return `the notification queues' store (${store}) does not answer: this process works on without it; notifiers wait until it does`;
}

/** Said by /readyz of a notifier whose key cannot open the stored channel secrets. */
const SECRET_KEY_WRONG =
  'LIFELINE_SECRET_KEY cannot open the stored channel secrets: webhook, Slack and PagerDuty pages are held (no attempt spent) until a notifier with the key they were sealed with takes them; restart with that key, or set each channel secret again (PATCH /v1/channels/{id})';

/**
 * The app and, with the api role, the ways around it for the requests that dominate its load: the
 * single heartbeat (fast-heartbeat.ts) and kept pages and badges (fast-public.ts), which share the
 * app's limits and caches. requestListener() puts them together for node:http.
 */
export function createHttp(deps: AppDeps): { app: Hono<AuthEnv>; fast: FastPath[]; log: AppDeps['log'] } {
  renderWithoutAsyncStorage();
  const metricsToken = deps.metricsToken === undefined ? undefined : sameSecret(deps.metricsToken);
  const fast: FastPath[] = [];
  const app = new Hono<AuthEnv>();

  // One layer names the request and times it: a layer of hono's compose costs ~1-2 µs a request.
  app.use('*', async (c, next) => {
    const started = performance.now();
    nameRequest(c, deps.log);
    await next();
    deps.metrics.http.observe(
      { method: c.req.method, route: routeLabel(c), status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  });

  // The route's pattern, not the path: a path may hold a credential (/a/{token}, a 7-day resolve link).
  app.onError((err, c) => {
    const { status, body, headers } = failureAnswer(err, c.var.log, c.req.method, routePath(c));
    return c.json(body, status, headers);
  });
  // A path with routes for other methods only is 405 with Allow (RFC 9110 §15.5.6), in the API's
  // error shape: `PUT /v1/nodes/x` answered 404, which reads as "no such node". Otherwise a browser
  // gets the console's page where the console is served (an engine that ingests).
  app.notFound(async (c) => {
    const allow = methodsOf(app, c.req.path);
    if (allow.length && !allow.includes(c.req.method)) {
      return c.json(errorBody('method_not_allowed', `${c.req.method} is not a method of ${c.req.path}; it takes ${allow.join(', ')}.`), 405, { allow: allow.join(', ') });
    }
    return (deps.ingestor ? await consoleNotFound(c, deps) : undefined) ?? c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}.`), 404);
  });

  app.get(
    '/healthz',
    doc({ summary: 'Liveness', access: 'none', ok: { status: 200, description: 'The process runs.', body: 'Liveness' } }),
    (c) => c.json({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    doc({
      summary: 'Readiness',
      access: 'none',
      ok: {
        status: 200,
        description:
          'Postgres answers, and so does the notification queues\' store (Redis, or Postgres without REDIS_URL) in a process with the notifier role; `queue` names that store; `warnings` names what would make notifications reach nobody, and the queues\' store when it does not answer a process that can work without it.',
        body: 'Readiness',
      },
      also: [
        {
          status: 503,
          description:
            'Postgres does not answer, or, in a process with the notifier role and not the api role, the queues\' store does not answer or (`secret_key`) its LIFELINE_SECRET_KEY cannot open the stored channel secrets; `down` names which, `warnings` what to do about the key. Also from the moment the process is told to stop (SIGTERM, SIGINT), with `status: "draining"`, while it still serves for LIFELINE_DRAIN_MS: take it out of the balancer. And while its start is still under way, with `status: "starting"`: it listens already, and holds other requests until the start completes.',
          body: 'Readiness',
        },
      ],
    }),
    async (c) => {
      // Before any check: a balancer must not send traffic to a process whose start is still
      // under way (the requests would wait for it), and must move it away from one that drains
      // while it still serves it.
      const notYet = deps.starting?.() ? 'starting' : deps.draining?.() ? 'draining' : undefined;
      if (notYet) return c.json({ status: notYet, queue: deps.queue.name }, 503);
      const [pg, queue, key] = await Promise.allSettled([
        within(2000, ping(deps.sql)),
        within(2000, deps.queue.ping()),
        deps.secretKeyRequired ? within(2000, opensStoredSecrets(deps.sql, deps.secretKey)) : Promise.resolve(true),
      ]);
      const queueDown = queue.status === 'rejected';
      const down = new Set<string>();
      if (pg.status === 'rejected') down.add('postgres');
      if (queueDown && deps.notifierWithoutApi !== false) down.add(deps.queue.name);
      // A key that cannot open the stored secrets is a wrong LIFELINE_SECRET_KEY, not a blip: a
      // notifier started with it would hold every webhook, Slack and PagerDuty page, so a rolling
      // restart gated on /readyz must stop here while the processes with the right key still send.
      // A process that also takes heartbeats stays ready and says it in `warnings`, as for Redis.
      const keyWrong = key.status === 'fulfilled' && !key.value;
      if (keyWrong && deps.notifierWithoutApi !== false) down.add('secret_key');
      if (down.size) return c.json({ status: 'unavailable', queue: deps.queue.name, down: [...down], ...(keyWrong ? { warnings: [SECRET_KEY_WRONG] } : {}) }, 503);
      // Ready, but notifications may reach nobody: said here too, not only once in the start's log.
      // Readiness is the probes' verdict: warnings that fail or take longer than the probes may are
      // left out, so a Postgres that stalls after the probe still gets a 200 within 2 s, not a hang or a 500.
      const setup = await within(2000, setupWarnings(deps.sql, { emailConfigured: deps.transports?.email.configured, now: deps.clock.now(), named: false })).catch(() => []);
      const warnings = [...(queueDown ? [queueStoreDown(deps.queue.name)] : []), ...(keyWrong ? [SECRET_KEY_WRONG] : []), ...setup];
      return c.json({ status: 'ready', queue: deps.queue.name, ...(warnings.length ? { warnings } : {}) });
    },
  );

  app.get(
    '/metrics',
    doc({
      summary: 'Prometheus metrics',
      description:
        'Counters and histograms are per process; fleet gauges are read from Postgres at most once per 5 s per process, shared by the scrapes meanwhile, and a scrape waits for a read at most 1 s (then answers the last values; lifeline_metrics_read_age_seconds says how old). No label carries a node. With LIFELINE_METRICS_TOKEN set, only `Authorization: Bearer <that token>` is answered; anything else is 401.',
      access: 'none',
      ok: { status: 200, description: 'The Prometheus text exposition format.', body: { type: 'string' }, mediaType: 'text/plain' },
      also: [{ status: 401, description: 'LIFELINE_METRICS_TOKEN is set and the request does not carry it.', body: 'Error' }],
    }),
    async (c) => {
      if (metricsToken && !metricsToken(c.req.header('authorization'))) {
        return c.json(errorBody('unauthorized', 'Send Authorization: Bearer <LIFELINE_METRICS_TOKEN>.'), 401, { 'www-authenticate': 'Bearer realm="metrics"' });
      }
      const text = await deps.metrics.registry.metrics();
      return c.text(text, 200, { 'content-type': deps.metrics.registry.contentType });
    },
  );

  // Unauthenticated like /metrics: the API's shape is no secret, and agents' authors need it.
  app.get('/openapi.json', openApiDocument(app));
  app.route('/docs', docsPage('/openapi.json'));

  if (deps.ingestor) {
    // Status pages, badges and notification links, for anyone: no secret, a budget per client address.
    const limits = requestLimits(deps);
    const published = publicSurface(deps, limits);
    app.route('/', published.app);
    // Scheduled jobs' ping URLs: the key is the authority, so no Bearer and no session.
    app.route('/ping', pingRoutes(deps, deps.ingestor, limits.admitPing));
    const v1 = new Hono<AuthEnv>();
    // Before the Bearer-only middleware below: a console page listens with its session cookie.
    if (deps.feed) {
      const events = new Hono<StreamEnv>();
      events.use('*', bearerOrSession(deps.identity, deps.sql, deps.console, deps.clock, limits.authBudget));
      events.use('*', refuseUnstorableText());
      events.route('/', eventRoutes(deps.feed, deps.identity));
      v1.route('/events', events);
    }
    // Before the gate, which refuses a bad secret (401) without reaching the route.
    v1.use('/heartbeats', heartbeatRefusals(deps));
    v1.use('*', apiGate(deps, limits));
    v1.route('/api-keys', apiKeyRoutes(deps));
    v1.route('/audit', auditRoutes(deps));
    v1.route('/nodes', nodeRoutes(deps));
    const intake = heartbeatIntake(deps, deps.ingestor, limits.admitRegistrations);
    fast.push(fastHeartbeats(deps, limits, intake), published.fast);
    v1.route('/heartbeats', heartbeatRoutes(intake));
    v1.route('/outbox', outboxRoutes(deps));
    v1.route('/incidents', incidentRoutes(deps));
    v1.route('/channels', channelRoutes(deps));
    v1.route('/escalation-policies', escalationPolicyRoutes(deps));
    v1.route('/users', userRoutes(deps));
    v1.route('/schedules', scheduleRoutes(deps));
    v1.route('/maintenances', maintenanceRoutes(deps));
    v1.route('/', uptimeRoutes(deps));
    v1.route('/status-pages', statusPageRoutes(deps, published.pagesChanged));
    v1.route('/nodes', badgeRotationRoutes(deps, published.badgesChanged));
    app.route('/v1', v1);
    app.route('/', consoleRoutes(deps, limits.authBudget));
  }
  return { app, fast, log: deps.log };
}

/**
 * What node:http calls for each request: the first fast path that takes the request, the app
 * when none does. `fast: false` leaves everything to the app.
 */
export function requestListener(http: ReturnType<typeof createHttp>, o: { hostname?: string; fast?: boolean } = {}): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  const slow = getRequestListener(http.app.fetch, o.hostname === undefined ? {} : { hostname: o.hostname });
  const fast = o.fast === false ? [] : http.fast;
  if (!fast.length) return (incoming, outgoing) => void slow(incoming, outgoing);
  return (incoming, outgoing) => {
    try {
      for (const path of fast) if (path(incoming, outgoing)) return;
    } catch (err) {
      // A throw here would end the process, where the app answers a 500: the app takes the
      // request over when nothing was written yet, and the connection is dropped otherwise.
      http.log.error({ err, method: incoming.method, url: incoming.url }, 'a fast path failed');
      if (outgoing.headersSent) return void outgoing.destroy();
    }
    void slow(incoming, outgoing);
  };
}
