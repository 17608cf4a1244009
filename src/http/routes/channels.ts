import { Hono } from 'hono';
import * as v from 'valibot';
import { listOf, type Channel, type ChannelTest } from '../../api/shapes.ts';
import { actorOf } from '../../access/model.ts';
import { CHANNEL_TYPES, isChannelType, shownConfig, type ChannelRow, type ChannelTestRow, type ChannelType } from '../../channels/model.ts';
import { createChannel, deleteChannel, moveWithoutSecret, sendTest, updateChannel, withStoredUrl, type UpdateOptions } from '../../channels/service.ts';
import { Refusal, validationFailed } from '../../errors.ts';
import { channelsNamed, getChannel, listChannels } from '../../channels/store.ts';
import { channelWarnings } from '../../oncall/setup-warnings.ts';
import { principalOf, requireScope, type AuthEnv } from '../auth.ts';
import { acting } from '../acting.ts';
import { byIdOrName } from '../by-id.ts';
import type { AppDeps } from '../deps.ts';
import { operationDocs } from '../openapi.ts';
import { etag, ETAG_EXAMPLE, ETAG_NOTE, ifMatchAny, IF_MATCH_ETAG } from '../if-match.ts';
import { boundedArray, closedObject, decodeCursor, DisplayName, Email, isNameCursor, page, Paging, parse, plainRecord, query, readJson } from '../validation.ts';

const url = (protocols: string[], message: string) =>
  v.pipe(
    v.string('must be a string'),
    v.maxLength(2048, 'must be at most 2048 characters'),
    v.check((s) => URL.canParse(s) && protocols.includes(new URL(s).protocol), message),
  );
const HttpUrl = url(['http:', 'https:'], 'must be an http or https URL');

// Standard Webhooks: "whsec_" + base64 of the HMAC key; fewer than 128 bits would be guessable.
const WebhookSecret = v.pipe(
  v.string('must be a string'),
  v.maxLength(256, 'must be at most 256 characters'),
  v.regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64'),
  v.check((s) => Buffer.from(s.slice('whsec_'.length), 'base64').length >= 16, 'must hold at least 16 bytes after whsec_'),
);

const SECRETS = {
  webhook: WebhookSecret,
  slack: url(['https:'], 'must be an https URL'),
  pagerduty: v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'), v.maxLength(64, 'must be at most 64 characters')),
};

type ConfigSchema = v.GenericSchema<unknown, Record<string, unknown>>;

/** An email channel's refusal of an empty list, which the console words as the form asks. */
export const NO_ADDRESS = 'must hold at least one address';

/**
 * Each type's config. On create the secret field is required (a webhook's is generated when left
 * out); on PATCH it is optional, and leaving it out keeps the sealed secret, as leaving a webhook's
 * `url` out keeps that URL (no answer shows it whole: shownConfig).
 */
function configSchema(type: ChannelType, creating: boolean): ConfigSchema {
  const secret = <S extends v.GenericSchema>(s: S) => (creating ? s : v.optional(s));
  switch (type) {
    case 'email':
      return closedObject({
        to: boundedArray(Email, 'must be an array of email addresses', 20, 'must hold at most 20 addresses', 1, NO_ADDRESS),
      });
    case 'webhook':
      return closedObject({ url: creating ? HttpUrl : v.optional(HttpUrl), secret: v.optional(SECRETS.webhook) });
    case 'slack':
      return closedObject({ webhook_url: secret(SECRETS.slack) });
    case 'pagerduty':
      return closedObject({ routing_key: secret(SECRETS.pagerduty), url: v.optional(url(['https:'], 'must be an https URL')) });
  }
}

const perType = <T>(make: (t: ChannelType) => T) => Object.fromEntries(CHANNEL_TYPES.map((t) => [t, make(t)])) as Record<ChannelType, T>;

/** Each type's create body: a config's problems at its own paths (`config.to`), not the union's one at the body. */
export const CREATE_CHANNEL = perType((type) => closedObject({ name: DisplayName, type: v.literal(type), config: configSchema(type, true) }));
// What a body with a missing or unknown type is checked against: names the type and anything else wrong.
const CreateUntyped = closedObject({
  name: DisplayName,
  type: v.picklist(CHANNEL_TYPES, `must be one of ${CHANNEL_TYPES.join(', ')}`),
  config: plainRecord(v.string(), v.unknown(), 64, 'must hold at most 64 fields'),
});
export const PATCH_CHANNEL = perType((type) =>
  closedObject({
    name: v.optional(DisplayName),
    type: v.optional(v.literal(type, `cannot be changed (this is a ${type} channel); create a new channel instead`)),
    config: v.optional(configSchema(type, false)),
  }),
);

