import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWriteAfterClose } from '../../src/db/closed-write.ts';

const MESSAGE = "Cannot read properties of null (reading 'write')";

function typeError(message: string, firstFrame: string): TypeError {
  const err = new TypeError(message);
  err.stack = `TypeError: ${message}\n    ${firstFrame}\n    at process.processImmediate (node:internal/timers:483:21)`;
  return err;
}

describe('isWriteAfterClose', () => {
  it("knows the driver's deferred write to a closed connection, in its ESM and CommonJS builds and under pnpm", () => {
    for (const path of [
      'file:///app/node_modules/postgres/src/connection.js:255:22',
      '/app/node_modules/postgres/cjs/src/connection.js:255:22',
      '/app/node_modules/.pnpm/postgres@3.4.9/node_modules/postgres/src/connection.js:255:22',
    ]) {
      assert.equal(isWriteAfterClose(typeError(MESSAGE, `at Immediate.nextWrite (${path})`)), true, path);
    }
  });

  it('leaves every other error to crash the process', () => {
    const driver = 'file:///app/node_modules/postgres/src/connection.js:255:22';
    const cases: Array<[string, unknown]> = [
      ['the same message from our own code', typeError(MESSAGE, 'at Immediate.flush (file:///app/dist/src/outbox/dispatcher.js:40:7)')],
      ['a synchronous write, which its caller sees', typeError(MESSAGE, `at nextWrite (${driver})`)],
      ['another null in the same frame', typeError("Cannot read properties of null (reading 'end')", `at Immediate.nextWrite (${driver})`)],
      ['a copy of the driver outside node_modules', typeError(MESSAGE, 'at Immediate.nextWrite (/tmp/postgres/src/connection.js:255:22)')],
      ['not a TypeError', Object.assign(new Error(MESSAGE), { stack: typeError(MESSAGE, `at Immediate.nextWrite (${driver})`).stack })],
      ['not an error at all', MESSAGE],
    ];
    for (const [why, err] of cases) assert.equal(isWriteAfterClose(err), false, why);
  });
});
