// Answers that are sent many times over (a published page, a badge) are prepared once, when they are
// computed: the UTF-8 bytes, their gzip and brotli, an ETag, and the header object of each, so each
// answer only picks one and hands its bytes to the socket. A 20-component page is 187 KiB of
// repetitive markup (11 KiB gzipped, 8 KiB brotli); compressing both costs ~1.5 ms each, once per
// cache period, while building Headers and negotiating per request was what each reader cost
// beyond node:http itself.

import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Context } from 'hono';

type Coding = 'br' | 'gzip' | 'identity';

/** One ready answer: its status, its header object and its bytes (none for a 304). */
export interface Answer {
  status: 200 | 304;
  body: Uint8Array<ArrayBuffer> | null;
  headers: Record<string, string>;
}

type Variant = Answer & { body: Uint8Array<ArrayBuffer> };

export interface EncodedBody {
  /** Weak: it names the content, which each coding carries alike (RFC 9110 §8.8.3). */
  etag: string;
  variants: Record<Coding, Variant>;
  /** The 304: the validators and caching rules the 200 would have sent. */
  notModified: Answer;
}

/*
 * Brotli quality 6: on a 20-component page 8.1 KiB in ~1.5 ms, against 7.7 KiB in 8-22 ms at 9 and
 * 5.2 KiB in ~700 ms at 11 (the default), which would hold the event loop once per period for
 * longer than a thousand readers' answers take.
 */
const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: 6, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } };

/**
 * `headers`: what every answer carries (content type, cache control, ...), in lower case. `tagged`:
 * what the ETag is made of, when less of the text than all of it changes its meaning (a page's
 * "Updated" time).
 */
export function encodeBody(text: string, headers: Record<string, string>, tagged: string = text): EncodedBody {
  const raw = new Uint8Array(Buffer.from(text, 'utf8'));
  const etag = `W/"${createHash('sha256').update(tagged, 'utf8').digest('base64url').slice(0, 22)}"`;
  const common = { ...headers, vary: 'accept-encoding', etag };
  const identity: Variant = { status: 200, body: raw, headers: { ...common, 'content-length': String(raw.byteLength) } };
  // A body too small to gain (a badge's JSON) is sent as it is whatever the client takes.
  const variant = (body: Uint8Array<ArrayBuffer>, coding: Coding): Variant =>
    body.byteLength < raw.byteLength ? { status: 200, body, headers: { ...common, 'content-encoding': coding, 'content-length': String(body.byteLength) } } : identity;
  return {
    etag,
    variants: {
      br: variant(new Uint8Array(brotliCompressSync(raw, BROTLI)), 'br'),
      gzip: variant(new Uint8Array(gzipSync(raw)), 'gzip'),
      identity,
    },
    notModified: { status: 304, body: null, headers: { etag, vary: 'accept-encoding', ...(headers['cache-control'] ? { 'cache-control': headers['cache-control'] } : {}) } },
  };
}

/** Whether an Accept-Encoding list takes `coding` (named or by `*`, without q=0). */
function accepts(header: string, coding: Coding): boolean {
  return header.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== coding && name !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

// Browsers send one of a handful of Accept-Encoding values, so each is read once; a client
// inventing a new value per request only refills this table, bounded.
const chosen = new Map<string, Coding>();
const CHOSEN_MAX = 256;

/** Brotli when the client takes it (the smallest), else gzip, else the bytes as they are. */
function coding(header: string | undefined): Coding {
  if (!header) return 'identity';
  let c = chosen.get(header);
  if (c === undefined) {
    c = accepts(header, 'br') ? 'br' : accepts(header, 'gzip') ? 'gzip' : 'identity';
    if (chosen.size >= CHOSEN_MAX) chosen.clear();
    chosen.set(header, c);
  }
  return c;
}

/** Whether If-None-Match names this content (weak comparison, as RFC 9110 §13.1.2 asks). */
function unchanged(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  // The opaque part with its quotes: a tag cannot contain a quote, so a match is this whole tag.
  return ifNoneMatch.trim() === '*' || ifNoneMatch.includes(etag.slice(2));
}

/**
 * 304 when the client already holds this content, else the best coding it takes: one of the kept
 * answers, from the request's If-None-Match and Accept-Encoding, so the app and the node:http fast
 * path (fast-public.ts) choose alike.
 */
export function answerFor(body: EncodedBody, ifNoneMatch: string | undefined, acceptEncoding: string | undefined): Answer {
  return unchanged(ifNoneMatch, body.etag) ? body.notModified : body.variants[coding(acceptEncoding)];
}

/**
 * answerFor() as the app's Response, built from the kept header object: through c.body() each
 * answer would copy it into a new Headers and @hono/node-server would copy that back into an
 * object for node:http.
 */
export function sendEncoded(c: Context, body: EncodedBody): Response {
  const a = answerFor(body, c.req.header('if-none-match'), c.req.header('accept-encoding'));
  return new Response(a.body, { status: a.status, headers: a.headers });
}
