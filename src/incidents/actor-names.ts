// The names of the API keys among an incident's actors, read for shownActor and actorText
// (shown-actor.ts, the rule itself, pure).

import { apiKeyNames } from '../access/store.ts';
import type { Queryable } from '../db/client.ts';
import { actorKeyId, actorText } from './shown-actor.ts';

/** Names for the API keys among these actors (`api-key:<id>`, the default `by`): one query, none without keys. */
export async function actorNames(sql: Queryable, actors: Array<string | null | undefined>): Promise<Map<string, string>> {
  const ids = [...new Set(actors.flatMap((a) => actorKeyId(a) ?? []))];
  return apiKeyNames(sql, ids);
}

/** One actor as plain text, its key's name read when it is a key: for a page or message about one action. */
export async function actorTextOf(sql: Queryable, by: string): Promise<string> {
  return actorText(by, await actorNames(sql, [by]));
}
