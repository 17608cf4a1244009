import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { consoleUrl, heldUntilOpen, listenProblem } from '../../workers/listen.ts';

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

describe('heldUntilOpen', () => {
  /** A request and its response, the response recording the status it was answered with. */
  const request = (url: string) => {
    const outgoing = {
      status: undefined as number | undefined,
      ended: false,
      body: '',
      writeHead(status: number) {
        this.status = status;
        return this;
      },
      end(body?: string) {
        this.ended = true;
        this.body = body ?? '';
        return this;
      },
    };
    return [{ url } as IncomingMessage, outgoing as unknown as ServerResponse & { status: number | undefined; ended: boolean; body: string }] as const;
  };

  it('answers the requests that came before it opened, in order, then each as it comes', () => {
    const answered: string[] = [];
    const held = heldUntilOpen((incoming) => void answered.push(incoming.url!));
    held.listener(...request('/readyz'));
    held.listener(...request('/v1/nodes'));
    assert.deepEqual(answered, [], 'answered before the admin keys were applied');
    held.open();
    assert.deepEqual(answered, ['/readyz', '/v1/nodes']);
    held.listener(...request('/metrics'));
    assert.deepEqual(answered, ['/readyz', '/v1/nodes', '/metrics']);
  });

  it('answers 503 to the requests held when the start fails, and to every one after, holding none', () => {
    const answered: string[] = [];
    const held = heldUntilOpen((incoming) => void answered.push(incoming.url!));
    const [incoming, outgoing] = request('/readyz');
    held.listener(incoming, outgoing);
    held.drop();
    // Held again, a later request kept its connection, and the process, waiting for ever.
    const [later, laterOutgoing] = request('/v1/nodes');
    held.listener(later, laterOutgoing);
    assert.deepEqual(answered, []);
    assert.deepEqual([outgoing.status, outgoing.ended, laterOutgoing.status, laterOutgoing.ended], [503, true, 503, true]);
    // In the API's error shape, as every other refusal.
    assert.equal((JSON.parse(laterOutgoing.body) as { error: { code: string } }).error.code, 'unavailable');
  });
});
