// Until when a person stays on call (onCallUntil), for schedules where the run never ends within
// the 93 days it looks ahead: ten PT1H layers of one person, alone, over office-hours layers, and
// with an override of another 13 days on. Every on-call answer and the policy page ask this, so
// one such schedule is paid for on each of them.
//
// Alone: node --import tsx test/bench/oncall-until.ts [--calls 200]
// prints, per schedule, the answer and the CPU time of one call, averaged over --calls calls.
import { parseArgs } from 'node:util';
import { onCallUntil, type Layer, type Schedule } from '../../src/oncall/schedule.ts';

// Monday 2026-12-07 09:30 in Berlin; the layers started five weeks before.
const AT = new Date('2026-12-07T08:30:00Z');
const START = new Date('2026-11-02T00:00:00Z');

const hourly = (over: Partial<Layer> = {}): Layer[] =>
  Array.from({ length: 10 }, (_, i) => ({ name: `hourly-${i}`, user_ids: ['ana'], starts_at: START, rotation: 'PT1H', ...over }));

const SCHEDULES: Record<string, Schedule> = {
  'ten PT1H layers of one person': { time_zone: 'Europe/Berlin', layers: hourly(), overrides: [] },
  'nine of them on weekdays 09:00–17:00 over the tenth': {
    time_zone: 'Europe/Berlin',
    layers: [hourly()[0]!, ...hourly({ restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] }).slice(1)],
    overrides: [],
  },
  'the ten, another person’s override 13 days on': {
    time_zone: 'Europe/Berlin',
    layers: hourly(),
    overrides: [{ user_id: 'ben', starts_at: new Date('2026-12-20T12:00:00Z'), ends_at: new Date('2026-12-20T14:00:00Z'), created_at: START }],
  },
};

const { values } = parseArgs({ options: { calls: { type: 'string' } } });
const calls = Number(values.calls ?? 200);
for (const [name, schedule] of Object.entries(SCHEDULES)) {
  // The first call builds the zone's offset tables for 2026 and 2027, once per process.
  const answer = onCallUntil(schedule, AT).map((x) => `${x.user_id} until ${x.until?.toISOString() ?? 'beyond 93 days'}`);
  // CPU time, not wall: on a busy machine the waits for a core are not the call's.
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) onCallUntil(schedule, AT);
  const used = process.cpuUsage(before);
  process.stdout.write(`${name}: ${((used.user + used.system) / 1000 / calls).toFixed(3)} ms of CPU a call (${calls} calls); ${answer.join(', ')}\n`);
}
