const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a string is a UUID, the form of every id the engine issues. A string that is not one is
 * never sent to Postgres as an id (it would refuse the cast); it is simply not found, or, where
 * names are accepted too, taken as a name.
 */
export const isUuid = (s: string): boolean => UUID.test(s);
