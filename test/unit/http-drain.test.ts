import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { HttpDrain, PROBE_GONE_MS, type DrainEnd } from '../../src/http/drain.ts';

const WINDOW_MS = 10_000;
const QUIET = 1_000;

/** A server that only says when a connection opens, each connection a socket that only closes. */
function fakeServer(drain: HttpDrain) {
  const server = new EventEmitter();
  drain.track(server as unknown as Server);
  return {
    connect(): () => void {
      const socket = new EventEmitter();
      server.emit('connection', socket);
      return () => socket.emit('close');
    },
  };
}

/** An answer the listener gives: `finish` once it is sent, with its status. */
function answer(handler: (incoming: IncomingMessage, outgoing: ServerResponse) => void, url: string) {
  const headers = new Map<string, string>();
  const outgoing = Object.assign(new EventEmitter(), {
    statusCode: 200,
    headersSent: false,
    shouldKeepAlive: true,
    setHeader: (k: string, v: string) => headers.set(k, v),
  });
  handler({ url, socket: new EventEmitter() } as unknown as IncomingMessage, outgoing as unknown as ServerResponse);
  return {
    headers,
    outgoing,
    send(status: number) {
      outgoing.statusCode = status;
      outgoing.emit('finish');
      outgoing.emit('close');
    },
  };
}

/** The drain's end, or undefined while it still waits (settled promises first). */
async function settled(p: Promise<DrainEnd>): Promise<DrainEnd | undefined> {
  let end: DrainEnd | undefined;
  void p.then((e) => (end = e));
  await new Promise((resolve) => setImmediate(resolve));
  return end;
}

describe('HttpDrain', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-12-08T02:00:00Z') }));
  afterEach(() => mock.timers.reset());

  it('with nobody reading /readyz, ends quietMs after the last connection closed', async () => {
    const drain = new HttpDrain();
    const server = fakeServer(drain);
    const close = server.connect();
    const end = drain.begin(WINDOW_MS, QUIET);
    mock.timers.tick(QUIET);
    assert.equal(await settled(end), undefined, 'a connection is open');
    close();
    mock.timers.tick(QUIET - 1);
    assert.equal(await settled(end), undefined);
    mock.timers.tick(1);
    assert.deepEqual(await settled(end), { by: 'quiet' });
  });

  it('a read of /readyz/, the app’s 404 and no probe, does not hold the drain for a 503 it never answers', async () => {
    const drain = new HttpDrain();
    answer(drain.wrap(() => {}), '/readyz/').send(404);
    const end = drain.begin(WINDOW_MS, QUIET);
    mock.timers.tick(QUIET);
    assert.deepEqual(await settled(end), { by: 'quiet' });
  });

  it('once /readyz was read, does not end early before a /readyz 503 was answered in the drain', async () => {
    const drain = new HttpDrain();
    const server = fakeServer(drain);
    const handler = drain.wrap(() => {});
    const probe = server.connect();
    answer(handler, '/readyz').send(200);
    probe();
    const end = drain.begin(WINDOW_MS, QUIET);
    mock.timers.tick(QUIET * 3);
    assert.equal(await settled(end), undefined, 'no connection, but the probe has not seen the drain');
    // Other clients come and go: still not the probe's 503.
    const client = server.connect();
    answer(handler, '/v1/heartbeats').send(202);
    client();
    mock.timers.tick(QUIET * 3);
    assert.equal(await settled(end), undefined);
    const told = server.connect();
    const readyz = answer(handler, '/readyz?full=1');
    assert.equal(readyz.headers.get('connection'), 'close');
    readyz.send(503);
    told();
    mock.timers.tick(QUIET - 1);
    assert.equal(await settled(end), undefined);
    mock.timers.tick(1);
    assert.deepEqual(await settled(end), { by: 'quiet' });
  });

  it('a probe never told ends by the window', async () => {
    const drain = new HttpDrain();
    const handler = drain.wrap(() => {});
    answer(handler, '/readyz').send(200);
    const end = drain.begin(WINDOW_MS, QUIET);
    mock.timers.tick(WINDOW_MS - 1);
    assert.equal(await settled(end), undefined);
    mock.timers.tick(1);
    assert.deepEqual(await settled(end), { by: 'window', open: 0 });
  });

  it('a /readyz read longer ago than a probe polls does not hold the drain (a person’s curl after start)', async () => {
    const drain = new HttpDrain();
    const handler = drain.wrap(() => {});
    answer(handler, '/readyz').send(200);
    mock.timers.tick(PROBE_GONE_MS + 1);
    const end = drain.begin(WINDOW_MS, QUIET);
    mock.timers.tick(QUIET);
    assert.deepEqual(await settled(end), { by: 'quiet' });
  });

  it('an answer under way when the drain begins says Connection: close', () => {
    const drain = new HttpDrain();
    const handler = drain.wrap(() => {});
    const slow = answer(handler, '/v1/nodes');
    assert.equal(slow.headers.get('connection'), undefined);
    void drain.begin(WINDOW_MS, QUIET);
    assert.equal(slow.headers.get('connection'), 'close');
    assert.equal(slow.outgoing.shouldKeepAlive, false);
  });
});

describe('HttpDrain on a node:http server', () => {
  it('keeps no answer of a pipelining connection its client closed', async () => {
    const drain = new HttpDrain();
    // The first request is never answered, so the three after it queue behind it on the connection.
    const answers: ServerResponse[] = [];
    const server = createServer(
      drain.wrap((incoming, outgoing) => {
        incoming.resume();
        if (answers.push(outgoing) > 1) outgoing.end('ok');
      }),
    );
    drain.track(server);
    const serverSides: Promise<unknown>[] = [];
    server.on('connection', (socket: Socket) => serverSides.push(once(socket, 'close')));
    const arrived: Promise<unknown>[] = [];
    server.on('request', (incoming: IncomingMessage) => arrived.push(once(incoming, 'end')));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(['/a', '/b', '/c', '/d'].map((path) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
      while (arrived.length < 4) await once(server, 'request');
      await Promise.all(arrived);
      socket.destroy();
      await Promise.all(serverSides);
      // A drain beginning now tells every answer it still holds `Connection: close`: none of this
      // gone connection's, neither the first (closed with it) nor the three queued behind it, whose
      // responses never get a socket and so never close; held per answer, they stayed for ever.
      const end = await drain.begin(0);
      assert.deepEqual(end, { by: 'quiet' });
      assert.deepEqual(
        answers.map((a) => [a.getHeader('connection'), a.shouldKeepAlive]),
        answers.map(() => [undefined, true]),
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
