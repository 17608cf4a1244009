/**
 * A word as sh reads it back: as is when plain, else in single quotes (a `'` in it as `'\\''`).
 * For the command lines Lifeline prints to be pasted (the first-run line's, `nodes add`'s agent
 * hint) or put in a crontab (which escapes `%` on top, src/cli/nodes.ts): a `%` is quoted too.
 */
export const shellWord = (word: string) => (/^[\w@+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);