/**
 * A PATCH body for `channel`, checked. The stored secret's rule (moveWithoutSecret) needs the
 * channel, so the schema cannot say it; when the schema refuses, it is said with the rest, so a
 * form with a wrong URL and no routing key is fixed in one go, not two. `options` are the ones
 * updateChannel will be given (a secret it generates is none missing).
 */
export function parsePatch(channel: ChannelRow, key: Buffer, body: unknown, options: UpdateOptions = {}): v.InferOutput<(typeof PATCH_CHANNEL)[ChannelType]> {
  try {
    return parse(PATCH_CHANNEL[channel.type], body);
  } catch (err) {
    const config = (body as { config?: unknown } | null)?.config;
    const move = err instanceof Refusal && err.details && typeof config === 'object' && config !== null ? moveWithoutSecret(withStoredUrl(channel, key), config as Record<string, unknown>, options) : undefined;
    if (!move || !(err instanceof Refusal) || err.details!.some((d) => d.field === move.field)) throw err;
    throw validationFailed([...err.details!, move]);
  }
}

// What POST and PATCH accept, one alternative per type (the handlers pick by the body's or the
// stored channel's type).
export const CreateChannel = v.union(CHANNEL_TYPES.map((t) => CREATE_CHANNEL[t]));
export const PatchChannel = v.union(CHANNEL_TYPES.map((t) => PATCH_CHANNEL[t]));
export const ListChannels = closedObject(Paging);

const render = (ch: ChannelRow): Channel => ({
  id: ch.id,
  name: ch.name,
  type: ch.type,
  config: shownConfig(ch.type, ch.config),
  has_secret: ch.secret_sealed !== null,
  created_at: ch.created_at.toISOString(),
  updated_at: ch.updated_at.toISOString(),
});

export const renderTest = (t: ChannelTestRow): ChannelTest => ({ channel_id: t.channel_id, at: t.at.toISOString(), by: t.by, status: t.status, error: t.error });

const doc = operationDocs('Channels');
/** How many of the channels sharing a name a 409 names: enough to pick one, short enough to read. */
const AMBIGUOUS_SHOWN = 10;
const CHANNEL = 'The channel id, or its name when only one channel has it (names may repeat: 409 `ambiguous` naming the ids of those that share it)';

