// Where webhook, Slack and PagerDuty messages may go. A channel's URL is chosen by whoever holds a
// write key; without these rules it could point the engine at itself (its admin API on
// 127.0.0.1), at a cloud metadata service (169.254.169.254) or at anything on the private
// network. Addresses are checked when a channel is saved and again on the address each
// connection actually uses (see post-json.ts), so a name that resolves elsewhere later (DNS
// rebinding) is caught where it matters.

import { BlockList, isIP, type LookupFunction } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { cidrParts } from '../src/config.ts';

/** The ranges refused, by what they are. */
const REFUSED: [kind: string, cidrs: string[]][] = [
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  // Reserved and broadcast, and IPv6 forms that embed an IPv4 address (NAT64, deprecated IPv4-compatible).
  ['reserved', ['240.0.0.0/4', '64:ff9b::/96', '::/96']],
];

function addCidr(list: BlockList, cidr: string): void {
  const parts = cidrParts(cidr);
  if (!parts) throw new Error(`"${cidr}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`);
  list.addSubnet(...parts);
}

const REFUSED_LISTS = REFUSED.map(([kind, cidrs]) => {
  const list = new BlockList();
  for (const cidr of cidrs) addCidr(list, cidr);
  return [kind, list] as const;
});

/** What outbound requests may reach: public addresses, and the operator's exceptions. */
export interface OutboundPolicy {
  /** LIFELINE_OUTBOUND_ALLOW_CIDRS: ranges allowed although refused by default. */
  allowed: BlockList;
}

/** The policy for these allowed CIDRs; throws on one that is not a CIDR. */
export function outboundPolicy(allowCidrs: readonly string[] = []): OutboundPolicy {
  const allowed = new BlockList();
  for (const cidr of allowCidrs) addCidr(allowed, cidr);
  return { allowed };
}

const familyOf = (address: string) => (isIP(address) === 4 ? 'ipv4' : 'ipv6');

/** Why an IP address may not be sent to (`loopback`, `private`…), or undefined when it may. */
export function refusedAddress(address: string, policy: OutboundPolicy): string | undefined {
  const family = familyOf(address);
  if (policy.allowed.check(address, family)) return undefined;
  return REFUSED_LISTS.find(([, list]) => list.check(address, family))?.[0];
}

/** The URL's host as an IP address when it is one (WHATWG URL already turned 0x7f000001 into 127.0.0.1). */
const literalAddress = (url: URL): string | undefined => {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : undefined;
};

/**
 * What is wrong with sending to this URL without looking anything up: not http(s) (or not https
 * when required), a user name or password in it, or an IP address that is refused. Undefined
 * when nothing is. A sender passes the URL it already parsed (~2 µs a parse); the HTTP poster
 * checks each URL once and keeps the answer.
 */
export function urlProblem(raw: string | URL, policy: OutboundPolicy, httpsOnly: boolean): string | undefined {
  let url: URL;
  try {
    url = typeof raw === 'string' ? new URL(raw) : raw;
  } catch {
    return 'is not a URL';
  }
  if (httpsOnly ? url.protocol !== 'https:' : url.protocol !== 'http:' && url.protocol !== 'https:') {
    return httpsOnly ? 'must be an https URL' : 'must be an http or https URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  const address = literalAddress(url);
  const refused = address === undefined ? undefined : refusedAddress(address, policy);
  return refused ? refusal(refused) : undefined;
}

const refusal = (kind: string) =>
  `points at a ${kind} address, which Lifeline does not send to (allow it with LIFELINE_OUTBOUND_ALLOW_CIDRS)`;

type Resolve = (host: string) => Promise<LookupAddress[]>;

const resolveAll: Resolve = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/**
 * urlProblem, and for a host name also every address it resolves to now. A name that does not
 * resolve yet is no problem here: sending checks again on what it resolves to then.
 */
export async function destinationProblem(raw: string, policy: OutboundPolicy, httpsOnly: boolean, resolve: Resolve = resolveAll): Promise<string | undefined> {
  const problem = urlProblem(raw, policy, httpsOnly);
  if (problem) return problem;
  const url = new URL(raw);
  if (literalAddress(url) !== undefined) return undefined;
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(url.hostname);
  } catch {
    return undefined;
  }
  const refused = addresses.map((a) => refusedAddress(a.address, policy)).find(Boolean);
  return refused ? refusal(refused) : undefined;
}

/** Thrown through a connection's lookup when a name resolved to a refused address. */
export class RefusedDestination extends Error {
  override readonly name = 'RefusedDestination';
}

/**
 * A `lookup` for http.request: resolves as usual and hands the socket only addresses the policy
 * allows, so the address checked is the address connected to (one lookup per connection; there
 * is no second resolution to rebind).
 */
export function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      const allowed = list.filter((a) => refusedAddress(a.address, policy) === undefined);
      if (allowed.length === 0) {
        const kind = list.map((a) => refusedAddress(a.address, policy)).find(Boolean) ?? 'refused';
        return callback(new RefusedDestination(`${hostname} resolves to a ${kind} address, which Lifeline does not send to`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
