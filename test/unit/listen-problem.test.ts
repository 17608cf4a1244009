import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ConfigError, HELD_REQUESTS_MAX } from '../../src/config.ts';
import { consoleUrl, listenProblem, START_RETRY_AFTER_S, StartGate } from '../../workers/listen.ts';

function listenError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`listen ${code}`), { code, syscall: 'listen' });
}

describe('listenProblem', () => {
  it('names PORT for a port in use or not allowed, HOST for an address or name this host cannot use', () => {
    const variables = ['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_NONAME', 'EAI_AGAIN', 'EAFNOSUPPORT'].map((code) => {
      const problem = listenProblem(listenError(code), '127.0.0.1', 8080);
      assert.ok(problem instanceof ConfigError, code);
      return problem.variable;
    });
    assert.deepEqual(variables, ['PORT', 'PORT', 'HOST', 'HOST', 'HOST', 'HOST', 'HOST']);
  });

  it('returns any other error as it came, stack and all, since no setting fixes it', () => {
    for (const code of ['EMFILE', 'ENFILE', 'ENOMEM', 'EPERM']) {
      const err = listenError(code);
      assert.equal(listenProblem(err, '127.0.0.1', 8080), err, code);
    }
    const uncoded = new Error('something else');
    assert.equal(listenProblem(uncoded, '127.0.0.1', 8080), uncoded);
  });
});

describe('consoleUrl', () => {
  it('is LIFELINE_PUBLIC_URL when set, else localhost for every interface, else the one address listened on', () => {
    assert.equal(consoleUrl('https://lifeline.example.com', '0.0.0.0', 8080), 'https://lifeline.example.com/');
    assert.equal(consoleUrl(undefined, '0.0.0.0', 8080), 'http://localhost:8080/');
    assert.equal(consoleUrl(undefined, '::', 8080), 'http://localhost:8080/');
    assert.equal(consoleUrl(undefined, '127.0.0.1', 41234), 'http://127.0.0.1:41234/');
    assert.equal(consoleUrl(undefined, '::1', 8080), 'http://[::1]:8080/');
    assert.equal(consoleUrl(undefined, 'lifeline.lan', 8080), 'http://lifeline.lan:8080/');
  });
});

describe('StartGate', () => {
  /** A request and its response, the response recording how it was answered. */
  const request = (url: string, method = 'GET') => {
    const incoming = Object.assign(new EventEmitter(), { url, method, destroyed: false });
    const outgoing = {
      status: undefined as number | undefined,
      headers: {} as Record<string, string>,
      ended: false,
      body: '',
      shouldKeepAlive: true,
      writeHead(status: number, headers: Record<string, string> = {}) {
        this.status = status;
        this.headers = headers;
        return this;
      },
      end(body?: string) {
        this.ended = true;
        this.body = body ?? '';
        return this;
      },
    };
    return [incoming as unknown as IncomingMessage & typeof incoming, outgoing as unknown as ServerResponse & typeof outgoing] as const;
  };
  const gateOf = (o: { max?: number; full?: (max: number) => void } = {}) => {
    const answered: string[] = [];
    const gate = new StartGate({ max: o.max ?? HELD_REQUESTS_MAX, ...(o.full ? { full: o.full } : {}) });
    return { gate, answered, listener: gate.wrap((incoming) => void answered.push(`${incoming.method} ${incoming.url}`)) };
  };
  const codeOf = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

  it('answers the requests that came before it opened, in order, then each as it comes', () => {
    const { gate, answered, listener } = gateOf();
    listener(...request('/v1/heartbeats', 'POST'));
    listener(...request('/v1/nodes'));
    assert.deepEqual(answered, [], 'answered before the admin keys were applied');
    assert.equal(gate.starting, true);
    gate.open();
    assert.equal(gate.starting, false);
    assert.deepEqual(answered, ['POST /v1/heartbeats', 'GET /v1/nodes']);
    listener(...request('/v1/nodes/x', 'DELETE'));
    assert.deepEqual(answered, ['POST /v1/heartbeats', 'GET /v1/nodes', 'DELETE /v1/nodes/x']);
  });

  it('lets the probes through while it holds, so a probe with a short timeout gets an answer', () => {
    const { answered, listener } = gateOf();
    for (const [url, method] of [['/healthz', 'GET'], ['/readyz', 'GET'], ['/readyz?verbose', 'GET'], ['/metrics', 'GET'], ['/healthz', 'HEAD']] as const) listener(...request(url, method));
    assert.deepEqual(answered, ['GET /healthz', 'GET /readyz', 'GET /readyz?verbose', 'GET /metrics', 'HEAD /healthz']);
    // Anything else waits: a write to a probe's path, or a path that only begins like one.
    for (const [url, method] of [['/healthz', 'POST'], ['/healthzz', 'GET'], ['/metrics/x', 'GET'], ['/readyz/', 'GET']] as const) listener(...request(url, method));
    assert.equal(answered.length, 5);
  });

  it('holds up to max requests; past them answers 503 with Retry-After, saying so once, and a client that left frees its place', () => {
    const full: number[] = [];
    const { gate, answered, listener } = gateOf({ max: 2, full: (max) => full.push(max) });
    const [leavingIncoming, leaving] = request('/v1/heartbeats', 'POST');
    listener(leavingIncoming, leaving);
    listener(...request('/v1/nodes'));
    const refused = [request('/v1/heartbeats', 'POST'), request('/v1/heartbeats', 'POST')];
    for (const r of refused) listener(...r);
    for (const [, outgoing] of refused) {
      assert.deepEqual([outgoing.status, outgoing.ended, outgoing.shouldKeepAlive, outgoing.headers['retry-after']], [503, true, false, String(START_RETRY_AFTER_S)]);
      assert.equal(codeOf(outgoing.body), 'unavailable');
    }
    assert.deepEqual(full, [2], 'said once that the hold is full');
    // A client that gave up (its timeout) no longer counts, and is not answered once open.
    leavingIncoming.emit('close');
    const [keptIncoming, kept] = request('/v1/nodes/a');
    listener(keptIncoming, kept);
    assert.equal(kept.status, undefined, 'refused while a place was free');
    // node:http tells a destroyed request's close a tick later: one destroyed just before the
    // start completes is not answered either.
    keptIncoming.destroyed = true;
    gate.open();
    assert.deepEqual(answered, ['GET /v1/nodes']);
  });

  it('with max 0 holds none: answers every request but the probes 503 with Retry-After until it opens', () => {
    const { gate, answered, listener } = gateOf({ max: 0 });
    const [incoming, outgoing] = request('/v1/nodes');
    listener(incoming, outgoing);
    listener(...request('/readyz'));
    assert.deepEqual([outgoing.status, outgoing.headers['retry-after'], answered], [503, String(START_RETRY_AFTER_S), ['GET /readyz']]);
    gate.open();
    listener(...request('/v1/nodes'));
    assert.deepEqual(answered, ['GET /readyz', 'GET /v1/nodes']);
  });

  it('answers 503 to the requests held when the start fails, and to every one after, probes too, holding none', () => {
    const { gate, answered, listener } = gateOf();
    const [incoming, outgoing] = request('/v1/nodes');
    listener(incoming, outgoing);
    gate.drop();
    assert.equal(gate.starting, false);
    // Held again, a later request kept its connection, and the process, waiting for ever.
    const later = [request('/v1/nodes'), request('/readyz')];
    for (const r of later) listener(...r);
    assert.deepEqual(answered, []);
    for (const [, o] of [[incoming, outgoing], ...later] as const) {
      // Its supervisor restarts a process that did not start within moments.
      assert.deepEqual([o.status, o.ended, o.headers['retry-after']], [503, true, String(START_RETRY_AFTER_S)]);
      // In the API's error shape, as every other refusal.
      assert.equal(codeOf(o.body), 'unavailable');
    }
  });
});

