// Bodies that are sent many times over (a published page) are encoded once: UTF-8 bytes and their
// gzip, made when the page is computed, so each answer only copies bytes. A 20-component page is
// hundreds of kilobytes of repetitive markup and JSON; gzipped it is a few per cent of that.

import { gzipSync } from 'node:zlib';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface EncodedBody {
  raw: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
}

export function encodeBody(text: string): EncodedBody {
  const raw = new Uint8Array(Buffer.from(text, 'utf8'));
  return { raw, gzip: new Uint8Array(gzipSync(raw)) };
}

/** Whether Accept-Encoding takes gzip (listed without q=0). */
function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** The body gzipped when the client takes it, as it is otherwise. */
export function sendEncoded(c: Context, body: EncodedBody, status: ContentfulStatusCode, headers: Record<string, string>): Response {
  const gzip = acceptsGzip(c.req.header('accept-encoding'));
  return c.body(gzip ? body.gzip : body.raw, status, { ...headers, vary: 'accept-encoding', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
}
