// What every way around hono shares (fast-heartbeat.ts, fast-public.ts; requestListener in app.ts
// tries them in turn before the app).
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Takes the request and answers it (true), or leaves it untouched for the app (false). */
export type FastPath = (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;

// @hono/node-server's test for a Host it can use as it is (a lower-case name or address, a port):
// any other Host is left to the app, whose request wrapper refuses some (400) and reads others.
export const SIMPLE_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;
