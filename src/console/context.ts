import type { ConsoleSession } from '../access/sessions.ts';
import { countUnacknowledged } from '../incidents/store.ts';
import type { AppDeps } from '../http/deps.ts';
import { unaddressableName, type NodeRow } from '../nodes/model.ts';
import { encodeCursor, unstorableText } from '../http/validation.ts';
import type { ConsoleContext } from './guard.ts';
import type { Chrome } from './layout.tsx';

/**
 * What the page frame needs: the session, and how many incidents are open — not yet acknowledged,
 * what the incidents page's "open" tab lists, so the badge drops as soon as someone takes one.
 */
export function chrome(c: ConsoleContext, deps: AppDeps): Promise<Chrome> {
  return chromeOf(c.get('session'), deps);
}

/** The frame for a session a page may not have from the guards: every refusal's (refusal() in render.tsx). */
export async function chromeOf(session: ConsoleSession, deps: AppDeps): Promise<Chrome> {
  return { session, openIncidents: await countUnacknowledged(deps.sql) };
}

/**
 * An address a page gives to copy (a ping, heartbeat or badge URL): `path` under where agents,
 * crontabs and READMEs reach this engine, LIFELINE_PUBLIC_URL, or without it under
 * ENGINE_PLACEHOLDER, which the page then explains with <EngineUnset/>.
 * Not the origin the page was asked at: @hono/node-server builds that from the socket (http behind a
 * TLS proxy) and the Host header (often the upstream's), and a pasted `curl -fsS http://…/ping/KEY`
 * answered by the proxy's 301 exits 0 without following it: every ping lost, silently. The API's
 * ping_url is null and the CLI prints the same placeholder for the same reason.
 */
export const engineAddress = (deps: AppDeps, path: string): string => (deps.publicUrl ?? ENGINE_PLACEHOLDER) + path;

/** What an address to copy starts with while LIFELINE_PUBLIC_URL is unset: visibly not one to paste as is. */
export const ENGINE_PLACEHOLDER = '<LIFELINE_PUBLIC_URL>';

/** A console URL with these query parameters, leaving out the empty ones. */
export function href(path: string, params: Record<string, string | number | readonly string[] | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    // A list is the parameter repeated, as `?label=a&label=b`.
    for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined && one !== null && one !== '') q.append(k, String(one));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/**
 * A node's console page, by the name people read and type; by id for a node still named "." or
 * "..", which a URL path cannot carry (such names are refused now, but older nodes may keep them).
 */
export const nodePath = (n: Pick<NodeRow, 'id' | 'name'>) => `/nodes/${encodeURIComponent(unaddressableName(n.name) ? n.id : n.name)}`;

export const cursor = encodeCursor;

/** A cursor from a link this console made; anything else (edited by hand) starts from the top. */
export function readCursor<T>(raw: string | undefined, check: (k: unknown) => k is T): T | undefined {
  if (raw === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return unstorableText(key, 1).length === 0 && check(key) ? key : undefined;
  } catch {
    return undefined;
  }
}
