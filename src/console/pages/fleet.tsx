import { Hono } from 'hono';
import { fleetCounts, fleetCursor, fleetPage, fleetSpread, FLEET_ORDER } from '../../nodes/store.ts';
import type { FleetCursor, FleetFilter, FleetSpread, SpreadValue } from '../../nodes/store.ts';
import type { NodeRow } from '../../nodes/model.ts';
import { STATES, type State } from '../../health/decide.ts';
import type { AppDeps } from '../../http/deps.ts';
import { Ago, LabelList, Lasting, Notice, Pager, StateBadge, Table } from '../components.tsx';
import { chrome, cursor, href, nodePath, readCursor } from '../context.ts';
import type { ConsoleEnv, Guards } from '../guard.ts';
import { Live, Page } from '../layout.tsx';
import type { EventType } from '../../live/model.ts';
import { sayAttrs } from '../live-status.ts';
import { may } from '../acting.tsx';
import { ADD_NODE_PATH } from './node-add.tsx';
import { html } from '../render.tsx';
import { LabelField, LabelProblem, readLabelFilters, withLabel, type LabelQuery } from '../label-filter.tsx';

const PAGE_SIZE = 100;
/** The list shows each node's reason, which changes without a transition while it stays down (node.reason_changed). */
const FLEET_ON: readonly EventType[] = ['node.state_changed', 'node.reason_changed'];
const isFleetCursor = (k: unknown): k is FleetCursor =>
  Array.isArray(k) && k.length === 2 && Number.isInteger(k[0]) && typeof k[1] === 'string' && k[1].length <= 128;

interface FleetQuery extends LabelQuery {
  filter: FleetFilter;
  after?: FleetCursor | undefined;
  before?: FleetCursor | undefined;
}

