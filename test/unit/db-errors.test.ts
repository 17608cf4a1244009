import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPostgresUnreachable } from '../../src/db/errors.ts';

/** An error as postgres.js fails a query with it: the statement named on it, not enumerable. */
const failedQuery = (err: Error) => Object.defineProperty(err, 'query', { value: 'select 1', enumerable: false });
const socketError = (code: string, syscall?: string) => Object.assign(new Error(code), { code, ...(syscall ? { syscall } : {}) });

describe('isPostgresUnreachable', () => {
  it('takes a connection reset that failed a query for Postgres not answering', () => {
    assert.equal(isPostgresUnreachable(failedQuery(socketError('ECONNRESET', 'read'))), true);
    assert.equal(isPostgresUnreachable(failedQuery(socketError('EPIPE', 'write'))), true);
  });

  it('not a client whose request body was cut off, nor this process ending its own pool', () => {
    // node:http's error for a request its client aborted.
    assert.equal(isPostgresUnreachable(socketError('ECONNRESET')), false);
    assert.equal(isPostgresUnreachable(failedQuery(socketError('CONNECTION_ENDED'))), false);
  });
});
