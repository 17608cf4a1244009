// Child-process entry for the on-call benchmark: the receiving end of notifications, in its own
// process so receiving never competes with the notifier for an event loop.
//   HTTP (POST any path): answers 200 at once; notes per webhook-id when it first arrived (epoch
//     ms, taken as the request starts) and how often, and checks the Standard Webhooks signature
//     against BENCH_WEBHOOK_SECRET.
//   SMTP: accepts every message and notes whether it was an incident email or a storm digest
//     (X-Lifeline-Event) and its subject.
//   GET /count — {"requests", "ids"}: cheap, for polling.  GET /arrivals — everything noted.
// Prints {"msg":"listening","http":port,"smtp":port} once both listen on 127.0.0.1.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { verifyWebhook } from '../helpers/standard-webhooks.ts';
import { guardChild } from './child-guard.ts';

guardChild();
const secret = process.env.BENCH_WEBHOOK_SECRET;

export interface Arrivals {
  /** [webhook-id, first arrival (epoch ms), times received] */
  webhooks: Array<[string, number, number]>;
  requests: number;
  /** Requests without a webhook-id, or whose signature did not verify. */
  rejected: number;
  mails: Array<{ event: string; subject: string; at: number }>;
}

const first = new Map<string, number>();
const times = new Map<string, number>();
const mails: Arrivals['mails'] = [];
let requests = 0;
let rejected = 0;

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function onWebhook(req: IncomingMessage, res: ServerResponse): void {
  const at = Date.now();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    requests += 1;
    const id = req.headers['webhook-id'];
    const body = Buffer.concat(chunks);
    // An unverifiable request still gets 200: the benchmark counts it, the sender must not retry.
    if (typeof id !== 'string' || (secret !== undefined && !verifyWebhook(secret, req.headers, body, new Date(at)))) {
      rejected += 1;
    } else {
      if (!first.has(id)) first.set(id, at);
      times.set(id, (times.get(id) ?? 0) + 1);
    }
    res.writeHead(200).end();
  });
}

const http = createServer((req, res) => {
  if (req.method !== 'GET') return onWebhook(req, res);
  if (req.url === '/count') return json(res, { requests, ids: first.size, mails: mails.length });
  const arrivals: Arrivals = { webhooks: [...first].map(([id, at]) => [id, at, times.get(id)!]), requests, rejected, mails };
  return json(res, arrivals);
});
http.keepAliveTimeout = 30_000;

/** A header's value from the raw message head (unfolded); enough for the two headers we read. */
function header(raw: string, name: string): string {
  const head = raw.slice(0, Math.max(0, raw.indexOf('\r\n\r\n'))).replace(/\r\n[ \t]+/g, ' ');
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
}

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  closeTimeout: 1_000,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      mails.push({ event: header(raw, 'X-Lifeline-Event'), subject: header(raw, 'Subject'), at: Date.now() });
      callback();
    });
  },
});

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
const port = (s: { address(): AddressInfo | string | null }) => (s.address() as AddressInfo).port;
process.stdout.write(`${JSON.stringify({ msg: 'listening', http: port(http), smtp: port(smtp.server) })}\n`);

process.on('SIGTERM', () => {
  http.closeAllConnections();
  http.close();
  smtp.close(() => process.exit(0));
});
