import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { EngineProcess, type LogLine } from '../helpers/engine-process.ts';

// pino's levels.
const ERROR = 50;
const FATAL = 60;

function child(mode: string, env: Record<string, string> = {}): EngineProcess {
  return EngineProcess.start(env, [process.execPath, '--import', 'tsx', 'test/helpers/uncaught-child.ts', mode]);
}

const driverFault = (l: LogLine) => l.level === ERROR && (l.err as { type?: string } | undefined)?.type === 'TypeError';

describe('a process on the pool, after an error nothing caught', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  it("survives the driver's write to a connection whose backend was terminated, and answers the next query", async () => {
    const p = child('closed-write', { DATABASE_URL: db.url });
    const ended = await p.waitFor((l) => l.msg === 'transaction ended');
    assert.equal(ended.ended, 'CONNECTION_CLOSED', 'the transaction itself failed, catchably');
    const fault = await p.waitFor(driverFault);
    assert.match(String((fault.err as { stack: string }).stack), /at Immediate\.nextWrite \(.*postgres\/src\/connection\.js/);
    const answered = await p.waitFor((l) => l.msg === 'next query answered');
    assert.deepEqual([answered.n, answered.attempt], [2, 1]);
    assert.deepEqual(await p.exited, { code: 0, signal: null }, p.said());
    assert.deepEqual(p.stderr, [], 'nothing but JSON lines');
  });

  it('recovers the connection the write failed on, after failed connects rather than a hang (a single-connection pool)', async () => {
    const p = child('closed-write-dedicated', { DATABASE_URL: db.url });
    await p.waitFor(driverFault);
    const answered = await p.waitFor((l) => l.msg === 'next query answered', 120_000);
    assert.equal(answered.n, 2);
    const failures = p.lines.filter((l) => l.msg === 'next query failed');
    assert.equal(failures.length, (answered.attempt as number) - 1);
    assert.deepEqual(await p.exited, { code: 0, signal: null }, p.said());
  });

  it("leads again on the first refresh after the lock session's backend is terminated inside a transaction, with sslmode=prefer", async () => {
    const p = child('leader-terminated', { DATABASE_URL: db.url });
    const ended = await p.waitFor((l) => l.msg === 'transaction ended');
    assert.deepEqual([ended.ended, ended.leader], ['CONNECTION_CLOSED', false], 'stepped down with the session');
    // Counted in refreshes, not seconds: each failed one is a 10 s connect timeout. The stale
    // connection failed every one of them (12 of 12 measured); a fresh pool leads at once.
    assert.deepEqual(await p.exited, { code: 0, signal: null }, p.said());
    const attempts = p.lines.filter((l) => l.msg === 'refreshed');
    assert.deepEqual(attempts.map((l) => [l.attempt, l.leader]), [[1, true]], p.said());
  });

  for (const [mode, origin, msg] of [
    ['throw', 'uncaughtException', 'a bug nobody caught'],
    ['reject', 'unhandledRejection', 'a rejection nobody handled'],
  ] as const) {
    it(`logs ${origin === 'uncaughtException' ? 'an uncaught exception' : 'an unhandled rejection'} as one JSON line, then exits 1`, async () => {
      const p = child(mode);
      assert.deepEqual(await p.exited, { code: 1, signal: null });
      const fatal = p.lines.filter((l) => l.level === FATAL);
      assert.equal(fatal.length, 1, p.said());
      assert.equal(fatal[0]!.origin, origin);
      assert.equal((fatal[0]!.err as { message: string }).message, msg);
      assert.deepEqual(p.stderr, [], 'no bare stack on stderr');
    });
  }
});
