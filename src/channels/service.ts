import { writtenAt } from '../clock.ts';
import { randomUUID } from 'node:crypto';
import { asDeliveryError, DeliveryError } from '../../alerting/errors.ts';
import { sendOver, type ChannelRegistry } from '../../alerting/index.ts';
import { openSecret, sealSecret } from '../../alerting/secret-box.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { patched, type Acting } from '../audit/model.ts';
import { audit, auditedUpdate } from '../audit/service.ts';
import { actorTextOf } from '../incidents/actor-names.ts';
import type { Sql } from '../db/client.ts';
import { DELETE_LOCK_WAIT_MS, deleting } from '../db/named-rows.ts';
import { inUse } from '../oncall/model.ts';
import { holdingIncidents } from '../notifications/holding-incidents.ts';
import { policiesNaming } from '../oncall/store.ts';
import { usersNamingChannel } from '../oncall/store-users.ts';
import { checkVersion, notFound, validationFailed, type ErrorDetail } from '../errors.ts';
import { destinationProblem, type OutboundPolicy } from '../../alerting/destination.ts';
import { channelSecretField, destinationKey, destinationsOf, keepingStored, originOnlyField, splitSecret, splitUrl, testNotification, urlBoundTo, wholeUrlOf, type ChannelPatch, type ChannelRow, type ChannelTestRow, type ChannelType } from './model.ts';
import * as store from './store.ts';

/**
 * Refuses a config that would send to a loopback, link-local, private… address, to a URL with a
 * user name or password, or Slack and PagerDuty over plain http (alerting/destination.ts). Names
 * are resolved now; the notifier checks again on the address each connection uses. `problems`
 * found before are refused with these, so a form is fixed in one go.
 */
async function refuseDestinations(type: ChannelType, config: Record<string, unknown>, policy: OutboundPolicy, problems: ErrorDetail[] = []): Promise<void> {
  for (const d of destinationsOf(type, config)) {
    const problem = await destinationProblem(d.url, policy, d.httpsOnly);
    if (problem) problems.push({ field: `config.${d.field}`, message: problem });
  }
  if (problems.length) throw validationFailed(problems);
}

/**
 * Splits the secret and the origin-only URL out of a config and seals each, bound to the channel
 * `id`; the config keeps the URL's origin, and a sealed part is absent when there was none.
 */
function sealConfig(id: string, type: ChannelType, config: Record<string, unknown>, key: Buffer): { config: Record<string, unknown>; secret_sealed?: string; url_sealed?: string } {
  const secret = splitSecret(type, config);
  const url = splitUrl(type, secret.config);
  return {
    config: url.config,
    ...(secret.secret !== undefined ? { secret_sealed: sealSecret(secret.secret, key, id) } : {}),
    ...(url.url !== undefined ? { url_sealed: sealSecret(url.url, key, urlBoundTo(id)) } : {}),
  };
}

