import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyHttpStatus, DeliveryError } from '../../alerting/errors.ts';

const NOW = new Date('2026-11-21T10:00:00.000Z');

test('classifies HTTP answers: 408, 429 and 5xx retry, other 4xx and 3xx give up', () => {
  const cases: { status: number; retryAfter?: string; permanent: boolean; retryAfterMs?: number }[] = [
    { status: 400, permanent: true },
    { status: 401, permanent: true },
    { status: 403, permanent: true },
    { status: 404, permanent: true },
    { status: 410, permanent: true },
    { status: 422, permanent: true },
    { status: 301, permanent: true },
    { status: 408, permanent: false },
    { status: 429, permanent: false },
    { status: 500, permanent: false },
    { status: 502, permanent: false },
    { status: 503, permanent: false },
    { status: 504, permanent: false },
    // Retry-After as delay-seconds and as an HTTP-date, relative to now.
    { status: 429, retryAfter: '120', permanent: false, retryAfterMs: 120_000 },
    { status: 503, retryAfter: ' 0 ', permanent: false, retryAfterMs: 0 },
    { status: 429, retryAfter: 'Sat, 21 Nov 2026 10:01:30 GMT', permanent: false, retryAfterMs: 90_000 },
    { status: 503, retryAfter: 'Sat, 21 Nov 2026 09:00:00 GMT', permanent: false, retryAfterMs: 0 },
    // A malformed Retry-After is ignored rather than guessed at.
    { status: 429, retryAfter: 'soon', permanent: false },
    { status: 429, retryAfter: '-5', permanent: false },
    { status: 429, retryAfter: '2026-11-21T10:01:30Z', permanent: false },
    // A permanent failure has no retry delay, whatever the receiver says.
    { status: 410, retryAfter: '60', permanent: true },
  ];
  for (const c of cases) {
    const err = classifyHttpStatus(c.status, c.retryAfter, NOW);
    const label = `${c.status} Retry-After ${c.retryAfter ?? '(none)'}`;
    assert.ok(err instanceof DeliveryError, label);
    assert.equal(err.code, `http_${c.status}`, label);
    assert.equal(err.permanent, c.permanent, label);
    assert.equal(err.retryAfterMs, c.retryAfterMs, label);
  }
});

test('a DeliveryError is an Error that names itself and keeps its cause', () => {
  const cause = new Error('ECONNRESET');
  const err = new DeliveryError('could not reach receiver', { permanent: false, code: 'network', cause });
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'DeliveryError');
  assert.equal(err.cause, cause);
  assert.equal(err.retryAfterMs, undefined);
});

test('the message is Lifeline’s own sentence: the status, never the receiver’s words', () => {
  assert.equal(classifyHttpStatus(400, null, NOW).message, 'receiver answered HTTP 400');
});
