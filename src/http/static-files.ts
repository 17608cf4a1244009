import { readFile } from 'node:fs/promises';
import type { Handler, MiddlewareHandler } from 'hono';
import { etag } from 'hono/etag';

/**
 * Serves one file that ships with the engine (a package's script, our stylesheet): read once,
 * then revalidated by ETag — a 304 after the first visit — rather than cached for a fixed time an
 * upgrade could outlive. Nothing is fetched from elsewhere: installs are often air-gapped.
 */
export function staticFile(path: string | URL, type: string): [MiddlewareHandler, Handler] {
  let file: Promise<Uint8Array<ArrayBuffer>> | undefined;
  return [
    etag(),
    async (c) => {
      file ??= readFile(path).then((b) => new Uint8Array(b));
      return c.body(await file, 200, { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    },
  ];
}
