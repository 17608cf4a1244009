import type { Context } from 'hono';
import { actorOf, type Acting } from '../audit/model.ts';
import { principalOf, type AuthEnv } from './auth.ts';

/** Who asks through the API, for the audit rows of the commands this request runs. */
export const acting = (c: Context<AuthEnv>): Acting => ({ actor: actorOf(principalOf(c)), via: 'api', requestId: c.var.requestId });
