import type { Sql } from '../../src/db/client.ts';
import { DUE_CHANNEL } from '../../src/health/store.ts';

/**
 * The notices evaluators hear (DUE_CHANNEL) while `writes` runs, in commit order. `mark(name)` puts
 * a notice of that name among them, after every one committed before it, so a test can say which
 * write sent which. The last is an `end` of its own, heard after every other: no wait on time.
 */
export async function noticesHeard(sql: Sql, writes: (mark: (name: string) => Promise<void>) => Promise<void>): Promise<string[]> {
  const heard: string[] = [];
  let ended!: () => void;
  const end = new Promise<void>((resolve) => (ended = resolve));
  const listening = await sql.listen(DUE_CHANNEL, (payload) => (payload === 'end' ? ended() : heard.push(payload)));
  const mark = async (name: string) => void (await sql`select pg_notify(${DUE_CHANNEL}, ${name})`);
  try {
    await writes(mark);
    // Delivered in commit order: once this one is heard, every notice before it has been.
    await mark('end');
    await end;
  } finally {
    await listening.unlisten();
  }
  return heard;
}
