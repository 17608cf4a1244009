import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { clientAddress, limitKey } from '../../src/http/client-address.ts';

/** What clientAddress picks for a request from `peer` carrying `forwarded`, behind `hops` trusted proxies. */
async function pick(hops: number, peer: string | undefined, forwarded?: string): Promise<string> {
  const app = new Hono();
  app.get('/', (c) => c.text(clientAddress(c, hops)));
  const headers = forwarded === undefined ? undefined : { 'x-forwarded-for': forwarded };
  const env = peer === undefined ? undefined : { incoming: { socket: { remoteAddress: peer } } };
  const res = await app.request('/', { headers }, env);
  return res.text();
}

describe('the client address', () => {
  it('is the socket peer unless proxies are trusted: X-Forwarded-For proves nothing by itself', async () => {
    assert.equal(await pick(0, '203.0.113.9', '198.51.100.1'), '203.0.113.9');
    assert.equal(await pick(0, undefined), 'unknown');
  });

  it('is the entry the outermost trusted proxy appended', async () => {
    assert.equal(await pick(1, '10.0.0.2', 'forged, 198.51.100.1'), '198.51.100.1');
    assert.equal(await pick(2, '10.0.0.2', 'forged, 198.51.100.1, 10.0.0.1'), '198.51.100.1');
    assert.equal(await pick(2, '10.0.0.2', '198.51.100.1'), '198.51.100.1', 'fewer entries than hops: the leftmost');
    assert.equal(await pick(1, '10.0.0.2'), '10.0.0.2', 'no header: the peer');
    assert.equal(await pick(1, '10.0.0.2', 'not-an-address'), '10.0.0.2');
    assert.equal(await pick(1, '10.0.0.2', ' 2001:db8::1 '), '2001:db8::1');
  });
});

describe('what a limit counts by', () => {
  it('is an IPv4 address as it is, and an IPv4-mapped IPv6 address as its IPv4 address', () => {
    assert.equal(limitKey('198.51.100.7'), '198.51.100.7');
    assert.equal(limitKey('::ffff:198.51.100.7'), '198.51.100.7');
    assert.equal(limitKey('::ffff:c633:6407'), '198.51.100.7');
  });

  it('is the /64 of an IPv6 address, however it is written', () => {
    for (const address of ['2001:db8:1:2::1', '2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2:3:4:5.6.7.8', '2001:db8:1:2::9%eth0']) {
      assert.equal(limitKey(address), '2001:db8:1:2::/64', address);
    }
    assert.equal(limitKey('2001:db8:1:3::1'), '2001:db8:1:3::/64');
    assert.equal(limitKey('::1'), '0:0:0:0::/64');
    assert.equal(limitKey('fe80::1'), 'fe80:0:0:0::/64');
  });

  it('is any other text as it is', () => {
    assert.equal(limitKey('unknown'), 'unknown');
  });
});
