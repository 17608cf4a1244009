// Section 10's page figure alone, on a database seeded once and kept: `tsx test/bench/status-page-only.ts`
// prints the page computed and rendered as HTML, p50 / p99 of 40 (as the section times it), and
// the CPU the process spent on each, in a few seconds where the whole section takes minutes, so
// two builds can be alternated run by run on one machine over the very same rows. BENCH_STATUS_DB
// names the database (created and seeded when missing; drop it when done), RUNS the number of pages.
import { createSql } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { publishedPage } from '../../src/statuspages/service.ts';
import { renderStatusPage } from '../../src/web/status-page.tsx';
import { urlFor } from './databases.ts';
import { median, percentile, timed } from './stats.ts';
import { seedStatusPage } from './status-pages.ts';

const name = process.env.BENCH_STATUS_DB ?? 'lifeline_status_page_bench';
const admin = createSql(urlFor('postgres'), { dedicated: true });
const fresh = (await admin`select 1 from pg_database where datname = ${name}`).length === 0;
if (fresh) await admin`create database ${admin(name)}`;
await admin.end();
if (fresh) await migrate(urlFor(name));
const sql = createSql(urlFor(name), { max: 4, applicationName: 'lifeline-bench' });
// The seeded history is relative to the moment it was seeded: the page is computed at that moment.
await sql`create table if not exists bench_seeded_at (at timestamptz not null)`;
let [seeded] = await sql<{ at: Date }[]>`select at from bench_seeded_at`;
if (!seeded) {
  seeded = { at: new Date() };
  await seedStatusPage(sql, 500, seeded.at);
  await sql`insert into bench_seeded_at values (${seeded.at})`;
}
const t = seeded.at.getTime();
const runs = Number(process.env.RUNS ?? 40);
for (let i = 0; i < 3; i++) renderStatusPage((await publishedPage(sql, 'bench', t))!); // warm-up
const page: number[] = [];
const compute: number[] = [];
// This process's CPU per page beside the wall time: on a machine busy with other work the wall
// time mostly says how long the page waited for a core, its CPU what it cost (Postgres's not counted).
const cpu: number[] = [];
for (let i = 0; i < runs; i++) {
  const before = process.cpuUsage();
  const c = await timed(() => publishedPage(sql, 'bench', t));
  const r = await timed(async () => renderStatusPage(c.value!));
  const used = process.cpuUsage(before);
  cpu.push((used.user + used.system) / 1000);
  compute.push(c.ms);
  page.push(c.ms + r.ms);
}
const p50p99 = (xs: number[]) => `${median(xs).toFixed(1)} / ${percentile(xs, 99).toFixed(1)} ms`;
console.log(`page p50 / p99 ${p50p99(page)}; computing its data ${p50p99(compute)}; this process's CPU per page ${p50p99(cpu)}`);
await sql.end();
