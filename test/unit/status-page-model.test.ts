import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { State } from '../../src/health/decide.ts';
import { componentDays, componentKeys, componentProblems, identifiedComponents, componentStatus, dayStatus, pageStatus, pageView, pageWindow, PAST_MAX, SCHEDULED_DAYS, SCHEDULED_MAX, unkeptDays, worstState, type Member, type OpenIncident, type StatusPage } from '../../src/statuspages/model.ts';
import { splitIntoBuckets, type Bucket } from '../../src/uptime/buckets.ts';
import type { WindowAhead } from '../../src/maintenance/model.ts';
import type { SpanRow } from '../../src/incidents/model.ts';
import { percent } from '../../src/uptime/percent.ts';
import { renderStatusPage } from '../../src/web/status-page.tsx';
import { at, DAY, HOUR, stateMs } from '../helpers/uptime-history.ts';

/** The page with no day kept yet: every day as the members and their buckets say. */
const liveView = (page: StatusPage, members: ReadonlyArray<readonly Member[]>, buckets: ReadonlyArray<readonly Bucket[]>, incidents: readonly OpenIncident[], windows: readonly WindowAhead[], now: number) =>
  pageView(page, members, componentDays(componentKeys(page.components), [], buckets, members, now), incidents, [], windows, now);

describe('a component’s state', () => {
  it('is the worst of its nodes: down > degraded > maintenance > unknown > healthy', () => {
    const order: State[] = ['down', 'degraded', 'maintenance', 'unknown', 'healthy'];
    order.forEach((worst, i) => {
      for (const better of order.slice(i)) assert.equal(worstState([better, worst, better]), worst, `${worst} over ${better}`);
    });
    assert.equal(worstState(['healthy', 'healthy']), 'healthy');
  });

  it('is unknown when it has no nodes: nothing is watched', () => {
    assert.equal(worstState([]), 'unknown');
  });
});

describe('a component’s status', () => {
  const cases: Array<[State[], ReturnType<typeof componentStatus>]> = [
    [['down', 'healthy'], 'partial_outage'],
    [['down', 'degraded', 'unknown'], 'partial_outage'],
    [['down', 'down'], 'major_outage'],
    [['down'], 'major_outage'],
    [['down', 'maintenance'], 'major_outage'],
    [['degraded', 'healthy', 'maintenance'], 'degraded'],
    [['maintenance', 'healthy'], 'maintenance'],
    [['maintenance', 'maintenance'], 'maintenance'],
    [['unknown', 'healthy'], 'unknown'],
    [['healthy', 'healthy'], 'operational'],
    [[], 'unknown'],
  ];
  for (const [states, expected] of cases) {
    it(`[${states.join(', ')}]: ${expected}`, () => assert.equal(componentStatus(states), expected));
  }
});

describe('a page’s headline', () => {
  const cases: Array<[Parameters<typeof pageStatus>[0], ReturnType<typeof pageStatus>]> = [
    [['operational', 'operational'], 'operational'],
    [['major_outage', 'major_outage', 'major_outage'], 'major_outage'],
    [['major_outage', 'operational'], 'partial_outage'],
    [['major_outage', 'maintenance'], 'partial_outage'],
    [['partial_outage', 'partial_outage'], 'partial_outage'],
    [['degraded', 'partial_outage'], 'partial_outage'],
    [['degraded', 'maintenance', 'unknown'], 'degraded'],
    [['maintenance', 'operational'], 'maintenance'],
    [['unknown', 'operational'], 'unknown'],
    [[], 'unknown'],
  ];
  for (const [statuses, expected] of cases) {
    it(`[${statuses.join(', ')}]: ${expected}`, () => assert.equal(pageStatus(statuses), expected));
  }
});

describe('a day’s bar', () => {
  const cases: Array<[string, Parameters<typeof stateMs>[0], ReturnType<typeof dayStatus>]> = [
    ['nothing at all (before the nodes existed)', {}, 'no_data'],
    ['only unknown time', { unknown: DAY }, 'no_data'],
    ['only maintenance', { maintenance: DAY }, 'maintenance'],
    ['maintenance and unknown', { maintenance: HOUR, unknown: 23 * HOUR }, 'maintenance'],
    ['healthy with a maintenance window', { healthy: 23 * HOUR, maintenance: HOUR }, 'maintenance'],
    ['healthy all day', { healthy: DAY }, 'operational'],
    ['healthy with a blind hour', { healthy: 23 * HOUR, unknown: HOUR }, 'operational'],
    ['a second degraded', { healthy: DAY - 1000, degraded: 1000 }, 'degraded'],
    ['a second down, however high the ratio', { healthy: DAY - 1000, down: 1000 }, 'down'],
    ['down and degraded and maintenance', { down: 1, degraded: 1, maintenance: 1 }, 'down'],
  ];
  for (const [name, ms, expected] of cases) {
    it(`${name}: ${expected}`, () => assert.equal(dayStatus(stateMs(ms)), expected));
  }
});

describe('percentages', () => {
  it('are cut, never rounded up to a figure the nodes did not reach', () => {
    assert.equal(percent(0.99996), '99.99%');
    assert.equal(percent(0.999999999), '99.99%');
    assert.equal(percent(1), '100%');
    assert.equal(percent(0.5), '50.00%');
    assert.equal(percent(0), '0.00%');
    assert.equal(percent(null), 'no data');
  });
});

