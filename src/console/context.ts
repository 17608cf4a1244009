import { countUnacknowledged } from '../incidents/store.ts';
import type { AppDeps } from '../http/deps.ts';
import { encodeCursor, unstorableText } from '../http/validation.ts';
import type { ConsoleContext } from './guard.ts';
import type { Chrome } from './layout.tsx';

/**
 * What the page frame needs: the session, and how many incidents are open — not yet acknowledged,
 * what the incidents page's "open" tab lists, so the badge drops as soon as someone takes one.
 */
export async function chrome(c: ConsoleContext, deps: AppDeps): Promise<Chrome> {
  return { session: c.get('session'), openIncidents: await countUnacknowledged(deps.sql) };
}

/**
 * Where agents, crontabs and READMEs reach this engine, for the addresses a page gives to copy:
 * LIFELINE_PUBLIC_URL, or without it the origin this page was asked at (the browser's, which may
 * not be the agents' behind a proxy: `guessed` says so).
 */
export function engineUrl(c: ConsoleContext, deps: AppDeps): { url: string; guessed: boolean } {
  return deps.publicUrl ? { url: deps.publicUrl, guessed: false } : { url: new URL(c.req.url).origin, guessed: true };
}

/** A console URL with these query parameters, leaving out the empty ones. */
export function href(path: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

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
