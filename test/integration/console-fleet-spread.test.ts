import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consoleCookie, createHarness, unescapeHtml, type Harness } from '../helpers/app.ts';

// Fleet in an outage says where it is: per label key of the down and degraded nodes, the values
// with their counts, each a link to Fleet filtered by it. 20 down nodes over 8 regions (r0–r3 three
// each, r4–r7 two each), 4 degraded in r0; seven keys in all, carried by fewer and fewer of them.
// Healthy nodes carry a key and a region of their own, which must not show.

const ORIGIN = 'http://localhost';

describe('console: where an outage is, on Fleet', () => {
  let h: Harness;
  let cookie: string;

  before(async () => {
    h = await createHarness();
    const make = async (name: string, labels: Record<string, string>, state: string) => {
      const node = await h.createNode(name, { labels });
      await h.sql`update node_health set state = ${state} where node_id = ${node.id}`;
    };
    for (let i = 0; i < 20; i++) {
      const labels: Record<string, string> = { region: `r${i % 8}`, team: `t${i % 2}` };
      if (i < 15) labels.rack = `k${i % 3}`;
      if (i < 12) labels.os = 'linux';
      if (i < 10) labels.az = `a${i % 2}`;
      if (i < 5) labels.dc = 'd1';
      if (i < 3) labels.env = 'prod';
      await make(`d-${String(i).padStart(2, '0')}`, labels, 'down');
    }
    for (let i = 0; i < 4; i++) await make(`g-${i}`, { region: 'r0' }, 'degraded');
    for (let i = 0; i < 3; i++) await make(`h-${i}`, { region: 'r9', quiet: 'yes' }, 'healthy');
    cookie = await consoleCookie(h, ORIGIN);
  });
  after(async () => {
    await h.close();
  });

  const get = async (path: string) => {
    const res = await h.app.request(path, { headers: { cookie } });
    assert.equal(res.status, 200, path);
    return res.text();
  };
  /** The summary's section, or undefined when the page has none. */
  const spreadOf = (html: string) => /<section class="spread[^"]*"[^>]*>[\s\S]*?<\/section>/.exec(html)?.[0];
  /** Each link of the summary: where it goes and its name. */
  const linksOf = (section: string) => [...section.matchAll(/<a href="([^"]*)" aria-label="([^"]*)"/g)].map((m) => [unescapeHtml(m[1]!), unescapeHtml(m[2]!)]);

  it('lists each key of the not-healthy nodes with its values most-hit first, each a link to Fleet filtered by it, the rest counted', async () => {
    const html = await get('/');
    const section = spreadOf(html) ?? assert.fail('no summary on Fleet in an outage');
    assert.match(section, /<h2 id="spread-heading">Where it is<\/h2>/);
    assert.match(section, /aria-labelledby="spread-heading"/);
    const links = linksOf(section);
    // Five keys, by how many not-healthy nodes carry them: region 24, team 20, rack 15, os 12, az 10.
    const keys = [...new Set(links.map(([to]) => new URLSearchParams(to!.slice(2)).get('label')!.split('=')[0]))];
    assert.deepEqual(keys, ['region', 'team', 'rack', 'os', 'az']);
    // Six regions of eight; r0 first with its degraded nodes too, linked without a state since it has both.
    assert.deepEqual(
      links.filter(([to]) => to!.includes('region')),
      [
        ['/?label=region%3Dr0', 'region=r0: 3 down, 4 degraded'],
        ['/?state=down&label=region%3Dr1', 'region=r1: 3 down'],
        ['/?state=down&label=region%3Dr2', 'region=r2: 3 down'],
        ['/?state=down&label=region%3Dr3', 'region=r3: 3 down'],
        ['/?state=down&label=region%3Dr4', 'region=r4: 2 down'],
        ['/?state=down&label=region%3Dr5', 'region=r5: 2 down'],
      ],
    );
    assert.match(section, /2 more values/);
    assert.match(section, /2 more keys/);
    assert.doesNotMatch(section, /quiet|r9|dc=|env=/);
    // A value's link leads to its nodes.
    const r1 = await get('/?state=down&label=region%3Dr1');
    assert.deepEqual([...r1.matchAll(/<a href="\/nodes\/([\w-]+)">/g)].map((m) => m[1]), ['d-01', 'd-09', 'd-17']);
  });

  it('is inside the live region, so it is re-read with the counts; filtered by a name, it counts only those nodes', async () => {
    const html = await get('/');
    const live = html.slice(html.indexOf('id="fleet-live"'));
    assert.ok(spreadOf(live), 'the summary is re-read with the counts');
    const section = spreadOf(await get('/?q=g-')) ?? assert.fail('no summary for the degraded nodes');
    assert.deepEqual(linksOf(section), [['/?state=degraded&q=g-&label=region%3Dr0', 'region=r0: 4 degraded']]);
  });

  it("leads from each value to its nodes whatever state the page shows, as its counts are", async () => {
    for (const state of ['degraded', 'healthy']) {
      const section = spreadOf(await get(`/?state=${state}`)) ?? assert.fail(`no summary on ?state=${state}`);
      assert.ok(linksOf(section).some(([to]) => to === '/?state=down&label=region%3Dr1'), `${state}: ${JSON.stringify(linksOf(section))}`);
    }
  });

  it('is not there when no node is down or degraded', async () => {
    assert.equal(spreadOf(await get('/?q=h-')), undefined);
  });

  it("links a row's label tags to Fleet filtered by that label", async () => {
    const html = await get('/?q=h-0');
    assert.match(html, /<a class="tag mono" href="\/\?label=quiet%3Dyes">quiet=yes<\/a>/);
  });

  it('keeps the labels a page is filtered by in its label links, Fleet listing the nodes that carry them all', async () => {
    const html = await get('/?label=rack%3Dk0');
    const rowsOf = (page: string) => [...page.matchAll(/<a href="\/nodes\/([\w-]+)">/g)].map((m) => m[1]);
    assert.deepEqual(rowsOf(html), ['d-00', 'd-03', 'd-06', 'd-09', 'd-12']);
    assert.match(html, /<a class="tag mono" href="\/\?label=rack%3Dk0&amp;label=region%3Dr0">region=r0<\/a>/);
    const section = spreadOf(html) ?? assert.fail('no summary for rack k0');
    assert.ok(linksOf(section).some(([to, name]) => to === '/?state=down&label=rack%3Dk0&label=region%3Dr0' && name === 'region=r0: 1 down'), JSON.stringify(linksOf(section)));
    const both = await get('/?label=rack%3Dk0&label=region%3Dr0');
    assert.deepEqual(rowsOf(both), ['d-00']);
    assert.match(both, /<input id="label" name="label" type="text" value="rack=k0"/);
    assert.match(both, /<input name="label" type="text" value="region=r0"/);
    // A link clicked twice does not name its label twice; past the API's 20 labels the rest is said and left out.
    assert.match(both, /<a class="tag mono" href="\/\?label=rack%3Dk0&amp;label=region%3Dr0">region=r0<\/a>/);
    const many = await get(`/?${Array.from({ length: 21 }, (_, i) => `label=rack%3Dk${i % 3 === 0 ? 0 : i + 10}`).join('&')}`);
    assert.match(many, /At most 20 labels at once: the 21st was left out\./);
  });

  it('keeps a space at either end of a label value from the tag to the filter, which then matches it exactly', async () => {
    for (const [name, env] of [['s-trailing', 'prod '], ['s-leading', ' prod'], ['s-plain', 'prod']] as const) await h.createNode(name, { labels: { env } });
    const rowsOf = (html: string) => [...html.matchAll(/<a href="\/nodes\/([\w-]+)">/g)].map((m) => m[1]);
    for (const [name, env] of [['s-trailing', 'prod '], ['s-leading', ' prod']] as const) {
      const tag = new RegExp(`<a class="tag mono" href="([^"]*)">env=${env}</a>`).exec(await get(`/?q=${name}`))?.[1] ?? assert.fail(`no tag for ${name}`);
      assert.equal(new URLSearchParams(unescapeHtml(tag).slice(2)).get('label'), `env=${env}`);
      assert.deepEqual(rowsOf(await get(unescapeHtml(tag))), [name], `${JSON.stringify(env)} filters exactly`);
    }
  });
});
