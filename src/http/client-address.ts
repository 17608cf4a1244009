// Who is asking, for per-client limits: the address of the TCP peer, or — only behind proxies the
// operator declared with LIFELINE_TRUST_PROXY_HOPS — the address the nearest of them saw.

import { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Context } from 'hono';

/** What @hono/node-server hands each request as `c.env`; absent under app.request() in tests. */
type NodeBindings = { incoming?: IncomingMessage } | undefined;

const UNKNOWN = 'unknown';

/**
 * The client's address. With `trustHops` = 0 it is the socket's peer: X-Forwarded-For is set by
 * whoever sends the request and proves nothing. With n trusted proxies in front, each appending the
 * address it saw, the n-th entry from the right is the one the outermost trusted proxy saw (the
 * entries left of it are the client's own claims); with fewer entries, the leftmost. An entry that
 * is not an IP address falls back to the peer.
 */
export function clientAddress(c: Context, trustHops: number): string {
  return addressOf((c.env as NodeBindings)?.incoming?.socket.remoteAddress, trustHops === 0 ? undefined : c.req.header('x-forwarded-for'), trustHops);
}

/** The same choice from the socket's peer address and the X-Forwarded-For header. */
export function addressOf(socketPeer: string | undefined, forwarded: string | undefined, trustHops: number): string {
  const peer = socketPeer ?? UNKNOWN;
  if (trustHops === 0 || !forwarded) return peer;
  const entries = forwarded.split(',').map((s) => s.trim());
  const chosen = entries[Math.max(0, entries.length - trustHops)]!;
  return isIP(chosen) ? chosen : peer;
}

/** A header of node:http's request: only Set-Cookie is ever an array (repeats of others are joined with ", "). */
export const headerOf = (incoming: IncomingMessage, name: string): string | undefined => incoming.headers[name] as string | undefined;

/**
 * What a per-client limit counts `from` by: hono's Context in the app, node:http's request on the
 * paths answered in front of hono. One rule for both, so a client spends one budget on either.
 */
export function clientKey(from: Context | IncomingMessage, trustHops: number): string {
  if (!(from instanceof IncomingMessage)) return limitKey(clientAddress(from, trustHops));
  return limitKey(addressOf(from.socket.remoteAddress, trustHops === 0 ? undefined : headerOf(from, 'x-forwarded-for'), trustHops));
}

/** The eight groups of an IPv6 address, as numbers. */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * What a per-client limit counts by: an IPv4 address, or an IPv6 address's /64 — one host usually
 * holds a whole /64, and counting each of its 2^64 addresses apart would make the limit no limit.
 * IPv4-mapped IPv6 (::ffff:1.2.3.4, how a dual-stack socket reports IPv4 peers) is the IPv4 address.
 */
export function limitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
