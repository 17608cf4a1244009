import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LOCKS } from '../../src/db/locks.ts';
import { ADMIN_TOKEN, createHarness, type Harness } from '../helpers/app.ts';
import { engineEnv, EngineProcess } from '../helpers/engine-process.ts';
import { holdOpen, waitsOnLock } from '../helpers/locks.ts';
import { freePort } from '../helpers/redis-server.ts';
import { until, withPatience } from '../helpers/wait.ts';

// An api process listens before its start is complete (it applies LIFELINE_ADMIN_TOKEN once its
// port is bound), and requests wait meanwhile. Here the start waits on another start's lock on the
// bootstrap admin key, as when two api processes start together, for as long as the test holds it.
// The test must release the lock within the engine's lock_timeout (30 s) of the engine first
// waiting on it: past that the start fails, answers every held request 503 and exits 1, and the
// held heartbeats' 202s never come.

let h: Harness;

before(async () => {
  h = await createHarness();
});

after(async () => {
  await h?.close();
});

interface Answer {
  status: number;
  body: string;
  retryAfter: string | null;
}

/** `fetch`, its answer read whole. */
async function ask(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
}

describe('an api process whose start waits after it listens', () => {
  it('answers its probes at once, holds heartbeats up to LIFELINE_HELD_REQUESTS_MAX and stores them once started, and refuses past it', async () => {
    const nodes = await Promise.all(['held-a', 'held-b', 'held-c'].map((name) => h.createNode(name)));
    const otherStart = await holdOpen(h.db, (tx) => tx`select pg_advisory_xact_lock(${LOCKS.bootstrapAdmin})`);
    let released = false;
    const port = await freePort();
    const engine = EngineProcess.start(engineEnv(h.db.name, ADMIN_TOKEN, { LIFELINE_ROLES: 'api', PORT: String(port), LIFELINE_HELD_REQUESTS_MAX: '2' }));
    try {
      // The engine's pool waits on the lock only once its port is bound.
      await waitsOnLock(h.db, 'lifeline');
      const origin = `http://127.0.0.1:${port}`;

      // Three agents beat at once; two are held, the third is refused at once, nothing stored.
      const settled = new Set<number>();
      const beats = nodes.map((n, i) =>
        ask(`${origin}/v1/heartbeats`, {
          method: 'POST',
          headers: { authorization: `Bearer ${n.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ status: 'ok', seq: 1 }),
        }).then((answer) => (settled.add(i), { i, answer })),
      );
      const refused = await withPatience('a heartbeat past the cap to be refused while the start waits', Promise.race(beats));
      assert.equal(refused.answer.status, 503, refused.answer.body);
      const error = (JSON.parse(refused.answer.body) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'unavailable');
      assert.match(error.message, /is starting/);
      assert.match(refused.answer.retryAfter ?? '', /^[1-9]\d*$/);

      // The probes are answered while the start still waits: alive, not ready.
      const live = await withPatience('/healthz while the start waits', ask(`${origin}/healthz`));
      assert.deepEqual([live.status, JSON.parse(live.body)], [200, { status: 'ok' }]);
      const ready = await withPatience('/readyz while the start waits', ask(`${origin}/readyz`));
      assert.equal(ready.status, 503, ready.body);
      assert.deepEqual(JSON.parse(ready.body), { status: 'starting', queue: 'redis' });
      const metrics = await withPatience('/metrics while the start waits', ask(`${origin}/metrics`));
      assert.equal(metrics.status, 200);

      assert.deepEqual([...settled], [refused.i], 'a held heartbeat was answered before the start completed');
      await engine.waitFor((l) => l.msg.startsWith('2 requests wait for the start'));
      await otherStart.release();
      released = true;

      const answers = await Promise.all(beats);
      const accepted = answers.filter((b) => b.i !== refused.i);
      for (const { answer } of accepted) assert.equal(answer.status, 202, answer.body);
      await engine.listeningPort();
      const received = async (i: number) => (await h.heartbeatRow(nodes[i]!.id))?.received ?? 0;
      await until('the held heartbeats to be stored', async () => (await Promise.all(accepted.map(({ i }) => received(i)))).every((n) => n === 1));
      assert.equal(await received(refused.i), 0, 'the refused heartbeat was stored');

      // Started, /readyz says ready.
      assert.equal((await ask(`${origin}/readyz`)).status, 200);
    } finally {
      if (!released) await otherStart.release();
      engine.kill('SIGTERM');
      await engine.exited;
    }
  });
});
