// Email through any SMTP server (SMTP_URL), pooled so a burst of incidents reuses connections.

import { createTransport, type NodemailerError } from 'nodemailer';
import type { DigestChannel, EmailConfig } from './channel.ts';
import { digestHtml, digestText, emailHtml, emailText } from './email-body.ts';
import { connectionFailure, DeliveryError, NotStarted, type StartWindow } from './errors.ts';
import { digestSummary, subjectLine } from './render.ts';
import { Slots } from './slots.ts';

export interface EmailChannelOptions {
  /** e.g. `smtp://user:pass@mail.example.com:587`; undefined leaves email unconfigured. */
  smtpUrl: string | undefined;
  from: string;
}

export interface EmailChannel extends DigestChannel<EmailConfig> {
  /** False without SMTP_URL: every send fails with smtp_not_configured. */
  configured: boolean;
  /** Closes idle pooled SMTP connections; a send in flight finishes first. */
  close(): void;
}

// nodemailer's defaults (2 min to connect, 10 min of socket silence) would let one dead SMTP
// server hold a notifier worker far longer than the first steps of the retry schedule.
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/**
 * SMTP connections the pool keeps to the server, and messages handed to it at once: one each. The
 * notifier runs up to 256 sends at once; handed to nodemailer together, all but these would wait in
 * its unbounded queue for a connection, past the moment their lease lets them start, and `mayStart`
 * could no longer stop them. So sends wait here instead: a message is asked `mayStart` only once a
 * connection is free for it, and one whose start window closes while it waits gives up then. Five
 * is nodemailer's own default, and what a mail server commonly lets one client hold open.
 */
export const SMTP_CONNECTIONS = 5;

// Failures before any SMTP reply that no retry can fix: bad transport settings or an address
// nodemailer itself refuses.
const MISCONFIGURED = new Set(['ECONFIG', 'EAUTH', 'ENOAUTH', 'EENVELOPE']);

export function createEmailChannel(options: EmailChannelOptions): EmailChannel {
  // maxRequeues 0: nodemailer's pool would otherwise send a message again itself (up to 5 times)
  // when its connection closes mid-transaction, after `mayStart` said yes and possibly past the
  // lease; the failure goes to the ledger's retry instead, under a lease of its own.
  const transport =
    options.smtpUrl === undefined ? undefined : createTransport({ url: options.smtpUrl, pool: true, maxConnections: SMTP_CONNECTIONS, maxRequeues: 0, ...TIMEOUTS });
  const slots = new Slots(SMTP_CONNECTIONS);
  const domain = messageIdDomain(options.from);
  const server = smtpServer(options.smtpUrl);

  /** Everything an incident email and a digest share: checks, envelope, headers, error mapping. */
  async function mail(
    config: EmailConfig,
    now: Date,
    m: { subject: string; text: string; html: string; id: string; event: string; references?: string[]; inReplyTo?: string; incidentId?: string },
    start?: StartWindow,
  ) {
    if (transport === undefined) {
      throw new DeliveryError('email is not configured: set SMTP_URL to deliver to email channels', {
        permanent: true,
        code: 'smtp_not_configured',
      });
    }
    if (config.to.length === 0) {
      throw new DeliveryError('email channel has no recipients', { permanent: true, code: 'no_recipients' });
    }
    const free = await slots.take(start?.closed).catch(() => {
      throw new NotStarted();
    });
    try {
      // Asked once a connection is free for the message, right before the pool has it: from then
      // it goes out, with no way to take it back.
      if (start && !start.mayStart()) throw new NotStarted();
      await transport.sendMail({
        from: options.from,
        to: config.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        date: now,
        // The same Message-ID on every retry lets mail systems and readers spot a duplicate;
        // References to one per-incident id, and In-Reply-To the opening email, thread opened →
        // resolved in mail clients (Outlook and Gmail follow In-Reply-To; References alone did not).
        messageId: `<${messageIdPart(m.id)}@${domain}>`,
        ...(m.references ? { references: m.references.map((id) => `<${messageIdPart(id)}@${domain}>`) } : {}),
        ...(m.inReplyTo ? { inReplyTo: `<${messageIdPart(m.inReplyTo)}@${domain}>` } : {}),
        headers: {
          // RFC 3834: tells vacation responders and ticket systems not to answer.
          'Auto-Submitted': 'auto-generated',
          ...(m.incidentId ? { 'X-Lifeline-Incident-Id': m.incidentId } : {}),
          'X-Lifeline-Event': m.event,
        },
      });
    } catch (err) {
      throw err instanceof NotStarted ? err : smtpDeliveryError(err, server);
    } finally {
      free();
    }
  }

  return {
    type: 'email',
    configured: transport !== undefined,
    send(n, config, now, start) {
      return mail(
        config,
        now,
        {
          subject: subjectLine(n),
          text: emailText(n),
          html: emailHtml(n),
          id: n.messageId,
          // A follow-up answers the incident's opening email to the same recipient, whose
          // Message-ID is its ledger id (threadId), stable however often either is retried.
          ...(n.threadId !== undefined && n.threadId !== n.messageId
            ? { references: [`incident.${n.incident.id}`, n.threadId], inReplyTo: n.threadId }
            : { references: [`incident.${n.incident.id}`] }),
          incidentId: n.incident.id,
          event: n.event,
        },
        start,
      );
    },
    sendDigest(ns, config, now, listUrl) {
      return mail(config, now, {
        subject: `[Lifeline] ${digestSummary(ns)}`,
        text: digestText(ns, listUrl),
        html: digestHtml(ns, listUrl),
        // Stable for the same set of updates, so a retried digest is recognisable too.
        id: `digest.${ns.map((n) => n.messageId).sort()[0]}`,
        event: 'digest',
      });
    },
    close() {
      transport?.close();
    },
  };
}

