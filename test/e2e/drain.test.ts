import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { createSql } from '../../src/db/client.ts';
import { dropDatabases, freshDatabaseName, urlFor } from '../helpers/db.ts';
import { EngineProcess, callEngine, engineEnv } from '../helpers/engine-process.ts';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const dbName = freshDatabaseName();
after(() => dropDatabases([dbName]));

/** Keep-alive clients beating at once, as the fleet of one busy api process does. */
const CLIENTS = 8;
/** A bound on each client's loop: it ends long before, on the answer that says to move on. */
const MOST_BEATS = 200_000;

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/** One request through `agent` (keep-alive, or a fresh connection with `false`), with the answer's Connection header. */
function send(port: number, agent: Agent | false, method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

interface Beats {
  /** How many heartbeats were answered 202, and the seq of the last. */
  accepted: number;
  lastSeq: number;
  /** Anything but a 202, and any failure of the connection (ECONNRESET, ECONNREFUSED, …). */
  failures: string[];
  /** Whether the last answer carried `Connection: close`: the client moves to another replica. */
  toldToLeave: boolean;
}

/**
 * An agent on one keep-alive connection sending heartbeats back to back. It leaves this process as
 * a client behind a balancer would, on the first answer that carries `Connection: close`, or on a
 * failure; `first` resolves at its first 202.
 */
function beater(port: number, token: string): { first: Promise<void>; done: Promise<Beats> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const beats: Beats = { accepted: 0, lastSeq: 0, failures: [], toldToLeave: false };
  let firstAccepted!: () => void;
  const first = new Promise<void>((resolve) => (firstAccepted = resolve));
  const done = (async () => {
    try {
      for (let seq = 1; seq <= MOST_BEATS; seq++) {
        let answer: Answer;
        try {
          answer = await send(port, agent, 'POST', '/v1/heartbeats', token, { status: 'ok', seq });
        } catch (err) {
          beats.failures.push((err as NodeJS.ErrnoException).code ?? (err as Error).message);
          break;
        }
        if (answer.status === 202) {
          beats.accepted++;
          beats.lastSeq = seq;
          firstAccepted();
        } else beats.failures.push(`${answer.status} ${answer.body}`);
        if (answer.connection === 'close') {
          beats.toldToLeave = true;
          break;
        }
      }
      return beats;
    } finally {
      agent.destroy();
    }
  })();
  return { first, done };
}

describe('an api process told to stop while keep-alive clients beat', () => {
  it('drains: /readyz 503 at once, every answer says Connection: close, no connection reset, and every 202 is stored', async () => {
    const engine = EngineProcess.start(
      engineEnv(dbName, ADMIN, {
        // Longer than the test: the drain ends because its clients have left, not by its clock.
        LIFELINE_DRAIN_MS: '300000',
        // Only the stop's own flush can write what was accepted during the drain.
        LIFELINE_INGEST_FLUSH_MS: '10000',
        // The clients beat back to back, thousands a minute per node.
        LIFELINE_NODE_TOKEN_RATE_LIMIT: '0',
      }),
    );
    let held: Socket | undefined;
    try {
      const port = await engine.listeningPort();
      const origin = `http://127.0.0.1:${port}`;
      const nodes = await Promise.all(
        Array.from({ length: CLIENTS }, (_, i) => callEngine(origin, ADMIN, 'POST', '/v1/nodes', { name: `beater-${i}` }) as Promise<{ id: string; token: string }>),
      );

      // A request still arriving when the stop begins: its headers are not complete yet.
      held = connect({ host: '127.0.0.1', port });
      await once(held, 'connect');
      held.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
      const heldAnswer: Buffer[] = [];
      held.on('data', (c: Buffer) => heldAnswer.push(c));
      const heldClosed = once(held, 'close');

      const beaters = nodes.map((n) => beater(port, n.token));
      await Promise.all(beaters.map((b) => b.first));
      engine.kill('SIGTERM');
      await engine.waitFor((l) => l.msg.startsWith('stopping'));

      // Balancers read readiness on new connections: not ready from the first moment, alive still.
      const ready = await send(port, false, 'GET', '/readyz');
      assert.equal(ready.status, 503, ready.body);
      assert.equal(JSON.parse(ready.body).status, 'draining');
      assert.equal(ready.connection, 'close');
      const live = await send(port, false, 'GET', '/healthz');
      assert.equal(live.status, 200);
      // A new connection during the drain is still served, and told to leave after its answer.
      const late = await send(port, false, 'POST', '/v1/heartbeats', nodes[0]!.token, { status: 'degraded', seq: MOST_BEATS + 1 });
      assert.equal(late.status, 202, late.body);
      assert.equal(late.connection, 'close');

      const results = await Promise.all(beaters.map((b) => b.done));
      for (const [i, r] of results.entries()) {
        assert.deepEqual(r.failures, [], `client ${i}: ${JSON.stringify(r)}`);
        assert.ok(r.toldToLeave, `client ${i} was told Connection: close: ${JSON.stringify(r)}`);
      }

      // The request that was arriving is answered, and its connection closed after it.
      held.write('\r\n');
      await heldClosed;
      const answer = Buffer.concat(heldAnswer).toString();
      assert.match(answer, /^HTTP\/1\.1 200 /);
      assert.match(answer, /\r\nconnection: close\r\n/i);

      const { code } = await engine.exited;
      assert.equal(code, 0, engine.said());

      const sql = createSql(urlFor(dbName), { dedicated: true });
      try {
        const rows = await sql<{ node_id: string; received: number; last_seq: number; last_status: string }[]>`
          select node_id::text, received::int, last_seq::int, last_status from node_heartbeats`;
        const byNode = new Map(rows.map((r) => [r.node_id, r]));
        for (const [i, n] of nodes.entries()) {
          const r = results[i]!;
          const stored = byNode.get(n.id);
          const expected = i === 0 ? { received: r.accepted + 1, last_seq: MOST_BEATS + 1, last_status: 'degraded' } : { received: r.accepted, last_seq: r.lastSeq, last_status: 'ok' };
          assert.deepEqual(stored && { received: stored.received, last_seq: stored.last_seq, last_status: stored.last_status }, expected, `node beater-${i}`);
        }
      } finally {
        await sql.end();
      }
    } finally {
      held?.destroy();
      engine.kill('SIGKILL');
      await engine.exited;
    }
  });
});