/** A sealed config field opened, or an error naming the field (a delivery's last_error says which one the key failed). */
function openField(field: string, sealed: string, key: Buffer, boundTo: string): string {
  try {
    return openSecret(sealed, key, boundTo);
  } catch (err) {
    throw new Error(`config.${field} does not open: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The full config a channel sends with: the stored part plus its opened secret and whole URL under
 * their fields. A secret that does not open throws a plain Error: the key is not the one it was
 * sealed with, and a notifier holding the right key may still send (the notifier holds the page).
 * A URL that does not open once the secret has is damaged or copied from another row, which no key
 * opens: a permanent DeliveryError (`internal: config.url does not open: …`), so the page fails
 * saying so instead of waiting for a key that does not exist. A whole URL in the config (wholeUrlOf)
 * is sent as it is: an earlier release wrote it after the sealed one.
 */
export function revealConfig(row: ChannelRow, key: Buffer): Record<string, unknown> {
  const config = { ...row.config };
  const secret = channelSecretField(row.type);
  if (secret !== null && row.secret_sealed !== null) config[secret] = openField(secret, row.secret_sealed, key, row.id);
  const url = originOnlyField(row.type);
  if (url !== null && row.url_sealed !== null && wholeUrlOf(row.type, row.config) === undefined) {
    try {
      config[url] = openField(url, row.url_sealed, key, urlBoundTo(row.id));
    } catch (err) {
      throw new DeliveryError((err as Error).message, { permanent: true, code: 'internal', cause: err });
    }
  }
  return config;
}

/**
 * The channel as keepingStored and moveWithoutSecret compare with: its config holding the whole
 * URL. One the key cannot open is left out, so that it is neither kept nor taken for where the
 * channel sends (a URL sent is then a move, which needs the secret). A whole URL already in the
 * config (wholeUrlOf) is the stored one.
 */
export function withStoredUrl(channel: ChannelRow, key: Buffer): ChannelRow {
  const f = originOnlyField(channel.type);
  if (f === null || channel.url_sealed === null || wholeUrlOf(channel.type, channel.config) !== undefined) return channel;
  try {
    return { ...channel, config: { ...channel.config, [f]: openSecret(channel.url_sealed, key, urlBoundTo(channel.id)) } };
  } catch {
    const { [f]: _unopened, ...config } = channel.config;
    return { ...channel, config };
  }
}

/**
 * The channel as its audit row compares an edit with: its secret and URL opened, so a secret or URL
 * sent again unchanged is not recorded as rotated (only ever as `changed`, never by value). One the
 * key cannot open stays out of it, and any value sent for it reads as a change.
 */
function openedForAudit(channel: ChannelRow, key: Buffer): ChannelRow {
  const opened = withStoredUrl(channel, key);
  const field = channelSecretField(channel.type);
  if (field === null || channel.secret_sealed === null) return opened;
  try {
    return { ...opened, config: { ...opened.config, [field]: openSecret(channel.secret_sealed, key, channel.id) } };
  } catch {
    return opened;
  }
}

/** An edit's config as it is stored: one sent without its secret keeps the stored one. */
function keptSecret<T extends { config?: Record<string, unknown> | undefined }>(input: T, before: ChannelRow): T {
  const field = channelSecretField(before.type);
  if (input.config === undefined || field === null || input.config[field] !== undefined || before.config[field] === undefined) return input;
  return { ...input, config: { ...input.config, [field]: before.config[field] } };
}

/**
 * A config that would keep a stored URL the key cannot open (leaving it out, or sending its shown
 * form, which stored would send every delivery to `/%E2%80%A6`): the problem to refuse it with.
 */
function keepsUnopenedUrl(channel: ChannelRow, stored: ChannelRow, config: Record<string, unknown>): ErrorDetail | undefined {
  const f = originOnlyField(channel.type);
  if (f === null || channel.url_sealed === null || stored.config[f] !== undefined) return undefined;
  if (config[f] !== undefined && config[f] !== channel.config[f]) return undefined;
  return { field: `config.${f}`, message: "cannot be kept: this engine's secret key does not open the stored one, so send the whole URL again" };
}

/**
 * What updateChannel may do beyond what it was sent. `generateSecretIfMoved`: a webhook given a new
 * destination without a secret gets a new generated one instead of the refusal, as a webhook
 * created without one does (the console's edit form offers this; the API never asks for it, so a
 * key that does not know the secret still cannot move it).
 */
export interface UpdateOptions {
  generateSecretIfMoved?: boolean;
}

/** Only a webhook's secret is ours to make: the others are issued by Slack or PagerDuty. */
const generatesOnMove = (channel: ChannelRow, options: UpdateOptions) => options.generateSecretIfMoved === true && channel.type === 'webhook';

/**
 * A sealed secret goes where its channel sends: a key that may edit channels but does not know
 * the secret must not send it somewhere else (its own server, with the next event). Changing
 * where a channel sends therefore needs the secret in the same request: the problem to refuse
 * with, or none. A Slack channel's secret is its destination, so moving it always carries one.
 * `channel` is as opened by withStoredUrl.
 */
export function moveWithoutSecret(channel: ChannelRow, sent: Record<string, unknown>, options: UpdateOptions = {}): ErrorDetail | undefined {
  if (generatesOnMove(channel, options)) return undefined;
  const config = keepingStored(channel, sent);
  const field = channelSecretField(channel.type);
  if (field === null || channel.secret_sealed === null || typeof config[field] === 'string') return undefined;
  if (destinationKey(channel.type, config) === destinationKey(channel.type, channel.config)) return undefined;
  return { field: `config.${field}`, message: 'is required to change where the channel sends: its secret goes with it, so type it again' };
}

/**
 * A new channel, its secret sealed with `key`. A webhook created without a secret gets a generated
 * `whsec_` one, returned here because the receiver needs it to verify signatures and it is never
 * shown again.
 */
export async function createChannel(
  sql: Sql,
  key: Buffer,
  input: { name: string; type: ChannelType; config: Record<string, unknown> },
  now: Date,
  policy: OutboundPolicy,
  acting: Acting,
): Promise<{ channel: ChannelRow; generatedSecret?: string }> {
  await refuseDestinations(input.type, input.config, policy);
  const generated = input.type === 'webhook' && input.config.secret === undefined ? generateWebhookSecret() : undefined;
  const id = randomUUID();
  const sealed = sealConfig(id, input.type, generated ? { ...input.config, secret: generated } : input.config, key);
  const channel = await sql.begin(async (tx) => {
    const row = await store.insertChannel(
      tx,
      { id, name: input.name, type: input.type, config: sealed.config, secret_sealed: sealed.secret_sealed ?? null, url_sealed: sealed.url_sealed ?? null },
      now,
    );
    await audit(tx, acting, { action: 'channel.create', target: { type: 'channel', id: row.id, name: row.name }, detail: { type: row.type } }, now);
    return row;
  });
  return generated ? { channel, generatedSecret: generated } : { channel };
}

/**
 * Renames and/or reconfigures a channel (its type is fixed); a config without its secret keeps it,
 * as one without a webhook's URL keeps that (its whole is never shown back: keepingStored), and
 * may not change where the channel sends (moveWithoutSecret) unless `options` asks for a
 * generated secret, returned here once, as by createChannel.
 */
export async function updateChannel(
  sql: Sql,
  key: Buffer,
  channel: ChannelRow,
  input: { name?: string | undefined; config?: Record<string, unknown> | undefined },
  now: Date,
  policy: OutboundPolicy,
  acting: Acting,
  options: UpdateOptions = {},
  expected?: readonly number[],
): Promise<{ channel: ChannelRow; generatedSecret?: string }> {
  let generated: string | undefined;
  if (input.config !== undefined) {
    const stored = withStoredUrl(channel, key);
    const config = keepingStored(stored, input.config);
    const move = moveWithoutSecret(stored, config);
    if (move && generatesOnMove(channel, options)) generated = generateWebhookSecret();
    input = { ...input, config: generated ? { ...config, secret: generated } : config };
    const unopened = keepsUnopenedUrl(channel, stored, config);
    await refuseDestinations(channel.type, input.config!, policy, [...(move && !generated ? [move] : []), ...(unopened ? [unopened] : [])]);
  }
  const patch: ChannelPatch = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.config !== undefined ? sealConfig(channel.id, channel.type, input.config, key) : {}),
  };
  if (Object.keys(patch).length === 0) {
    checkVersion(`Channel "${channel.name}"`, expected, channel.updated_at);
    return { channel };
  }
  const row = await sql.begin(async (tx) => {
    const locked = await store.getChannel(tx, channel.id, true);
    if (!locked) return undefined;
    checkVersion(`Channel "${locked.name}"`, expected, locked.updated_at);
    const before = openedForAudit(locked, key);
    const change = patched('channel.update', { type: 'channel', id: locked.id, name: locked.name }, keptSecret(input, before), before);
    return auditedUpdate(tx, acting, change, locked, () => store.updateChannel(tx, channel.id, patch, writtenAt(now, locked.updated_at)), now);
  });
  if (!row) throw notFound(`Channel "${channel.id}"`);
  return generated ? { channel: row, generatedSecret: generated } : { channel: row };
}

/**
 * Deletes a channel no escalation policy and no user names, and no open incident paged: the
 * resolve of an incident goes to every channel its ledger says was paged, even after a policy
 * stopped naming it, so the channel stays until that resolve is written, and until no dead
 * outbox event waiting for its replay would message it. The channel is locked first, so a policy
 * or user being written that names it either committed before (and is found here) or waits and
 * then finds the channel gone (see lockExisting in src/db/named-rows.ts); it waits for such a
 * writer at most `lockWaitMs`, then is refused to be retried (deleting). With `expected` (an
 * If-Match), the locked row must be at a version it lists (checkVersion).
 */
export async function deleteChannel(sql: Sql, id: string, now: Date, acting: Acting, lockWaitMs = DELETE_LOCK_WAIT_MS, expected?: readonly number[]): Promise<void> {
  await deleting(sql, 'channel', id, lockWaitMs, async (tx) => {
    if (expected !== undefined) {
      const locked = (await store.getChannel(tx, id))!;
      checkVersion(`Channel "${locked.name}"`, expected, locked.updated_at);
    }
    const used = inUse(
      [
        { kind: 'policy', list: await policiesNaming(tx, 'channel_ids', id) },
        { kind: 'user', list: await usersNamingChannel(tx, id) },
      ],
      (by) => `The channel is used by ${by}; remove it from them first.`,
    );
    if (used) throw used;
    const held = await holdingIncidents(tx, 'channel', id);
    if (held) throw held;
    const name = await store.deleteChannel(tx, id);
    await audit(tx, acting, { action: 'channel.delete', target: { type: 'channel', id, name } }, now);
  });
}

/**
 * Sends a test message through the channel's real transport, with its real (opened) config, and
 * records the outcome with the channel. Waits for the receiver, as a delivery attempt does (the
 * transports' own timeouts bound it); a refusal or an unreachable receiver is an outcome, not an
 * error: it is what the test is for.
 */
export async function sendTest(
  sql: Sql,
  key: Buffer,
  transports: ChannelRegistry,
  channel: ChannelRow,
  by: string,
  now: Date,
  acting: Acting,
): Promise<ChannelTestRow> {
  let error: string | null = null;
  try {
    const shown = await actorTextOf(sql, by);
    await sendOver(transports, channel.type, testNotification(channel, { id: by, shown }, randomUUID(), now), revealConfig(channel, key), now);
  } catch (err) {
    const e = asDeliveryError(err);
    error = `${e.code}: ${e.message}`;
  }
  return sql.begin(async (tx) => {
    const test = await store.insertChannelTest(tx, { channel_id: channel.id, at: now, by, status: error === null ? 'sent' : 'failed', error });
    await audit(tx, acting, { action: 'channel.test', target: { type: 'channel', id: channel.id, name: channel.name }, detail: { status: test.status } }, now);
    return test;
  });
}