describe('a component’s identity', () => {
  const current = [
    { id: 'id-api-1', name: 'API', node_ids: [], labels: { tier: 'api' } },
    { id: 'id-api-2', name: 'API', node_ids: [], labels: { tier: 'api2' } },
    { id: 'id-web', name: 'Web', node_ids: [], labels: { tier: 'web' } },
  ];
  const ids = (given: Parameters<typeof identifiedComponents>[0]) => {
    let n = 0;
    const { components, problems } = identifiedComponents(given, current, () => `new-${++n}`);
    return { ids: components.map((c) => c.id), problems };
  };
  const spec = (name: string, id?: string) => ({ ...(id ? { id } : {}), name, node_ids: [], labels: { tier: 'x' } });

  it('is kept by the id sent, whatever the name: a rename keeps its past', () => {
    assert.deepEqual(ids([spec('Website', 'id-web'), spec('API', 'id-api-2')]), { ids: ['id-web', 'id-api-2'], problems: [] });
  });
  it('without an id is the page’s unclaimed component of that name, in order, else a new one', () => {
    assert.deepEqual(ids([spec('API', 'id-api-1'), spec('API'), spec('Status')]), { ids: ['id-api-1', 'id-api-2', 'new-1'], problems: [] });
    assert.deepEqual(ids([spec('Web'), spec('Web')]), { ids: ['id-web', 'new-1'], problems: [] });
  });
  it('refuses an id the page does not have, or one sent twice', () => {
    assert.deepEqual(ids([spec('A', 'nope'), spec('B', 'id-web'), spec('C', 'id-web')]).problems, [
      { field: 'components.0.id', message: 'is not a component of this page' },
      { field: 'components.2.id', message: 'names a component already given' },
    ]);
  });
});

describe('components must select something', () => {
  it('names both fields of a component without node ids or labels', () => {
    assert.deepEqual(componentProblems([{ node_ids: ['a'], labels: {} }, { node_ids: [], labels: {} }, { node_ids: [], labels: { k: 'v' } }]), [
      { field: 'components.1.node_ids', message: 'node_ids or labels must name at least one node or label' },
      { field: 'components.1.labels', message: 'node_ids or labels must name at least one node or label' },
    ]);
  });
});