/** The fleet view's query string, read leniently: a bad value is reported and left out, never a 400 page. */
function readQuery(q: Record<string, string>, label: string[] | undefined): FleetQuery {
  const state = (STATES as readonly string[]).includes(q.state ?? '') ? (q.state as State) : undefined;
  const search = q.q?.trim().slice(0, 128) || undefined;
  const labels = readLabelFilters(label);
  return {
    ...labels,
    filter: { state, search, labels: labels.labels },
    after: readCursor(q.after, isFleetCursor),
    before: readCursor(q.before, isFleetCursor),
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

function Counts(p: { counts: Record<State, number>; q: FleetQuery }) {
  const total = Object.values(p.counts).reduce((a, b) => a + b, 0);
  const base = { q: p.q.filter.search, label: p.q.labelTexts };
  return (
    <ul class="chips" aria-label="Nodes per state">
      <li>
        <a href={href('/', base)} aria-current={p.q.filter.state ? undefined : 'true'}>
          <b>{fmt(total)}</b> all
        </a>
      </li>
      {FLEET_ORDER.map((s) => (
        <li>
          <a href={href('/', { ...base, state: s })} aria-current={p.q.filter.state === s ? 'true' : undefined} class={s === 'down' && p.counts.down > 0 ? 'chip-alert' : undefined}>
            <b>{fmt(p.counts[s])}</b> <StateBadge state={s} />
          </a>
        </li>
      ))}
    </ul>
  );
}

/**
 * How much of the outage "Where it is" shows: the 5 label keys carried by most down and degraded
 * nodes, 6 values each, the rest counted: up to 30 links, one or two lines a key at 1280 px and a
 * line a value at 390 px (~700 px, the height of eleven of the phone's 64 px rows), so the rows
 * stay near; five keys cover the usual region, zone, role, team and environment.
 */
const SPREAD = { keys: 5, values: 6 };

const plural = (n: number, one: string) => `${fmt(n)} ${one}${n === 1 ? '' : 's'}`;

/** A value's counts as said: "3 down, 4 degraded". */
const hitText = (v: SpreadValue) => [v.down ? `${fmt(v.down)} down` : '', v.degraded ? `${fmt(v.degraded)} degraded` : ''].filter(Boolean).join(', ');

/**
 * Where the down and degraded nodes are, by label (fleetSpread): each value a link to Fleet
 * filtered by it (and by the page's own labels), and by its state when all its nodes share one, so 300 rows of an outage over
 * five regions read as five links. Not by the page's own state: the counts are of every down and
 * degraded node whatever the page shows, so on `?state=degraded` a "3 down" kept to degraded
 * nodes led to an empty list.
 */
function Spread(p: { spread: FleetSpread; q: FleetQuery }) {
  if (p.spread.keys.length === 0) return null;
  // Undefined on a page filtered by the most labels: the value is shown, not linked.
  const link = (key: string, v: SpreadValue) => {
    const label = withLabel(p.q.labelTexts, `${key}=${v.value}`);
    return label && href('/', { state: v.degraded === 0 ? 'down' : v.down === 0 ? 'degraded' : undefined, q: p.q.filter.search, label });
  };
  return (
    <section class="spread panel" aria-labelledby="spread-heading">
      <h2 id="spread-heading">Where it is</h2>
      <ul class="spread-keys">
        {p.spread.keys.map((k) => (
          <li>
            <span class="mono spread-key">{k.key}:</span>
            <ul class="spread-values">
              {k.values.map((v) => [v, link(k.key, v)] as const).map(([v, to]) => (
                <li>
                  {/* Named in full, as the label filter is typed; the line shows the key once, before its values. Without its link, a placeholder read as it shows. */}
                  <a href={to} aria-label={to && `${k.key}=${v.value}: ${hitText(v)}`}>
                    <span class="mono">{v.value}</span>
                    {v.down ? <b class="state-down"> {fmt(v.down)} down{v.degraded ? ',' : ''}</b> : null}
                    {v.degraded ? <b class="state-degraded"> {fmt(v.degraded)} degraded</b> : null}
                  </a>
                </li>
              ))}
              {k.moreValues ? <li class="muted">{plural(k.moreValues, 'more value')}</li> : null}
            </ul>
          </li>
        ))}
      </ul>
      {p.spread.moreKeys ? <p class="muted">{plural(p.spread.moreKeys, 'more key')}</p> : null}
    </section>
  );
}

/**
 * A fleet with no node at all, as on a first run: "No node matches" blamed a filter nobody set, so
 * the page says where nodes come from, the console's own form first for those who may use it.
 */
function NoNodesYet(p: { canAdd: boolean }) {
  return (
    <div class="empty panel">
      <p>No nodes yet.</p>
      {p.canAdd ? (
        <p>
          <a class="button primary" href={ADD_NODE_PATH}>
            Add a node
          </a>
        </p>
      ) : null}
      <p class="muted">
        {p.canAdd ? 'Or add' : 'Add'} one with <code>npx lifeline nodes add web-1</code> or <code>POST /v1/nodes</code>, or start an agent with an <code>ingest</code>{' '}
        key: its first heartbeat registers its node.
      </p>
    </div>
  );
}

/**
 * The fleet's rows (exported for the benchmark's naive all-on-one-page console). One column holds a
 * heartbeat node's last heartbeat and a scheduled job's last ping (its last run's end), both its
 * last report: headed "Last heartbeat", it called jobs heartbeat nodes. A label tag links to Fleet
 * filtered by it besides the `labels` the page is filtered by: it replaced them.
 */
export function FleetTable(p: { rows: NodeRow[]; now: Date; labels?: readonly string[] }) {
  const labelLink = (key: string, value: string) => {
    const label = withLabel(p.labels ?? [], `${key}=${value}`);
    return label && href('/', { label });
  };
  if (p.rows.length === 0) return <p class="empty panel">No node matches.</p>;
  return (
    <Table head={['Node', 'State', 'Since', 'Last report', 'Reason']}>
      {p.rows.map((n) => (
        <tr class={`row-${n.state}`} {...sayAttrs({ key: `node:${n.id}`, state: n.state, say: `${n.name} is now ${n.state}`, brief: `${n.name} ${n.state}`, kind: 'node' })}>
          <td data-label="Node">
            <a href={nodePath(n)}>{n.name}</a>
            {Object.keys(n.labels).length ? (
              <span class="sub">
                <LabelList labels={n.labels} to={labelLink} />
              </span>
            ) : null}
          </td>
          <td data-label="State">
            <StateBadge state={n.state} />
          </td>
          <td data-label="Since">
            <Lasting since={n.since} now={p.now} />
          </td>
          <td data-label="Last report">
            <Ago at={n.last_heartbeat_at} now={p.now} />
          </td>
          <td data-label="Reason" class="reason">
            {n.reason ?? <span class="muted">—</span>}
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function fleetRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();

  app.get('/', ...guards.page, async (c) => {
    const q = readQuery(c.req.query(), c.req.queries('label'));
    const now = deps.clock.now();
    // One more row than shown says whether there is a page beyond. Unfiltered, the counts come
    // first: they choose how the page reads each state (fleetPage); a filtered page does not use
    // them, so both reads go at once.
    const page = (sizes?: Record<State, number>) => fleetPage(deps.sql, q.filter, { after: q.after, before: q.before }, PAGE_SIZE + 1, sizes);
    const counted = fleetCounts(deps.sql, { labels: q.filter.labels, search: q.filter.search });
    const filtered = q.filter.labels?.length || q.filter.search !== undefined;
    // Only in trouble: the counts say whether any node is down or degraded under these filters.
    const spread = counted.then((n) => (n.down + n.degraded > 0 ? fleetSpread(deps.sql, { labels: q.filter.labels, search: q.filter.search }, SPREAD) : { keys: [], moreKeys: 0 }));
    const [frame, counts, fetched, where] = await Promise.all([chrome(c, deps), counted, filtered ? page() : counted.then(page), spread]);
    const backwards = q.before !== undefined;
    const more = fetched.length > PAGE_SIZE;
    const rows = more ? (backwards ? fetched.slice(1) : fetched.slice(0, PAGE_SIZE)) : fetched;
    const keep = { state: q.filter.state, q: q.filter.search, label: q.labelTexts };
    const first = rows[0];
    const last = rows.at(-1);
    const prev = first && (backwards ? more : q.after !== undefined) ? href('/', { ...keep, before: cursor(fleetCursor(first)) }) : undefined;
    const next = last && (backwards || more) ? href('/', { ...keep, after: cursor(fleetCursor(last)) }) : undefined;
    const self = href('/', { ...keep, after: c.req.query('after'), before: c.req.query('before') });
    const unfiltered = !q.filter.state && !q.filter.search && !q.labelTexts.length;
    const canAdd = may(frame.session, 'write');

    return html(
      c,
      <Page title="Fleet" chrome={frame} section="fleet" live={FLEET_ON}>
        <div class="page-head">
          <h1>Fleet</h1>
          <form class="filters" method="get" action="/" role="search">
            {q.filter.state ? <input type="hidden" name="state" value={q.filter.state} /> : null}
            <div>
              <label for="q">Name contains</label>
              <input id="q" name="q" type="search" value={q.filter.search ?? ''} maxlength={128} spellcheck={false} />
            </div>
            <LabelField q={q} />
            <button type="submit">Filter</button>
          </form>
          {canAdd ? (
            <div class="actions">
              <a class="button" href={ADD_NODE_PATH}>
                Add node
              </a>
            </div>
          ) : null}
        </div>
        <LabelProblem q={q} />
        {/* No name from the address: anyone may send a link with words of their own there. */}
        {c.req.query('deleted') !== undefined ? (
          <Notice kind="ok">
            <p>Deleted.</p>
          </Notice>
        ) : null}
        <Live id="fleet-live" url={self} on={FLEET_ON}>
          <Counts counts={counts} q={q} />
          <Spread spread={where} q={q} />
          {unfiltered && Object.values(counts).every((n) => n === 0) ? <NoNodesYet canAdd={canAdd} /> : <FleetTable rows={rows} now={now} labels={q.labelTexts} />}
          <Pager prev={prev} next={next} />
        </Live>
      </Page>,
    );
  });

  return app;
}
