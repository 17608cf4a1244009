import type { ApiKey, ApiKeyWithSecret } from '../api/shapes.ts';
import { API_OPTIONS, LIST_OPTIONS, UsageError, type Command } from './command.ts';
import { secretBlock, when } from './format.ts';

const SCOPES = ['admin', 'write', 'read', 'ingest'];

const create: Command = {
  name: 'keys create',
  summary: 'create an API key and print its secret once',
  example: 'lifeline keys create --name ci --scope write',
  options: {
    ...API_OPTIONS,
    name: { type: 'string', hint: 'name', description: 'what the key is for, as keys list shows it' },
    scope: { type: 'string', hint: SCOPES.join('|'), description: 'admin ⊃ write ⊃ read, or ingest (heartbeats only)' },
  },
  async run(ctx) {
    const name = ctx.string('name');
    const scope = ctx.string('scope');
    if (!name || !scope) throw new UsageError('keys create needs --name and --scope', ctx.command);
    const key = await ctx.client().post<ApiKeyWithSecret>('/v1/api-keys', { name, scope });
    ctx.print(key, () => `Created API key ${key.name} (scope ${key.scope}, id ${key.id}).\n` + secretBlock('Secret', key.secret!));
  },
};

const list: Command = {
  name: 'keys list',
  summary: 'list API keys (never their secrets)',
  example: 'lifeline keys list',
  options: { ...API_OPTIONS, ...LIST_OPTIONS },
  async run(ctx) {
    ctx.list(
      await ctx.fetchList<ApiKey>('/v1/api-keys'),
      [
        { header: 'ID', value: (k) => k.id },
        { header: 'NAME', value: (k) => k.name },
        { header: 'SCOPE', value: (k) => k.scope },
        { header: 'CREATED', value: (k) => when(k.created_at) },
        { header: 'REVOKED', value: (k) => when(k.revoked_at) },
      ],
      'API keys',
    );
  },
};

export const keyCommands = [create, list];
