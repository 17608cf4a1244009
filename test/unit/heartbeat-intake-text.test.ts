import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/http/errors.ts';
import { parseJson } from '../../src/http/validation.ts';
import { createMetrics } from '../../src/metrics.ts';

// parseJson skips walking a parsed body whose text holds no \u escape and is itself storable: these
// are the ways U+0000 or a lone surrogate can still get into a value, each of which must be refused.
const refused = (text: string): string[] => {
  try {
    parseJson(text);
  } catch (err) {
    assert.ok(err instanceof Error && 'details' in err, String(err));
    return (err as unknown as { details: { field: string }[] }).details.map((d) => d.field);
  }
  return assert.fail(`accepted ${JSON.stringify(text)}`);
};

describe('the text rule on a JSON body', () => {
  it('keeps a clean body, escapes of storable characters included', () => {
    assert.deepEqual(parseJson('{"status":"ok","checks":{"disk":{"status":"ok","value":0.42}}}'), { status: 'ok', checks: { disk: { status: 'ok', value: 0.42 } } });
    assert.deepEqual(parseJson('{"message":"caf\\u00e9 \\ud83d\\ude00"}'), { message: 'café 😀' });
  });

  it('refuses U+0000 and a lone surrogate however they come: escaped in a value or a key, or raw', () => {
    assert.deepEqual(refused('{"checks":{"disk":{"message":"a\\u0000b"}}}'), ['checks.disk.message']);
    assert.deepEqual(refused('{"k\\u0000":1}'), ['k\u0000']);
    assert.deepEqual(refused('{"note":"\\ud800"}'), ['note']);
    assert.deepEqual(refused('{"note":"\ud800"}'), ['note']);
  });

  it('still answers invalid JSON, raw U+0000 included, as invalid JSON', () => {
    for (const text of ['{"status":', '{"a":"\u0000"}']) {
      assert.throws(() => parseJson(text), (err: unknown) => err instanceof ApiError && err.status === 400 && err.code === 'invalid_json');
    }
  });
});

describe('accepted heartbeats in the metrics', () => {
  it('are added to the counter when it is read, once', async () => {
    const m = createMetrics();
    const accepted = async () => (await m.heartbeats.get()).values.find((v) => v.labels.result === 'accepted')?.value;
    m.acceptedHeartbeats(2);
    m.acceptedHeartbeats(3);
    assert.equal(await accepted(), 5);
    assert.equal(await accepted(), 5);
    m.acceptedHeartbeats(1);
    assert.match(await m.registry.metrics(), /lifeline_heartbeats_received_total\{result="accepted"\} 6/);
  });
});
