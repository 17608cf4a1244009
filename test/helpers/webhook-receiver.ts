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
}

/** A status to answer with, a full answer, or 'hang' to never answer (until close). */
export type Reply = number | { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Answers the next requests in order; once the script runs out, requests get 200. */
  script(...replies: Reply[]): void;
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
  const recorded = new EventEmitter();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
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
    answer(res, replies.shift() ?? 200);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    script(...next) {
      replies.push(...next);
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

function answer(res: ServerResponse, reply: Reply): void {
  if (reply === 'hang') return;
  const { status, headers = {}, body = '' } = typeof reply === 'number' ? { status: reply } : reply;
  res.writeHead(status, headers).end(body);
}
