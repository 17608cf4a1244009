// A local HTTP endpoint standing in for a webhook, Slack or PagerDuty receiver: it records every
// request, checks Standard Webhooks signatures when given the secret, and answers from a script
// so tests can make it fail, throttle or hang the way real receivers do.

import { on, EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from './standard-webhooks.ts';
import { PATIENCE_MS } from './wait.ts';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Standard Webhooks signature check; null when the receiver was started without a secret. */
  verified: boolean | null;
  /** The status it was answered with; undefined while it hangs (or if it was never answered). */
  status?: number;
}

/** A status to answer with, a full answer, or 'hang' to answer only on release() (or never, until close). */
export type Reply = number | { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Answers the next requests in order; once the script runs out, requests get the standing reply. */
  script(...replies: Reply[]): void;
  /** The reply for every request once the script has run out: 200 until changed (an outage, a recovery). */
  answerAll(reply: Reply): void;
  /** Answers every request hanging now with this reply; returns how many there were. */
  release(reply: Exclude<Reply, 'hang'>): number;
  /** Requests hanging now: not answered yet, and their sender still waiting. */
  readonly hanging: readonly ReceivedRequest[];
  waitFor(predicate?: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  /** When set, every request's Standard Webhooks signature is checked against it. */
  secret?: string;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const replies: Reply[] = [];
  let standing: Reply = 200;
  const hung = new Map<ReceivedRequest, ServerResponse>();
  const recorded = new EventEmitter();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the client went away mid-body (a killed sender): nothing was delivered
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const receivedAt = new Date();
    const request: ReceivedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      // Checked as of arrival, but only when read: the reference library hashes in JavaScript, and
      // the sender, often in this same process, is timing the answer.
      get verified() {
        return options.secret === undefined ? null : verifyWebhook(options.secret, req.headers, body, receivedAt);
      },
    };
    requests.push(request);
    recorded.emit('request', request);
    const reply = replies.shift() ?? standing;
    if (reply === 'hang') {
      hung.set(request, res);
      // A client that gives up (a timeout, a killed process) was never answered.
      res.once('close', () => hung.delete(request));
    } else {
      answer(request, res, reply);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    script(...next) {
      replies.push(...next);
    },
    answerAll(reply) {
      standing = reply;
    },
    release(reply) {
      const held = [...hung];
      hung.clear();
      for (const [request, res] of held) answer(request, res, reply);
      return held.length;
    },
    get hanging() {
      return [...hung.keys()];
    },
    async waitFor(predicate = () => true, timeoutMs = PATIENCE_MS) {
      const seen = requests.find(predicate);
      if (seen) return seen;
      try {
        for await (const [request] of on(recorded, 'request', { signal: AbortSignal.timeout(timeoutMs) })) {
          if (predicate(request as ReceivedRequest)) return request as ReceivedRequest;
        }
      } catch (err) {
        throw new Error(`no matching request within ${timeoutMs} ms (received ${requests.length})`, { cause: err });
      }
      throw new Error('request stream ended');
    },
    async close() {
      // Hanging requests would otherwise keep close() waiting for them.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function answer(request: ReceivedRequest, res: ServerResponse, reply: Exclude<Reply, 'hang'>): void {
  const { status, headers = {}, body = '' } = typeof reply === 'number' ? { status: reply } : reply;
  request.status = status;
  res.writeHead(status, headers).end(body);
}
