import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testFailure } from '../../src/console/pages/channels.tsx';

// A failed channel test as the console says it: the stored `code: message` (the API returns it as
// it is) in people's words, a system error's code kept in brackets for whoever searches for it.

describe("a failed channel test in people's words", () => {
  it('drops the machine code and says what a system error code means', () => {
    assert.equal(testFailure('http_500: receiver answered HTTP 500'), 'The receiver answered HTTP 500');
    assert.equal(testFailure('network: could not reach the receiver (ENOTFOUND)'), 'Could not reach the receiver: no such host (ENOTFOUND)');
    assert.equal(testFailure('network: could not reach the receiver (ECONNREFUSED)'), 'Could not reach the receiver: nothing answers at that address and port (ECONNREFUSED)');
    assert.equal(testFailure('timeout: receiver did not answer within 10000 ms'), 'The receiver did not answer within 10000 ms');
    // A code it has no words for is left as it is.
    assert.equal(testFailure('network: could not reach SMTP server (EPROTO)'), 'Could not reach SMTP server (EPROTO)');
  });
});