describe('a published page', () => {
  const now = at('2026-11-21T09:30:00.000Z');
  const page = (show_nodes: boolean): StatusPage => ({
    id: 'p',
    slug: 'acme',
    title: 'Acme',
    description: null,
    public: true,
    show_nodes,
    components: [
      { id: 'c-web', name: 'Web', node_ids: [], labels: { tier: 'web' } },
      { id: 'c-edge', name: 'Edge', node_ids: ['n1'], labels: {} },
      { id: 'c-empty', name: 'Empty', node_ids: [], labels: { tier: 'none' } },
    ],
    created_at: new Date(now),
    updated_at: new Date(now),
  });
  const member = (id: string, name: string, state: State, reason: string | null = null): Member => ({
    id,
    name,
    labels: { tier: 'web' },
    state,
    since: new Date(now - HOUR),
    reason,
  });
  const members = [[member('n1', 'web-1', 'down', 'no heartbeat for 30s'), member('n2', 'web-2', 'healthy'), member('n3', 'web-3', 'down', 'failing')], [member('n1', 'web-1', 'down', 'no heartbeat for 30s')], []];
  const window = pageWindow(now);
  // Web's three nodes, each healthy for the last three days: the breakdown sums their time.
  const thrice = <T,>(x: T) => [x, x, x];
  const buckets = [
    splitIntoBuckets(thrice({ state: 'healthy' as const, start: now - 3 * DAY, end: now }), 'day', window.from, window.to),
    splitIntoBuckets([{ state: 'down', start: now - HOUR, end: now }], 'day', window.from, window.to),
    splitIntoBuckets([], 'day', window.from, window.to),
  ];
  const incident = (node_id: string, title: string, opened: string, acknowledged: string | null): OpenIncident => ({
    node_id,
    category: 'node_down',
    severity: 'critical',
    status: acknowledged ? 'acknowledged' : 'open',
    title,
    opened_at: new Date(opened),
    acknowledged_at: acknowledged ? new Date(acknowledged) : null,
  });
  const incidents = [
    incident('n1', 'web-1 is down', '2026-11-21T08:00:00.000Z', '2026-11-21T08:05:00.000Z'),
    incident('n3', 'web-3 is down', '2026-11-21T07:00:00.000Z', '2026-11-21T07:30:00.000Z'),
    incident('elsewhere', 'db-1 is down', '2026-11-21T09:00:00.000Z', null),
  ];

  it('draws the 90 days up to today, and its uptime is theirs', () => {
    assert.deepEqual(window, { from: at('2026-08-24T00:00:00.000Z'), to: now });
    const view = liveView(page(false), members, buckets, [], [], now);
    const web = view.components[0]!;
    assert.equal(web.days.length, 90);
    assert.equal(web.days[0]!.date, '2026-08-24');
    assert.equal(web.days.at(-1)!.date, '2026-11-21');
    assert.deepEqual(web.days.at(-1), { date: '2026-11-21', status: 'operational', uptime_ratio: 1, seconds: { healthy: 9.5 * 3600, degraded: 0, down: 0, maintenance: 0, unknown: 0 } });
    assert.equal(web.days.at(-4)!.status, 'operational');
    assert.equal(web.days.at(-5)!.status, 'no_data', '17 Nov: before the healthy time began');
    assert.deepEqual(web.uptime, { from: '2026-08-24T00:00:00.000Z', to: '2026-11-21T09:30:00.000Z', uptime_ratio: 1, up_seconds: 3 * 86_400, monitored_seconds: 3 * 86_400, seconds: { healthy: 3 * 86_400, degraded: 0, down: 0, maintenance: 0, unknown: 0 } });
    assert.deepEqual(view.components.map((c) => c.state), ['down', 'down', 'unknown'], 'the worst node, as before');
    assert.deepEqual(view.components.map((c) => c.status), ['partial_outage', 'major_outage', 'unknown'], 'one of Web’s three nodes is up');
    assert.equal(view.state, 'down');
    assert.equal(view.status, 'partial_outage', 'Web is only partly out, and Empty not out at all');
    assert.equal(view.components[2]!.uptime.uptime_ratio, null, 'an empty component has no ratio');
  });

  it('gives the last 30 days their own figure, the one a phone shows beside its 30 bars', () => {
    const recovered = [splitIntoBuckets(thrice([{ state: 'down' as const, start: now - 40 * DAY, end: now - 39 * DAY }, { state: 'healthy' as const, start: now - 39 * DAY, end: now }]).flat(), 'day', window.from, window.to)];
    const web = liveView(page(false), [members[0]!], recovered, [], [], now).components[0]!;
    assert.deepEqual({ from: web.uptime_30d.from, to: web.uptime_30d.to, ratio: web.uptime_30d.uptime_ratio }, { from: '2026-10-23T00:00:00.000Z', to: '2026-11-21T09:30:00.000Z', ratio: 1 });
    assert.equal(web.uptime_30d.monitored_seconds, 29 * 86_400 + 9.5 * 3600);
    assert.ok(web.uptime.uptime_ratio! < 1, 'the day down 40 days ago is in the 90-day figure only');
  });

  it('says a component\'s time, not its nodes\' summed: the figures are the same for one node as for seven, so they do not count them', () => {
    const day = (n: number) =>
      splitIntoBuckets(
        // One node of the n down 10 minutes a day ago; the others up.
        Array.from({ length: n }, (_, i) => {
          const down = i === 0 ? 600_000 : 0;
          return [
            { state: 'healthy' as const, start: now - 2 * DAY, end: now - DAY },
            { state: 'down' as const, start: now - DAY, end: now - DAY + down },
            { state: 'healthy' as const, start: now - DAY + down, end: now },
          ];
        }).flat(),
        'day', window.from, window.to,
      );
    const one = liveView(page(false), [[member('n1', 'web-1', 'healthy')]], [day(1)], [], [], now).components[0]!;
    const seven = liveView(page(false), [Array.from({ length: 7 }, (_, i) => member(`n${i}`, `web-${i}`, 'healthy'))], [day(7)], [], [], now).components[0]!;
    const yesterday = seven.days.at(-2)!;
    assert.equal(yesterday.seconds.down, 86, '600 s over 7 nodes, up to whole seconds: no decimals naming the 7');
    assert.equal(yesterday.seconds.healthy + yesterday.seconds.down, 86_400, 'a day of seven nodes adds up to a day, not seven, nor a second more');
    for (const figure of [seven.uptime, seven.uptime_30d]) {
      assert.ok(Math.abs(figure.monitored_seconds - one.uptime.monitored_seconds) <= 2, `${figure.monitored_seconds} s: as one node's`);
      assert.ok(Number.isInteger(figure.up_seconds) && Number.isInteger(figure.monitored_seconds) && Number.isInteger(figure.seconds.healthy));
    }
    // The ratio is still the nodes' own; a day nothing watched is still no data at 0 s.
    assert.equal(yesterday.uptime_ratio, (7 * 86_400 - 600) / (7 * 86_400));
    assert.deepEqual([seven.days.at(-4)!.status, seven.days.at(-4)!.uptime_ratio, seven.days.at(-4)!.seconds], ['no_data', null, { healthy: 0, degraded: 0, down: 0, maintenance: 0, unknown: 0 }]);
  });

  it('reads a day kept as it was kept, with the nodes it had then, and works out the others with the nodes of now', () => {
    const spec = (id: string, name: string) => ({ id, name, node_ids: [], labels: { tier: 'web' } });
    const apiAndWeb = { ...page(false), components: [spec('c-api', 'API'), spec('c-web', 'Web'), spec('c-api-2', 'API')] };
    const keys = componentKeys(apiAndWeb.components);
    assert.deepEqual(keys, [{ component_id: 'c-api' }, { component_id: 'c-web' }, { component_id: 'c-api-2' }], 'a repeated name by its id');
    // Web kept yesterday with two nodes healthy all day; it holds one node now, healthy since midnight.
    const yesterday = at('2026-11-20T00:00:00.000Z');
    const kept = [{ component_id: 'c-web', day: new Date(yesterday), nodes: 2, ms: stateMs({ healthy: 2 * DAY }) }];
    const unkept = unkeptDays(keys, kept, now);
    assert.deepEqual([unkept[0]!.length, unkept[1]!.length], [89, 88], 'the days over, less the one kept');
    const live = keys.map(() => splitIntoBuckets([{ state: 'down', start: yesterday, end: yesterday + HOUR }, { state: 'healthy', start: yesterday + DAY, end: now }], 'day', window.from, window.to));
    const webNow = [member('n9', 'web-9', 'healthy')];
    const days = componentDays(keys, kept, live, [webNow, webNow, webNow], now);
    assert.deepEqual(days[1]!.at(-2), { start: yesterday, ms: stateMs({ healthy: 2 * DAY }), nodes: 2 }, 'Web’s yesterday is what was kept, not the node of now');
    assert.deepEqual(days[0]!.at(-2), { start: yesterday, ms: stateMs({ down: HOUR }), nodes: 1 }, 'API’s yesterday was never kept: worked out now');
    const web = pageView(apiAndWeb, [webNow, webNow, webNow], days, [], [], [], now).components[1]!;
    assert.equal(web.days.at(-2)!.seconds.healthy, 86_400, 'a day of two nodes, in the component’s time');
    // The 90-day figure counts each day once: today's one node is brought to yesterday's two.
    assert.equal(web.uptime.seconds.healthy, 86_400 + 9.5 * 3600, 'yesterday’s day and today’s 9.5 h, not yesterday twice');
  });

  it('keeps node names, labels and reasons out unless the page shows nodes', () => {
    const hidden = liveView(page(false), members, buckets, incidents, [], now);
    const text = JSON.stringify(hidden);
    for (const secret of ['web-1', 'web-2', 'web-3', 'db-1', 'tier', 'no heartbeat', 'failing', 'n1']) assert.ok(!text.includes(secret), `shows "${secret}"`);
    assert.equal(hidden.components[0]!.nodes, undefined);
    assert.equal(hidden.components[0]!.labels, undefined);

    const shown = liveView(page(true), members, buckets, incidents, [], now);
    assert.deepEqual(shown.components[0]!.labels, { tier: 'web' });
    assert.deepEqual(shown.components[0]!.nodes, [
      { name: 'web-1', state: 'down', since: '2026-11-21T08:30:00.000Z', reason: 'no heartbeat for 30s' },
      { name: 'web-3', state: 'down', since: '2026-11-21T08:30:00.000Z', reason: 'failing' },
      { name: 'web-2', state: 'healthy', since: '2026-11-21T08:30:00.000Z', reason: null },
    ]);
  });

  it('lists each node’s incident under its own title when nodes are shown, newest first, leaving out other nodes’', () => {
    const shown = liveView(page(true), members, buckets, incidents, [], now);
    assert.deepEqual(
      shown.incidents.map((i) => [i.title, i.components, i.status, i.opened_at]),
      [
        ['web-1 is down', ['Web', 'Edge'], 'acknowledged', '2026-11-21T08:00:00.000Z'],
        ['web-3 is down', ['Web'], 'acknowledged', '2026-11-21T07:00:00.000Z'],
      ],
    );
  });

  it('merges incidents that read the same when names are hidden: since the first, acknowledged once all are, in the components\' words, no node count', () => {
    const hidden = liveView(page(false), members, buckets, incidents, [], now);
    // web-2 still serves the Web: a partial outage there, as the component reads.
    assert.deepEqual(hidden.incidents, [
      { title: 'Partial outage in Web, Edge', components: ['Web', 'Edge'], severity: 'critical', status: 'acknowledged', opened_at: '2026-11-21T08:00:00.000Z', acknowledged_at: '2026-11-21T08:05:00.000Z' },
      { title: 'Partial outage in Web', components: ['Web'], severity: 'critical', status: 'acknowledged', opened_at: '2026-11-21T07:00:00.000Z', acknowledged_at: '2026-11-21T07:30:00.000Z' },
    ]);
    const twoInWeb = [incidents[1]!, incident('n2', 'web-2 is down', '2026-11-21T06:00:00.000Z', null)];
    const allDown = [[member('n1', 'web-1', 'down'), member('n2', 'web-2', 'down'), member('n3', 'web-3', 'down')], [member('n1', 'web-1', 'down')], []];
    assert.deepEqual(liveView(page(false), allDown, buckets, twoInWeb, [], now).incidents, [
      { title: 'Outage in Web', components: ['Web'], severity: 'critical', status: 'open', opened_at: '2026-11-21T06:00:00.000Z', acknowledged_at: null },
    ]);
  });
  const span = (node_id: string, category: SpanRow['category'], opened: string, resolved: string | null): SpanRow => ({
    node_id,
    category,
    severity: category === 'node_down' ? 'critical' : 'warning',
    status: resolved === null ? 'open' : 'resolved',
    title: `${node_id} is ${category}`,
    opened_at: new Date(opened),
    acknowledged_at: null,
    resolved_at: resolved === null ? null : new Date(resolved),
  });
  const pastOf = (view: ReturnType<typeof pageView>) => view.past_incidents.map((i) => [i.title, i.status, i.started_at, i.resolved_at, i.duration_seconds]);

  it('lists past incidents per component, those of its nodes of one kind that overlap as one, newest first, ongoing ones included', () => {
    const past = [
      span('n1', 'node_down', '2026-11-21T08:00:00.000Z', null),
      span('n3', 'node_down', '2026-11-20T10:00:00.000Z', '2026-11-20T10:30:00.000Z'),
      span('n2', 'node_degraded', '2026-11-20T10:20:00.000Z', '2026-11-20T11:00:00.000Z'),
      span('n2', 'node_degraded', '2026-11-18T00:00:00.000Z', '2026-11-18T00:05:00.000Z'),
      span('elsewhere', 'node_down', '2026-11-21T09:00:00.000Z', null),
    ];
    const hidden = pageView(page(false), members, [], [], past, [], now);
    assert.deepEqual(hidden.past_incidents, [
      // web-2 and web-3 still served the Web; web-1 is all of the Edge.
      { title: 'Partial outage in Web', components: ['Web'], severity: 'critical', status: 'ongoing', started_at: '2026-11-21T08:00:00.000Z', resolved_at: null, duration_seconds: null },
      { title: 'Outage in Edge', components: ['Edge'], severity: 'critical', status: 'ongoing', started_at: '2026-11-21T08:00:00.000Z', resolved_at: null, duration_seconds: null },
      // web-2 degraded while web-3 was down: each kind its own entry.
      { title: 'Degraded service in Web', components: ['Web'], severity: 'warning', status: 'resolved', started_at: '2026-11-20T10:20:00.000Z', resolved_at: '2026-11-20T11:00:00.000Z', duration_seconds: 2400 },
      { title: 'Partial outage in Web', components: ['Web'], severity: 'critical', status: 'resolved', started_at: '2026-11-20T10:00:00.000Z', resolved_at: '2026-11-20T10:30:00.000Z', duration_seconds: 1800 },
      { title: 'Degraded service in Web', components: ['Web'], severity: 'warning', status: 'resolved', started_at: '2026-11-18T00:00:00.000Z', resolved_at: '2026-11-18T00:05:00.000Z', duration_seconds: 300 },
    ]);
    assert.equal(hidden.past_incidents_more, 0);
    for (const secret of ['web-', 'n1', 'elsewhere', 'tier']) assert.ok(!JSON.stringify(hidden.past_incidents).includes(secret), `shows "${secret}"`);

    const shown = pageView(page(true), members, [], [], past, [], now);
    assert.deepEqual(shown.past_incidents.map((i) => i.nodes), [['web-1'], ['web-1'], ['web-2'], ['web-3'], ['web-2']]);

    // Three of the Web's nodes down at overlapping times, all three from 10:35 to 10:40: one outage, from the first to the last.
    const rack = [span('n1', 'node_down', '2026-11-19T10:00:00.000Z', '2026-11-19T10:40:00.000Z'), span('n2', 'node_down', '2026-11-19T10:30:00.000Z', '2026-11-19T11:00:00.000Z'), span('n3', 'node_down', '2026-11-19T10:35:00.000Z', '2026-11-19T11:10:00.000Z')];
    assert.deepEqual(
      pageView(page(false), [members[0]!, [], []], [], [], rack, [], now).past_incidents.map((i) => [i.title, i.started_at, i.duration_seconds]),
      [['Outage in Web', '2026-11-19T10:00:00.000Z', 4200]],
    );

    // A node in two components down alone in each: one entry naming both.
    const shared = [[member('n1', 'web-1', 'down')], [member('n1', 'web-1', 'down')], []];
    assert.deepEqual(pageView(page(false), shared, [], [], [past[0]!], [], now).past_incidents.map((i) => [i.title, i.components]), [['Outage in Web, Edge', ['Web', 'Edge']]]);
    // Two nodes both in two components, both still down: still one entry naming both.
    const pair = [[member('n1', 'web-1', 'down'), member('n2', 'web-2', 'down')], [member('n1', 'web-1', 'down'), member('n2', 'web-2', 'down')], []];
    const bothOpen = [past[0]!, span('n2', 'node_down', '2026-11-21T08:10:00.000Z', null)];
    assert.deepEqual(pageView(page(false), pair, [], [], bothOpen, [], now).past_incidents.map((i) => [i.title, i.components]), [['Outage in Web, Edge', ['Web', 'Edge']]]);

    const many = Array.from({ length: PAST_MAX + 3 }, (_, k) => span('n2', 'node_down', new Date(now - (k + 1) * HOUR).toISOString(), new Date(now - (k + 1) * HOUR + 60_000).toISOString()));
    const capped = pageView(page(false), members, [], [], many, [], now);
    assert.equal(capped.past_incidents.length, PAST_MAX);
    assert.equal(capped.past_incidents[0]!.started_at, new Date(now - HOUR).toISOString(), 'the newest kept');
    assert.equal(capped.past_incidents_more, 3);

    // Degraded for ten days: listed first, whatever the cap, and the newest outages after it.
    const lasting = [...many, span('n2', 'node_degraded', new Date(now - 10 * DAY).toISOString(), null)];
    const first = pageView(page(false), members, [], [], lasting, [], now);
    assert.deepEqual(first.past_incidents.map((i) => i.status).slice(0, 2), ['ongoing', 'resolved']);
    assert.equal(first.past_incidents[0]!.title, 'Degraded service in Web');
    assert.equal(first.past_incidents.length, PAST_MAX);
    assert.equal(first.past_incidents[1]!.started_at, new Date(now - HOUR).toISOString());
    assert.equal(first.past_incidents_more, 4);
  });

  it('makes one entry of a component’s stretches of one kind less than 15 minutes apart, its length the time out', async () => {
    const two = [[member('n2', 'web-2', 'healthy')], [member('n4', 'db-1', 'healthy')], []];
    // web-2 down a minute in every six for 2 h 24 min, ending two hours ago; db-1 down an hour three days ago.
    const first = now - 2 * HOUR - 24 * 6 * 60_000;
    const flaps = Array.from({ length: 24 }, (_, k) => span('n2', 'node_down', new Date(first + k * 6 * 60_000).toISOString(), new Date(first + k * 6 * 60_000 + 60_000).toISOString()));
    const db = span('n4', 'node_down', new Date(now - 3 * DAY).toISOString(), new Date(now - 3 * DAY + HOUR).toISOString());
    const view = pageView(page(false), two, [], [], [...flaps, db], [], now);
    assert.deepEqual(pastOf(view), [
      ['Outage in Web', 'resolved', new Date(first).toISOString(), new Date(first + 23 * 6 * 60_000 + 60_000).toISOString(), 24 * 60],
      ['Outage in Edge', 'resolved', new Date(now - 3 * DAY).toISOString(), new Date(now - 3 * DAY + HOUR).toISOString(), 3600],
    ]);
    const html = await renderStatusPage(view);
    assert.match(html, /lasted 24 min, on and off/);
    assert.match(html, /lasted 1 h</);
    // 15 minutes apart or more: two entries.
    const apart = [flaps[0]!, span('n2', 'node_down', new Date(first + 16 * 60_000).toISOString(), new Date(first + 17 * 60_000).toISOString())];
    assert.equal(pageView(page(false), two, [], [], apart, [], now).past_incidents.length, 2);
  });

  it('gives an ongoing outage one start in both lists: a resolved stretch before it keeps its own entry, not merged into it', () => {
    const alone = [[member('n1', 'web-1', 'down')], [], []];
    // web-1 down 09:02:54–09:03:40, back up, down again from 09:05:14: its open incident opened then.
    const past = [span('n1', 'node_down', '2026-11-21T09:02:54.000Z', '2026-11-21T09:03:40.000Z'), span('n1', 'node_down', '2026-11-21T09:05:14.000Z', null)];
    const open = [incident('n1', 'web-1 is down', '2026-11-21T09:05:14.000Z', null)];
    for (const shown of [false, true]) {
      const view = pageView(page(shown), alone, [], open, past, [], now);
      assert.deepEqual(view.incidents.map((i) => i.opened_at), ['2026-11-21T09:05:14.000Z']);
      assert.deepEqual(pastOf(view), [
        ['Outage in Web', 'ongoing', '2026-11-21T09:05:14.000Z', null, null],
        ['Outage in Web', 'resolved', '2026-11-21T09:02:54.000Z', '2026-11-21T09:03:40.000Z', 46],
      ]);
    }
    // Stretches before the ongoing one stay one entry among themselves; one overlapping it is part of it.
    const flaps = [
      span('n1', 'node_down', '2026-11-21T08:40:00.000Z', '2026-11-21T08:41:00.000Z'),
      span('n1', 'node_down', '2026-11-21T08:46:00.000Z', '2026-11-21T08:47:00.000Z'),
      span('n1', 'node_down', '2026-11-21T08:52:00.000Z', null),
      span('n2', 'node_down', '2026-11-21T08:55:00.000Z', '2026-11-21T08:56:00.000Z'),
    ];
    const two = [[member('n1', 'web-1', 'down'), member('n2', 'web-2', 'healthy')], [], []];
    assert.deepEqual(pastOf(pageView(page(false), two, [], [], flaps, [], now)), [
      ['Partial outage in Web', 'ongoing', '2026-11-21T08:52:00.000Z', null, null],
      ['Partial outage in Web', 'resolved', '2026-11-21T08:40:00.000Z', '2026-11-21T08:47:00.000Z', 120],
    ]);
    // web-1 down 08:40–08:55 and web-2 from 08:50 on: the Web's partial outage began at 08:40 and goes
    // on. Without node names both lists speak of the component, so its open incident says 08:40 too;
    // with them the open incident is web-2's own, and the entry names both nodes.
    const relay = [span('n1', 'node_down', '2026-11-21T08:40:00.000Z', '2026-11-21T08:55:00.000Z'), span('n2', 'node_down', '2026-11-21T08:50:00.000Z', null)];
    const second = [[member('n1', 'web-1', 'healthy'), member('n2', 'web-2', 'down')], [], []];
    const web2 = [incident('n2', 'web-2 is down', '2026-11-21T08:50:00.000Z', null)];
    const hidden = pageView(page(false), second, [], web2, relay, [], now);
    assert.deepEqual(hidden.incidents.map((i) => [i.title, i.opened_at]), [['Partial outage in Web', '2026-11-21T08:40:00.000Z']]);
    assert.deepEqual(pastOf(hidden), [['Partial outage in Web', 'ongoing', '2026-11-21T08:40:00.000Z', null, null]]);
    const named = pageView(page(true), second, [], web2, relay, [], now);
    assert.deepEqual(named.incidents.map((i) => [i.title, i.opened_at]), [['web-2 is down', '2026-11-21T08:50:00.000Z']]);
    assert.deepEqual(named.past_incidents.map((i) => [i.started_at, i.nodes]), [['2026-11-21T08:40:00.000Z', ['web-1', 'web-2']]]);
    // A stretch cut by a maintenance window is not resolved by it: still one ongoing entry, from its start.
    const window = new Map([['n1', [{ start: at('2026-11-21T08:45:00.000Z'), end: at('2026-11-21T08:50:00.000Z') }]]]);
    assert.deepEqual(pastOf(pageView(page(false), alone, [], [], [span('n1', 'node_down', '2026-11-21T08:40:00.000Z', null)], [], now, window)), [
      ['Outage in Web', 'ongoing', '2026-11-21T08:40:00.000Z', null, null],
    ]);
    // One resolved inside the window was resolved: web-1 down 08:40–08:48, in a window 08:45–08:50,
    // down again from 08:55. Its stretch ends at 08:45 and is an entry of its own, and both lists
    // say 08:55, with names or without (Open incidents said 08:40 without, before it opened).
    const resolvedInside = [span('n1', 'node_down', '2026-11-21T08:40:00.000Z', '2026-11-21T08:48:00.000Z'), span('n1', 'node_down', '2026-11-21T08:55:00.000Z', null)];
    const again = [incident('n1', 'web-1 is down', '2026-11-21T08:55:00.000Z', null)];
    for (const shown of [false, true]) {
      const view = pageView(page(shown), alone, [], again, resolvedInside, [], now, window);
      assert.deepEqual(view.incidents.map((i) => i.opened_at), ['2026-11-21T08:55:00.000Z'], `names ${shown ? 'shown' : 'hidden'}`);
      assert.deepEqual(pastOf(view), [
        ['Outage in Web', 'ongoing', '2026-11-21T08:55:00.000Z', null, null],
        ['Outage in Web', 'resolved', '2026-11-21T08:40:00.000Z', '2026-11-21T08:45:00.000Z', 300],
      ]);
    }
  });

  it('says "Outage" only if every node of the component was out at one instant, a node in a window counting as out', () => {
    const api = [[member('n1', 'api-1', 'healthy'), member('n2', 'api-2', 'healthy')], [], []];
    // One after the other: the API served throughout, from one node or the other.
    const relay = [span('n1', 'node_down', '2026-11-20T04:30:00.000Z', '2026-11-20T05:30:00.000Z'), span('n2', 'node_down', '2026-11-20T05:30:00.000Z', '2026-11-20T06:30:00.000Z')];
    assert.deepEqual(pastOf(pageView(page(false), api, [], [], relay, [], now)), [['Partial outage in Web', 'resolved', '2026-11-20T04:30:00.000Z', '2026-11-20T06:30:00.000Z', 7200]]);
    // A minute of both down: an outage.
    const overlap = [relay[0]!, span('n2', 'node_down', '2026-11-20T05:29:00.000Z', '2026-11-20T06:30:00.000Z')];
    assert.deepEqual(pastOf(pageView(page(false), api, [], [], overlap, [], now)).map((e) => e[0]), ['Outage in Web']);
    // api-2 in a window while api-1 was down: nothing served, as the component's status said then.
    const serviced = new Map([['n2', [{ start: at('2026-11-20T05:00:00.000Z'), end: at('2026-11-20T05:10:00.000Z') }]]]);
    assert.deepEqual(pastOf(pageView(page(false), api, [], [], [relay[0]!], [], now, serviced)).map((e) => e[0]), ['Outage in Web']);
    // And now: api-2 in maintenance, api-1 down, as Open incidents says it.
    const nowServiced = [[member('n1', 'api-1', 'down'), member('n2', 'api-2', 'maintenance')], [], []];
    const ongoing = [span('n1', 'node_down', '2026-11-21T09:00:00.000Z', null)];
    const view = pageView(page(false), nowServiced, [], [], ongoing, [], now);
    assert.deepEqual(pastOf(view).map((e) => e[0]), ['Outage in Web']);
  });

  it('words an ongoing outage as its component reads now, and a resolved one "Outage" only if all were out a minute or half its time', async () => {
    const api = [[member('n1', 'api-1', 'down'), member('n2', 'api-2', 'healthy')], [], []];
    // api-1 down since 09:09; api-2 out 4 s with it while the engine restarted: the API serves from api-2 now.
    const restart = [span('n1', 'node_down', '2026-11-21T09:09:00.000Z', null), span('n2', 'node_down', '2026-11-21T09:12:00.000Z', '2026-11-21T09:12:04.000Z')];
    const ongoing = pageView(page(false), api, [], [], restart, [], now);
    assert.equal(ongoing.components[0]!.status, 'partial_outage');
    assert.deepEqual(pastOf(ongoing).map((e) => e[0]), ['Partial outage in Web'], 'as the component and its open incident read');
    // The same, over: 4 s of 2 h all out is a partial outage.
    const over = [span('n1', 'node_down', '2026-11-20T04:30:00.000Z', '2026-11-20T06:30:00.000Z'), span('n2', 'node_down', '2026-11-20T05:00:00.000Z', '2026-11-20T05:00:04.000Z')];
    assert.deepEqual(pastOf(pageView(page(false), api, [], [], over, [], now)).map((e) => e[0]), ['Partial outage in Web']);
    // Both out 4.4 s and nothing else: all of its time, an outage, and one stretch, not "on and off".
    const blip = [span('n1', 'node_down', '2026-11-20T05:00:00.300Z', '2026-11-20T05:00:04.700Z'), span('n2', 'node_down', '2026-11-20T05:00:00.300Z', '2026-11-20T05:00:04.700Z')];
    const short = pageView(page(false), api, [], [], blip, [], now);
    assert.deepEqual(pastOf(short), [['Outage in Web', 'resolved', '2026-11-20T05:00:00.300Z', '2026-11-20T05:00:04.700Z', 4]]);
    const html = await renderStatusPage(short);
    assert.match(html, /lasted 4 s</);
    assert.doesNotMatch(html, /on and off/);
  });

  it('ends an outage where its node went into maintenance: one in a window now is not ongoing, as the component reads Maintenance', () => {
    // web-1 down at 08:20, in a window since 08:30 with its incident still open (it resolves when the window ends).
    const serviced = [[member('n1', 'web-1', 'maintenance'), member('n2', 'web-2', 'healthy'), member('n3', 'web-3', 'healthy')], [member('n1', 'web-1', 'maintenance')], []];
    const view = pageView(page(false), serviced, [], [], [span('n1', 'node_down', '2026-11-21T08:20:00.000Z', null)], [], now);
    assert.deepEqual(view.incidents, [], 'nothing open: web-1 is in maintenance');
    assert.deepEqual(pastOf(view), [
      ['Partial outage in Web', 'resolved', '2026-11-21T08:20:00.000Z', '2026-11-21T08:30:00.000Z', 600],
      ['Outage in Edge', 'resolved', '2026-11-21T08:20:00.000Z', '2026-11-21T08:30:00.000Z', 600],
    ]);
    // Down only since the window began: nothing to list.
    assert.deepEqual(pageView(page(false), serviced, [], [], [span('n1', 'node_down', '2026-11-21T08:40:00.000Z', null)], [], now).past_incidents, []);
  });

  it('heads a page whose components are all out but one without nodes or in maintenance "partial outage", not "major"', () => {
    const down = [member('n1', 'web-1', 'down'), member('n2', 'web-2', 'down')];
    for (const [last, status] of [[[], 'unknown'], [[member('n3', 'db-1', 'maintenance')], 'maintenance']] as const) {
      const view = liveView(page(false), [down, [member('n4', 'edge-1', 'down')], last], buckets, [], [], now);
      assert.deepEqual(view.components.map((c) => c.status), ['major_outage', 'major_outage', status]);
      assert.equal(view.status, 'partial_outage', 'a component nobody watches, or one in planned maintenance, is not known to be out');
    }
  });

  it('claims no outage for a node in maintenance: its component reads Maintenance, and its incident is left out', () => {
    const serviced = [[member('n1', 'web-1', 'maintenance'), member('n2', 'web-2', 'healthy'), member('n3', 'web-3', 'down', 'failing')], [member('n1', 'web-1', 'maintenance')], []];
    for (const shown of [true, false]) {
      const view = liveView(page(shown), serviced, buckets, incidents, [], now);
      assert.deepEqual(view.components.map((c) => c.state), ['down', 'maintenance', 'unknown']);
      assert.deepEqual(view.components.map((c) => c.status), ['partial_outage', 'maintenance', 'unknown'], 'web-2 serves; web-1 is neither up nor out');
      assert.equal(view.status, 'partial_outage');
      assert.deepEqual(view.incidents.map((i) => i.components), [['Web']], 'web-3 still down; nothing said of web-1');
    }
  });

  it(`lists the soonest ${SCHEDULED_MAX} windows starting within ${SCHEDULED_DAYS} days, no more`, () => {
    const serviced = [[member('n1', 'web-1', 'healthy')], [], []];
    // One a day for 20 days, the first tomorrow: those after the 14th day and the 11th on are left out.
    const windows = Array.from({ length: 20 }, (_, d) => ({ starts_at: new Date(now + (d + 1) * DAY), ends_at: new Date(now + (d + 1) * DAY + HOUR), time_zone: null, node_ids: ['n1'] }));
    const view = liveView(page(false), serviced, buckets, [], windows.reverse(), now);
    assert.deepEqual(view.scheduled.map((s) => s.from), Array.from({ length: SCHEDULED_MAX }, (_, d) => new Date(now + (d + 1) * DAY).toISOString()));
    const far = liveView(page(false), serviced, buckets, [], [{ starts_at: new Date(now + SCHEDULED_DAYS * DAY + 1), ends_at: null, time_zone: null, node_ids: ['n1'] }], now);
    assert.deepEqual(far.scheduled, []);
  });

  it('spans the windows its nodes in maintenance are in, and lists what is ahead by component, merged when it reads the same', () => {
    const serviced = [[member('n1', 'web-1', 'maintenance'), member('n2', 'web-2', 'maintenance')], [member('n1', 'web-1', 'maintenance')], []];
    const w = (from: string, until: string | null, ...node_ids: string[]) => ({ starts_at: new Date(from), ends_at: until === null ? null : new Date(until), time_zone: null, node_ids });
    const windows = [
      w('2026-11-21T09:00:00.000Z', '2026-11-21T11:00:00.000Z', 'n1'),
      w('2026-11-21T08:00:00.000Z', '2026-11-21T12:00:00.000Z', 'n2'),
      w('2026-11-22T02:00:00.000Z', null, 'n2'),
      w('2026-11-22T02:00:00.000Z', null, 'n2', 'n9'),
      w('2026-11-21T20:00:00.000Z', '2026-11-21T21:00:00.000Z', 'n1'),
    ];
    const view = liveView(page(false), serviced, buckets, [], windows, now);
    const early = { from: '2026-11-21T08:00:00.000Z', until: '2026-11-21T12:00:00.000Z', time_zone: null };
    const late = { from: '2026-11-21T09:00:00.000Z', until: '2026-11-21T11:00:00.000Z', time_zone: null };
    assert.deepEqual(view.components.map((c) => [c.status, c.maintenance]), [
      ['maintenance', { from: '2026-11-21T08:00:00.000Z', until: '2026-11-21T12:00:00.000Z', time_zone: null, windows: [early, late] }],
      ['maintenance', { from: '2026-11-21T09:00:00.000Z', until: '2026-11-21T11:00:00.000Z', time_zone: null, windows: [late] }],
      ['unknown', null],
    ]);
    assert.deepEqual(view.maintenance, { from: '2026-11-21T08:00:00.000Z', until: '2026-11-21T12:00:00.000Z', time_zone: null, windows: [early, late] });
    assert.deepEqual(view.scheduled, [
      { components: ['Web', 'Edge'], from: '2026-11-21T20:00:00.000Z', until: '2026-11-21T21:00:00.000Z', time_zone: null },
      { components: ['Web'], from: '2026-11-22T02:00:00.000Z', until: null, time_zone: null },
    ]);
  });

  it('keeps the zone windows were announced in when they share one, by its canonical name; windows of two zones are said in UTC', () => {
    const serviced = [[member('n1', 'web-1', 'maintenance'), member('n2', 'web-2', 'maintenance')], [member('n1', 'web-1', 'maintenance')], []];
    const w = (zone: string | null, ...node_ids: string[]) => ({ starts_at: new Date(now - HOUR), ends_at: new Date(now + HOUR), time_zone: zone, node_ids });
    const view = liveView(page(false), serviced, buckets, [], [w('europe/berlin', 'n1'), w('America/New_York', 'n2'), { ...w('Europe/Berlin', 'n1'), starts_at: new Date(now + DAY), ends_at: new Date(now + DAY + HOUR) }], now);
    assert.deepEqual(view.components.map((c) => c.maintenance?.time_zone), [null, 'Europe/Berlin', undefined], 'Web holds both windows; Edge only the one typed in Berlin');
    assert.equal(view.maintenance?.time_zone, null);
    assert.deepEqual(view.scheduled.map((s) => s.time_zone), ['Europe/Berlin']);
    assert.equal(liveView(page(false), serviced, buckets, [], [w('Etc/UTC', 'n1')], now).maintenance?.time_zone, 'UTC');
    // One zone however it was spelt; a zone this engine does not know is said in UTC.
    assert.equal(liveView(page(false), serviced, buckets, [], [w('europe/berlin', 'n1'), w('Europe/Berlin', 'n2')], now).maintenance?.time_zone, 'Europe/Berlin');
    assert.equal(liveView(page(false), serviced, buckets, [], [w('Bogus/Zone', 'n1')], now).maintenance?.time_zone, null);
    // Windows of two zones: the span is said in UTC, each window keeps its own.
    assert.deepEqual(view.components[0]!.maintenance?.windows.map((x) => x.time_zone), ['Europe/Berlin', 'America/New_York']);
    assert.deepEqual(view.maintenance?.windows.map((x) => x.time_zone), ['Europe/Berlin', 'America/New_York']);
  });
});
