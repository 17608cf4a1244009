import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/logger.ts';

/** A logger writing into an array of parsed lines. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('info', out), lines };
}

const SECRETS = ['Bearer llk_header', 'lln_node', 'whsec_sign', 'R0UTINGKEY', 'https://hooks.slack.com/services/T/B/x', 'hunter2', 'llk_key'];

describe('log redaction', () => {
  it('censors credentials at any depth, in arrays, under any spelling of the name', () => {
    const { log, lines } = capture();
    log.info(
      {
        request: { headers: { Authorization: SECRETS[0], 'content-type': 'application/json' } },
        deliveries: [{ channel: { config: { routing_key: SECRETS[3], deeper: { webhookUrl: SECRETS[4] } } } }],
        a: { b: { c: { d: { e: { node: { token: SECRETS[1], name: 'web-1' } } } } } },
        channel: { type: 'webhook', config: { url: 'https://example.com/hook', secret: SECRETS[2] } },
        user: { password: SECRETS[5], api_key: SECRETS[6] },
      },
      'a request',
    );
    const text = JSON.stringify(lines);
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    const [line] = lines as [Record<string, any>];
    // What is not a credential is kept, and the shape stays readable.
    assert.equal(line.msg, 'a request');
    assert.equal(line.request.headers['content-type'], 'application/json');
    assert.equal(line.request.headers.Authorization, '[redacted]');
    assert.equal(line.a.b.c.d.e.node.name, 'web-1');
    assert.equal(line.a.b.c.d.e.node.token, '[redacted]');
    assert.equal(line.deliveries[0].channel.config.deeper.webhookUrl, '[redacted]');
    assert.equal(line.channel.config.url, '[redacted]');
    assert.equal(line.channel.type, 'webhook');
  });

  it('censors what an error carries but keeps its message and stack', () => {
    const { log, lines } = capture();
    const err = Object.assign(new Error('delivery failed'), { config: { routing_key: 'R0UTINGKEY' } });
    log.error({ err, cause: { node_token: 'lln_node' } }, 'failed');
    const text = JSON.stringify(lines);
    assert.ok(!text.includes('R0UTINGKEY') && !text.includes('lln_node'), text);
    const [line] = lines as [Record<string, any>];
    assert.equal(line.err.type, 'Error');
    assert.equal(line.err.message, 'delivery failed');
    assert.match(line.err.stack, /delivery failed/);
    assert.equal(line.err.config.routing_key, '[redacted]');
  });

  it("masks a URL's password in the message, in any string field and in an error's message and stack", () => {
    const { log, lines } = capture();
    const err = new Error('connect ECONNREFUSED for redis://:errpw@127.0.0.1:6399');
    log.warn({ redis: 'redis://:fieldpw@127.0.0.1:6399/8', err }, 'notification queues on Redis at redis://:msgpw@127.0.0.1:6399/8');
    const text = JSON.stringify(lines);
    for (const secret of ['errpw', 'fieldpw', 'msgpw']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    const [line] = lines as [Record<string, any>];
    assert.equal(line.msg, 'notification queues on Redis at redis://:***@127.0.0.1:6399/8');
    assert.equal(line.redis, 'redis://:***@127.0.0.1:6399/8');
    assert.equal(line.err.message, 'connect ECONNREFUSED for redis://:***@127.0.0.1:6399');
  });

  it('leaves objects without credentials as they are and survives cycles', () => {
    const { log, lines } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    log.info({ cyclic, at: new Date('2026-11-21T10:00:00.000Z'), count: 3 }, 'plain');
    const [line] = lines as [Record<string, any>];
    assert.equal(line.count, 3);
    assert.equal(line.at, '2026-11-21T10:00:00.000Z');
    assert.equal(line.cyclic.name, 'loop');
    assert.equal(line.cyclic.self, '[circular]');
  });
});

describe('log redaction by the rule the audit log hides by', () => {
  it('censors a field whose name has a credential word as a part, and a token in any URL', () => {
    const { log, lines } = capture();
    log.info({ db_password: 'pw-1', DB_PASS: 'pw-2', credentials: 'cr-3', auth: 'au-4', dsn_url: 'https://dsn-5', link: 'https://x.example/a?token=tk-6&page=2', ping_key: 'pk-7', url: 'https://u-8', hook_url: 'https://h-9', pingUrl: 'https://p-10' }, 'fields');
    const text = JSON.stringify(lines);
    for (const secret of ['pw-1', 'pw-2', 'cr-3', 'au-4', 'dsn-5', 'tk-6', 'pk-7', 'u-8', 'h-9', 'p-10']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.equal((lines[0] as Record<string, unknown>).link, 'https://x.example/a?token=***&page=2');
  });

  it('keeps fields that only look like one in part: an outbox event key, monkey, passes, author, the console\'s URL', () => {
    const { log, lines } = capture();
    const fields = { key: 'node-7', monkey: 'banana', failed_passes: 2, author: 'ann', topic: 'node.deleted', path: '/v1/nodes?limit=5', console_url: 'http://localhost:8080/' };
    log.info(fields, 'fields');
    const [line] = lines as [Record<string, unknown>];
    for (const [k, v] of Object.entries(fields)) assert.equal(line[k], v);
  });
});
