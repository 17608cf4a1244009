import type { Sql } from '../../src/db/client.ts';

/** The pool, showing `watch` each statement's text and values first; a statement `watch` throws for fails with that error. */
export function watchingStatements(sql: Sql, watch: (text: string, values: unknown[]) => void): Sql {
  return new Proxy(sql, {
    apply(target, self, args) {
      const [strings, ...values] = args as [unknown, ...unknown[]];
      if (Array.isArray(strings) && 'raw' in strings) {
        try {
          watch(strings.join(''), values);
        } catch (err) {
          return Promise.reject(err);
        }
      }
      return Reflect.apply(target, self, args);
    },
  });
}
