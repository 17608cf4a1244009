import type { List, Schedule, Shift, User } from '../api/shapes.ts';
import { API_OPTIONS, type Command } from './command.ts';
import { duration, when } from './format.ts';
import { renderTable } from './table.ts';

// How far ahead `lifeline oncall` looks for the next person: a month covers any weekly rota.
const LOOKAHEAD_DAYS = 31;

/** A stretch of one person being on call, however many layers' shifts make it up. */
export interface Turn {
  user_id: string;
  starts_at: string;
  ends_at: string;
}

/**
 * Who is on call at `from` and who comes next, from the shifts starting at `from` (as the API
 * lists them: in time order, clipped to the range). Adjoining shifts of one person are one turn,
 * so a hand-over between layers that keeps the same person is no change.
 */
export function nowAndNext(shifts: Shift[], from: string): { now: Turn | null; next: Turn | null } {
  const turns: Turn[] = [];
  for (const s of shifts) {
    const last = turns.at(-1);
    if (last && last.user_id === s.user_id && last.ends_at === s.starts_at) last.ends_at = s.ends_at;
    else turns.push({ user_id: s.user_id, starts_at: s.starts_at, ends_at: s.ends_at });
  }
  const current = turns[0] && Date.parse(turns[0].starts_at) <= Date.parse(from) ? turns[0] : null;
  return { now: current, next: turns[current ? 1 : 0] ?? null };
}

export const oncallCommand: Command = {
  name: 'oncall',
  args: ['[schedule]'],
  summary: 'who is on call now and who is next, per schedule',
  example: 'lifeline oncall primary',
  options: { ...API_OPTIONS },
  async run(ctx) {
    const client = ctx.client();
    const asked = ctx.arg(0) as string | undefined;
    const schedules = asked === undefined ? (await client.all<Schedule>('/v1/schedules')).items : [await client.get<Schedule>(`/v1/schedules/${encodeURIComponent(asked)}`)];
    const names = new Map((await client.all<User>('/v1/users')).items.map((u) => [u.id, u.name]));
    const from = new Date();
    const to = new Date(from.getTime() + LOOKAHEAD_DAYS * 86_400_000);
    const items = await Promise.all(
      schedules.map(async (s) => {
        const shifts = await client.get<List<Shift>>(`/v1/schedules/${s.id}/shifts`, { from: from.toISOString(), to: to.toISOString() });
        return { schedule_id: s.id, schedule: s.name, ...nowAndNext(shifts.items, from.toISOString()) };
      }),
    );
    const who = (t: Turn | null) => (t ? (names.get(t.user_id) ?? t.user_id) : 'nobody');
    const at = (iso: string) => `${when(iso)} (in ${duration(Date.parse(iso) - from.getTime())})`;
    const lookahead = `nobody within ${LOOKAHEAD_DAYS} days`;
    ctx.print({ at: from.toISOString(), items }, () => {
      if (items.length === 0) return 'No schedules.';
      return renderTable(
        [
          { header: 'SCHEDULE', value: (i: (typeof items)[number]) => i.schedule },
          { header: 'ON CALL', value: (i) => who(i.now) },
          { header: 'UNTIL', value: (i) => (i.now ? (i.now.ends_at === to.toISOString() ? `beyond ${LOOKAHEAD_DAYS} days` : at(i.now.ends_at)) : '-') },
          { header: 'NEXT', value: (i) => (i.next ? who(i.next) : i.now ? '-' : lookahead) },
          { header: 'FROM', value: (i) => (i.next ? at(i.next.starts_at) : '-') },
        ],
        items,
      );
    });
  },
};
