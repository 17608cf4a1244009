// Who acted on an incident, as people read it: one rule for the console, the pages links open and
// the messages people receive. The stored `by` (acknowledged_by, resolved_by, a timeline entry's
// `by`) stays what the API and the webhook's incident carry: `api-key:<id>` stays valid across a
// key's rename, and `auto` is what receivers match on. The key names come from actorNames
// (actor-names.ts); this module only reads them.

const API_KEY_ACTOR = /^api-key:([0-9a-f-]{36})$/;

/** The API key's id an actor names (`api-key:<id>`, the default `by`); undefined for anyone else. */
export const actorKeyId = (by: string | null | undefined): string | undefined => API_KEY_ACTOR.exec(by ?? '')?.[1];

/**
 * A `by` the engine writes itself, which shownActor gives a meaning: `auto` and `node_deleted` (the
 * engine closed it), `api-key:<id>` and `node:<name>` (the caller, when no `by` is given; actorOf).
 * The API refuses them as a given `by`, so no typed name reads as "Lifeline" or "key ops-bot".
 */
export const engineActor = (by: string): boolean => by === 'auto' || by === 'node_deleted' || by.startsWith('api-key:') || by.startsWith('node:');

/**
 * Who did it: the engine as Lifeline (`auto`: the node recovered; `node_deleted`), an API key by its
 * name (`{key}`, for markup to set apart), anyone else as recorded (a person's or a channel's name,
 * a `by` given to the API, a key deleted since).
 */
export function shownActor(by: string, keyNames: ReadonlyMap<string, string>): { key: string } | { text: string } {
  if (by === 'auto') return { text: 'Lifeline' };
  if (by === 'node_deleted') return { text: 'Lifeline (the node was deleted)' };
  const id = actorKeyId(by);
  const name = id === undefined ? undefined : keyNames.get(id);
  return name === undefined ? { text: by } : { key: name };
}

/** shownActor as plain text: "key bootstrap-admin", "Lifeline", "Alice Example". */
export function actorText(by: string, keyNames: ReadonlyMap<string, string>): string {
  const shown = shownActor(by, keyNames);
  return 'key' in shown ? `key ${shown.key}` : shown.text;
}
