import type { Child } from 'hono/jsx';
import type { State } from '../health/decide.ts';
import { ago, duration, utc } from './format.ts';

export const StateBadge = (p: { state: State; large?: boolean }) => (
  <span class={`state state-${p.state}${p.large ? ' state-large' : ''}`}>{p.state}</span>
);

/** A moment as "12 min ago", exact in its tooltip and for machines. */
export const Ago = (p: { at: Date | null; now: Date; never?: string }) =>
  p.at ? (
    <time datetime={p.at.toISOString()} title={utc(p.at)}>
      {ago(p.at, p.now)}
    </time>
  ) : (
    <span class="muted">{p.never ?? 'never'}</span>
  );

/** How long something has lasted, with the moment it began underneath. */
export const Lasting = (p: { since: Date; now: Date }) => (
  <span>
    <time datetime={p.since.toISOString()}>{duration(p.now.getTime() - p.since.getTime())}</time>
    <span class="sub">{utc(p.since)}</span>
  </span>
);

/** An exact moment, in UTC like the API and the logs. */
export const At = (p: { at: Date | null; none?: string }) =>
  p.at ? <time datetime={p.at.toISOString()}>{utc(p.at)}</time> : <span class="muted">{p.none ?? '—'}</span>;

export const LabelList = (p: { labels: Record<string, string> }) => (
  <>
    {Object.entries(p.labels).map(([k, v]) => (
      <span class="tag mono">
        {k}={v}
      </span>
    ))}
  </>
);

export const Notice = (p: { kind?: 'ok' | 'bad'; children?: Child }) => (
  <div class={`notice${p.kind ? ` ${p.kind}` : ''}`} role={p.kind === 'bad' ? 'alert' : 'status'}>
    {p.children}
  </div>
);

/** Previous / next links of a keyset-paged list; each is absent at its end. */
export const Pager = (p: { prev?: string | undefined; next?: string | undefined; children?: Child }) =>
  p.prev || p.next || p.children ? (
    <nav class="pager" aria-label="Pages">
      {p.prev ? <a href={p.prev}>← Previous</a> : null}
      {p.next ? <a href={p.next}>Next →</a> : null}
      {p.children}
    </nav>
  ) : null;