/** Where incidents are announced. Secrets go in, sealed, and never come back out. */
export function channelRoutes(deps: AppDeps) {
  const { sql, clock, secretKey } = deps;
  const app = new Hono<AuthEnv>();

  const find = byIdOrName('Channel', (id) => getChannel(sql, id), async (name) => {
    const rows = await channelsNamed(sql, name, AMBIGUOUS_SHOWN + 1);
    if (rows.length <= 1) return rows[0];
    const ids = rows.slice(0, AMBIGUOUS_SHOWN).map((r) => r.id).join(', ');
    throw new Refusal('ambiguous', `Channels share the name "${name}" (${ids}${rows.length > AMBIGUOUS_SHOWN ? ' and more' : ''}); name one by its id.`);
  });

  app.post(
    '/',
    doc({
      summary: 'Create a channel',
      description:
        'email `{"to": [1-20 addresses]}`, webhook `{"url", "secret"?}` (Standard Webhooks; a `whsec_` secret is generated when left out and returned once as `config.secret`), slack `{"webhook_url"}` (https), pagerduty `{"routing_key", "url"?}` (Events API v2, https). URLs with a user name or password, and hosts that are or resolve to loopback, link-local, private, unspecified or multicast addresses, are refused unless LIFELINE_OUTBOUND_ALLOW_CIDRS allows them.',
      access: 'write',
      body: CreateChannel,
      ok: { status: 201, description: 'The channel, without its secret (unless one was generated); `warnings` when it cannot deliver yet.', body: 'Channel' },
    }),
    requireScope('write'),
    async (c) => {
      const raw = await readJson(c);
      const type = (raw as { type?: unknown } | null)?.type;
      const input = parse(isChannelType(type) ? CREATE_CHANNEL[type] : CreateUntyped, raw);
      const { channel, generatedSecret } = await createChannel(sql, secretKey, input, clock.now(), deps.outbound, acting(c));
      const shown = render(channel);
      // Accepted (another process may send the email), but said where the one creating it sees it.
      const warnings = channelWarnings(channel.type, deps.transports?.email.configured);
      // The one time a generated webhook secret is shown: the receiver needs it to verify signatures.
      return c.json({ ...shown, ...(generatedSecret ? { config: { ...shown.config, secret: generatedSecret } } : {}), ...(warnings.length ? { warnings } : {}) }, 201);
    },
  );

  app.get(
    '/',
    doc({
      summary: 'List channels',
      description: "By name; never a secret, and a webhook's `url` as its origin only (`https://chat.example/…`): its path and query may hold a credential.",
      access: 'read',
      query: ListChannels,
      ok: { status: 200, description: 'A page of channels.', body: listOf('Channel') },
    }),
    requireScope('read'),
    async (c) => {
      const q = query(c, ListChannels);
      const rows = await listChannels(sql, decodeCursor(q.cursor, isNameCursor), q.limit + 1);
      return c.json(page(rows.map(render), q.limit, (ch) => [ch.name, ch.id]));
    },
  );

  app.get(
    '/:id',
    doc({ summary: 'Get a channel', description: ETAG_NOTE, access: 'read', id: CHANNEL, ok: { status: 200, description: 'The channel, without its secret.', body: 'Channel' }, errors: [409] }),
    requireScope('read'),
    async (c) => {
      const ch = await find(c.req.param('id'));
      c.header('etag', etag(ch));
      return c.json(render(ch));
    },
  );

  app.patch(
    '/:id',
    doc({
      summary: 'Change a channel',
      description:
        "`name` and/or `config`, which must fit the channel's type (the type is fixed). A config without its secret field keeps the stored secret while the channel sends to the same place; a webhook config without `url`, or with the origin-only form an answer showed, keeps the stored URL (no answer shows it whole). Changing a webhook's or PagerDuty's `url` needs its `secret` or `routing_key` in the same config, else 400 (a Slack `webhook_url` is its secret): a stored secret never goes to a new destination. Never returns a secret, and generates none (the console offers to generate a moved webhook's new secret, sends it as `secret` and shows it once).",
      access: 'write',
      id: CHANNEL,
      headers: [IF_MATCH_ETAG],
      body: PatchChannel,
      ok: { status: 200, description: 'The channel as changed, without its secret, with its new `ETag`.', body: 'Channel' },
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const ch = await find(c.req.param('id'));
      const expected = ifMatchAny(c, ETAG_EXAMPLE);
      const input = parsePatch(ch, secretKey, await readJson(c));
      const { channel } = await updateChannel(sql, secretKey, ch, input, clock.now(), deps.outbound, acting(c), {}, expected);
      c.header('etag', etag(channel));
      return c.json(render(channel));
    },
  );

  app.post(
    '/:id/test',
    doc({
      summary: 'Send a test message',
      description:
        "Sends a test through the channel's real transport with its stored config and answers when the receiver has answered: `sent`, or `failed` with why. The message is a resolve for a node named lifeline-test, so it pages nobody (PagerDuty opens nothing for it). Recorded with the channel.",
      access: 'write',
      id: CHANNEL,
      ok: { status: 200, description: 'What became of the test.', body: 'ChannelTest' },
    }),
    requireScope('write'),
    async (c) => {
      const ch = await find(c.req.param('id'));
      if (!deps.transports) throw new Error('this process has no channel transports');
      return c.json(renderTest(await sendTest(sql, secretKey, deps.transports, ch, actorOf(principalOf(c), undefined), clock.now(), acting(c))));
    },
  );

  app.delete(
    '/:id',
    doc({
      summary: 'Delete a channel',
      description:
        'Refused (409, naming what holds the channel) while an escalation policy or a user names it (remove it from them first); while an open incident paged it (delete it once that is resolved, so its resolve reaches it); while a message of an incident to it is not yet delivered (a page, acknowledgement or resolve still in the outbox or not yet sent); and while a dead outbox event would message it once replayed (an admin replays or discards it: `POST /v1/outbox/dead/{id}/replay`, `DELETE /v1/outbox/dead/{id}`); a dead page of an incident whose resolve already went out holds nothing, since its replay sends nothing. Also 409 with Retry-After when an edit naming the channel (an escalation policy or a user being saved) holds it longer than a deletion waits: 5 s in all for the row of the channel, and each later lock wait of the deletion 5 s (lock_timeout).',
      access: 'write',
      id: CHANNEL,
      headers: [IF_MATCH_ETAG],
      ok: { status: 204, description: 'Deleted.' },
      errors: [409, 412],
    }),
    requireScope('write'),
    async (c) => {
      const expected = ifMatchAny(c, ETAG_EXAMPLE);
      await deleteChannel(sql, (await find(c.req.param('id'))).id, clock.now(), acting(c), undefined, expected);
      return c.body(null, 204);
    },
  );

  return app;
}