describe('StartGate on a node:http server', () => {
  /** Raw HTTP/1.1 requests, to be written back to back on one connection (pipelined). */
  const raw = (...requests: [method: string, path: string, body?: string][]) =>
    requests.map(([method, path, body]) => `${method} ${path} HTTP/1.1\r\nHost: t\r\n${body === undefined ? '' : `Content-Length: ${body.length}\r\n`}\r\n${body ?? ''}`).join('');

  it('frees the place of every request pipelined on a connection its client closed, and answers none of them', async () => {
    const gate = new StartGate({ max: 3 });
    const answered: string[] = [];
    const server = createServer(
      gate.wrap((incoming, outgoing) => {
        answered.push(`${incoming.method} ${incoming.url}`);
        let body = '';
        incoming.on('data', (chunk: Buffer) => (body += chunk.toString()));
        incoming.on('end', () => outgoing.writeHead(200, { 'content-type': 'text/plain' }).end(`${incoming.method} ${incoming.url} [${body}]`));
      }),
    );
    // Every request as the server took it (after the gate), whether the gate refused it there and
    // then, and when node:http destroyed it (the gate's own close listener has run by then).
    const arrived: { refused: boolean; closed: Promise<unknown> }[] = [];
    server.on('request', (incoming: IncomingMessage, outgoing: ServerResponse) => {
      arrived.push({ refused: outgoing.writableEnded, closed: new Promise((closed) => incoming.once('close', closed)) });
    });
    const arrivals = async (n: number) => {
      while (arrived.length < n) await once(server, 'request');
    };
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const open = async (): Promise<Socket> => {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      return socket;
    };
    try {
      // One client pipelines three requests and a fourth past the cap, then leaves.
      const leaving = await open();
      leaving.write(raw(['GET', '/b1'], ['DELETE', '/b2'], ['DELETE', '/b3'], ['GET', '/b4']));
      await arrivals(4);
      assert.deepEqual(
        arrived.map((a) => a.refused),
        [false, false, false, true],
      );
      leaving.destroy();
      await Promise.all(arrived.map((a) => a.closed));

      // Every place is free again: another client's three requests are held, none refused.
      const staying = await open();
      staying.setEncoding('utf8');
      staying.write(raw(['POST', '/c', 'hello'], ['GET', '/d'], ['GET', '/e']));
      await arrivals(7);
      assert.deepEqual(
        arrived.slice(4).map((a) => a.refused),
        [false, false, false],
        'refused while the places of a closed connection were still taken',
      );

      gate.open();
      let received = '';
      while ((received.match(/HTTP\/1\.1 200/g) ?? []).length < 3) received += (await once(staying, 'data'))[0] as string;
      assert.deepEqual(answered, ['POST /c', 'GET /d', 'GET /e'], 'answered a request whose client had left');
      // The held request's body was kept for it.
      assert.match(received, /POST \/c \[hello\]/);
      staying.destroy();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
