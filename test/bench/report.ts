// The benchmark's output: one markdown document on stdout, each figure beside its naive baseline
// (measured in the same run) and its target. Progress goes to stderr so the report can
// be piped straight into BENCHMARKS.md.

export type Verdict = 'pass' | 'MISS' | '';

export interface Row {
  figure: string;
  lifeline: string;
  baseline: string;
  target: string;
  verdict: Verdict;
}

export interface Section {
  title: string;
  rows: Row[];
  notes: string[];
  /** Markdown a section's own module rendered (it may carry its own heading), shown after the rows. */
  markdown?: string;
}

export interface Header {
  command: string;
  date: string;
  commit: string;
  machine: string[];
}

export function section(title: string): Section {
  return { title, rows: [], notes: [] };
}

/** `ok` undefined = no target for this figure (context only). */
export function row(s: Section, figure: string, lifeline: string, baseline: string, target: string, ok?: boolean): void {
  s.rows.push({ figure, lifeline, baseline, target, verdict: ok === undefined ? '' : ok ? 'pass' : 'MISS' });
}

/** A section whose module renders its own markdown (test/bench/uptime.ts runs on its own too). */
export function preRendered(title: string, markdown: string): Section {
  return { title, rows: [], notes: [], markdown };
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** Its headings one level down, so they sit under the report's own section heading. */
const demoted = (markdown: string) => markdown.trim().replace(/^#+ /gm, (h) => `#${h}`);

/** Figures of pre-rendered tables whose last cell says MISS, so the summary names them too. */
function renderedMisses(markdown: string): string[] {
  return markdown
    .split('\n')
    .map((line) => line.trim().split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()))
    .filter((cells) => cells.length > 1 && cells[cells.length - 1] === 'MISS')
    .map((cells) => cells[0]!);
}

export function renderReport(h: Header, sections: Section[]): string {
  const out: string[] = [];
  out.push('# Lifeline benchmarks', '');
  out.push(`- command: \`${h.command}\``);
  out.push(`- date (UTC): ${h.date}`);
  out.push(`- commit: ${h.commit}`);
  for (const m of h.machine) out.push(`- ${m}`);
  out.push('');
  for (const s of sections) {
    out.push(`## ${s.title}`, '');
    if (s.rows.length) {
      out.push('| figure | Lifeline | naive baseline | target | verdict |', '|---|---:|---:|---|---|');
      for (const r of s.rows) out.push(`| ${[r.figure, r.lifeline, r.baseline, r.target, r.verdict].map(cell).join(' | ')} |`);
      out.push('');
    }
    for (const n of s.notes) out.push(`- ${n}`);
    if (s.notes.length) out.push('');
    if (s.markdown) out.push(demoted(s.markdown), '');
  }
  const misses = sections.flatMap((s) => [
    ...s.rows.filter((r) => r.verdict === 'MISS').map((r) => `${s.title}: ${r.figure}`),
    ...renderedMisses(s.markdown ?? '').map((figure) => `${s.title}: ${figure}`),
  ]);
  out.push('## Summary', '');
  out.push(misses.length ? `Targets missed (${misses.length}):` : 'Every figure with a target met it.');
  for (const m of misses) out.push(`- ${m}`);
  return out.join('\n') + '\n';
}

// Number formatting kept in one place so every table reads alike.
export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
export const ms = (n: number, digits = 1): string => (Number.isFinite(n) ? `${n.toFixed(digits)} ms` : '—');
export const sec = (n: number, digits = 2): string => (Number.isFinite(n) ? `${n.toFixed(digits)} s` : '—');
export const pct = (ratio: number, digits = 1): string => (Number.isFinite(ratio) ? `${(ratio * 100).toFixed(digits)} %` : '—');
export const times = (ratio: number): string => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—');