/**
 * A reply code decides when there is one (5xx permanent, 4xx retryable; nodemailer's `permanent`
 * flag also knows that 503 is only a session-state hiccup). Without a reply the server was not
 * reached or the connection broke, which a later attempt can get past.
 */
function smtpDeliveryError(err: unknown, server: string): DeliveryError {
  const e = err as NodemailerError;
  if (typeof e.responseCode === 'number') {
    const permanent = e.permanent ?? e.responseCode >= 500;
    // The reply code only: the server's own text is the receiver's, and read keys see last_error.
    return new DeliveryError(`SMTP server refused the message (reply ${e.responseCode})`, {
      permanent,
      code: permanent ? 'smtp_rejected' : 'smtp_deferred',
      cause: err,
    });
  }
  if (e.code !== undefined && MISCONFIGURED.has(e.code)) {
    return new DeliveryError(`email could not be sent: SMTP_URL or the server's settings are wrong (${e.code})`, { permanent: true, code: 'smtp_misconfigured', cause: err });
  }
  const failure = connectionFailure(err, `the SMTP server ${server}`);
  if (failure) return new DeliveryError(failure.message, { permanent: false, code: failure.code, cause: err });
  const code = e.code === 'ETIMEDOUT' ? 'timeout' : 'network';
  return new DeliveryError(`could not reach the SMTP server ${server}${e.code ? ` (${e.code})` : ''}`, { permanent: false, code, cause: err });
}

/** SMTP_URL's host and port, as a failure names the server: its user name and password left out. */
function smtpServer(smtpUrl: string | undefined): string {
  try {
    const url = new URL(smtpUrl ?? '');
    return url.port ? `${url.hostname}:${url.port}` : url.hostname;
  } catch {
    return '(SMTP_URL)';
  }
}

function messageIdDomain(from: string): string {
  return /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'lifeline.invalid';
}

// A Message-ID's left part must be dot-atom text; escaping every other character (as =XX per
// UTF-8 byte) keeps distinct ids distinct whatever the caller's id format.
function messageIdPart(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/gu, (char) =>
    [...Buffer.from(char, 'utf8')].map((byte) => `=${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}
