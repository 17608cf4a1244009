// Our webhook deliveries checked the way a receiver checks them: with the Standard Webhooks
// reference library, not with a verifier of our own (a signer and a verifier written side by side
// can share a mistake and still agree with each other).

import type { IncomingHttpHeaders } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/**
 * True when the reference library accepts the request: a `webhook-signature` entry matches the raw
 * body, and `webhook-timestamp` is within its five minutes of `now`. The library reads the clock
 * itself, so `now` is what `Date.now()` answers during this one synchronous call.
 */
export function verifyWebhook(secret: string, headers: IncomingHttpHeaders | Headers | Record<string, string>, body: string | Uint8Array, now = new Date()): boolean {
  const flat: Record<string, string> = {};
  // Not `instanceof Headers`: on Node 20 the first touch of that global loads fetch's
  // implementation, tens of milliseconds inside a receiver that senders time out on.
  const entries = typeof headers.entries === 'function' ? (headers as Headers).entries() : Object.entries(headers);
  for (const [name, value] of entries) {
    if (typeof value === 'string') flat[name] = value;
  }
  const realNow = Date.now;
  Date.now = () => now.getTime();
  try {
    new Webhook(secret).verify(body, flat, { jsonParse: false });
    return true;
  } catch (err) {
    if (err instanceof WebhookVerificationError) return false;
    throw err;
  } finally {
    Date.now = realNow;
  }
}
