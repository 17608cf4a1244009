// The one HTTP path every HTTP channel (webhook, Slack, PagerDuty) delivers through, so a
// timeout, a refused connection or a 429 is classified the same way whichever receiver it is.

import { classifyHttpStatus, DeliveryError } from './errors.ts';

export interface HttpChannelOptions {
  /** How long a receiver may take to answer before the attempt counts as a retryable timeout. */
  timeoutMs?: number;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

// Enough of an error body to tell "invalid_token" from "no_service" in last_error, without
// letting a receiver make us buffer megabytes.
const ERROR_DETAIL_LIMIT = 300;

export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  now: Date,
  timeoutMs: number,
): Promise<void> {
  assertHttpUrl(url);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Lifeline', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw transportError(err, timeoutMs);
  }
  if (response.ok) {
    // Free the connection for reuse; the success body carries nothing we need.
    await response.body?.cancel();
    return;
  }
  throw classifyHttpStatus(response.status, response.headers.get('retry-after'), now, await readErrorDetail(response));
}

function assertHttpUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch (err) {
    throw new DeliveryError(`invalid URL: ${url}`, { permanent: true, code: 'invalid_url', cause: err });
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new DeliveryError(`URL must be http or https: ${url}`, { permanent: true, code: 'invalid_url' });
  }
}

function transportError(err: unknown, timeoutMs: number): DeliveryError {
  if (err instanceof Error && err.name === 'TimeoutError') {
    return new DeliveryError(`receiver did not answer within ${timeoutMs} ms`, { permanent: false, code: 'timeout', cause: err });
  }
  // fetch reports refused connections, DNS failures and resets as TypeError('fetch failed')
  // with the system error as cause; the cause is the useful part of the message.
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DeliveryError(`could not reach receiver: ${detail}`, { permanent: false, code: 'network', cause: err });
}

async function readErrorDetail(response: Response): Promise<string | undefined> {
  if (response.body === null) return undefined;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ERROR_DETAIL_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The status alone classifies the failure; an unreadable body only loses detail.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').trim().slice(0, ERROR_DETAIL_LIMIT) || undefined;
}
