// An in-process SMTP server that accepts (or, on request, refuses) mail, so email delivery is
// tested over a real SMTP conversation. Messages are decoded just far enough to assert on:
// headers (with RFC 2047 encoded words), and the text/plain and text/html parts.

import { on, EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { PATIENCE_MS } from './wait.ts';

export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  /** Lower-cased header names; values unfolded and decoded. */
  headers: Map<string, string>;
  subject: string;
  text: string;
  html: string;
}

export interface SmtpSink {
  url: string;
  messages: ReceivedMail[];
  /** Refuses the next `count` messages at the end of DATA with this reply code. */
  rejectNext(count: number, code: 550 | 451): void;
  /** Refuses every message with this reply code until called with null (an outage). */
  refuseAll(code: 550 | 451 | null): void;
  /** How many messages were refused so far. */
  readonly refusals: number;
  /** While on, every message is held unanswered at the end of DATA (a slow server); off answers those held. */
  hold(on: boolean): void;
  /** Messages held unanswered now. */
  readonly held: number;
  waitFor(predicate?: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const rejections: (550 | 451)[] = [];
  let outage: 550 | 451 | null = null;
  let refusals = 0;
  let holding = false;
  const held: (() => void)[] = [];
  const received = new EventEmitter();

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // Clients are expected to QUIT before close(); this only bounds a test that forgot to.
    closeTimeout: 1_000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      const answer = () => {
        const code = rejections.shift() ?? outage ?? undefined;
        if (code !== undefined) {
          refusals++;
          callback(Object.assign(new Error(code === 550 ? 'Message refused' : 'Try again later'), { responseCode: code }));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail: ReceivedMail = {
          envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...parseMessage(raw),
        };
        messages.push(mail);
        received.emit('mail', mail);
        callback();
      };
      stream.on('end', () => (holding ? held.push(answer) : answer()));
    },
  });
  // A client that dies mid-transaction (a SIGKILLed notifier) is reported as a server 'error';
  // a real SMTP server logs it and carries on, and so does the sink.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    rejectNext(count, code) {
      rejections.push(...Array<550 | 451>(count).fill(code));
    },
    refuseAll(code) {
      outage = code;
    },
    get refusals() {
      return refusals;
    },
    hold(on) {
      holding = on;
      if (!on) for (const answer of held.splice(0)) answer();
    },
    get held() {
      return held.length;
    },
    async waitFor(predicate = () => true, timeoutMs = PATIENCE_MS) {
      const seen = messages.find(predicate);
      if (seen) return seen;
      try {
        for await (const [mail] of on(received, 'mail', { signal: AbortSignal.timeout(timeoutMs) })) {
          if (predicate(mail as ReceivedMail)) return mail as ReceivedMail;
        }
      } catch (err) {
        throw new Error(`no matching mail within ${timeoutMs} ms (received ${messages.length})`, { cause: err });
      }
      throw new Error('mail stream ended');
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface ParsedMessage {
  headers: Map<string, string>;
  subject: string;
  text: string;
  html: string;
}

function parseMessage(raw: string): ParsedMessage {
  const { headers, body } = splitEntity(raw);
  const parts = leafParts(headers, body);
  const partOfType = (type: string) => parts.find((p) => contentType(p.headers) === type)?.content ?? '';
  return { headers, subject: headers.get('subject') ?? '', text: partOfType('text/plain'), html: partOfType('text/html') };
}

function splitEntity(entity: string): { headers: Map<string, string>; body: string } {
  const end = entity.indexOf('\r\n\r\n');
  const head = end === -1 ? entity : entity.slice(0, end);
  const body = end === -1 ? '' : entity.slice(end + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeEncodedWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function leafParts(headers: Map<string, string>, body: string): { headers: Map<string, string>; content: string }[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(headers.get('content-type') ?? '')?.[1];
  if (!contentType(headers).startsWith('multipart/') || boundary === undefined) {
    return [{ headers, content: decodeBody(body, headers.get('content-transfer-encoding') ?? '7bit') }];
  }
  return body
    .split(`--${boundary}`)
    .slice(1, -1) // the preamble before the first boundary and the epilogue after the last
    .flatMap((part) => {
      const entity = splitEntity(part.replace(/^\r\n/, ''));
      return leafParts(entity.headers, entity.body.replace(/\r\n$/, ''));
    });
}

function contentType(headers: Map<string, string>): string {
  return (headers.get('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body, 'base64').toString('utf8');
    case 'quoted-printable':
      return quotedPrintableBytes(body.replace(/=\r\n/g, '')).toString('utf8');
    default:
      return body;
  }
}

function quotedPrintableBytes(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

// RFC 2047: =?charset?B|Q?text?=. Adjacent words are joined before decoding (the whitespace
// between them is not part of the text, and a multi-byte character may straddle two words).
function decodeEncodedWords(value: string): string {
  return value.replace(/(?:=\?[^?]+\?[BbQq]\?[^?]*\?=\s*)+/g, (run) => {
    const trailing = /\s*$/.exec(run)![0];
    const bytes = [...run.matchAll(/=\?[^?]+\?([BbQq])\?([^?]*)\?=/g)].map(([, kind, text]) =>
      kind!.toUpperCase() === 'B'
        ? Buffer.from(text!, 'base64')
        : quotedPrintableBytes(text!.replace(/_/g, ' ')),
    );
    return Buffer.concat(bytes).toString('utf8') + trailing;
  });
}
