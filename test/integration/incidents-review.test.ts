import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Incident } from '../../src/api/shapes.ts';
import { addTimeline, openIncidents, reopenIncidents, resolveIncidents } from '../../src/incidents/store.ts';
import { consoleCookie, createHarness, expectInvalid, expectJson } from '../helpers/app.ts';

const MIN = 60_000;

describe('incidents over a time range', () => {
  let h: Awaited<ReturnType<typeof createHarness>>;
  let nodeIds: string[];
  let t0: number;
  // Opened at t0 + 0, 10, 20, 30, 40 min, oldest first.
  let ids: string[];

  before(async () => {
    h = await createHarness();
    // Five nodes: only one incident per node and category may be unresolved. db-4 is a web node.
    nodeIds = [];
    for (let i = 0; i < 5; i++) nodeIds.push((await h.createNode(`db-${i}`, { labels: { role: i === 4 ? 'web' : 'db' } })).id);
  });
  after(async () => {
    await h.db.drop();
  });
  beforeEach(async () => {
    await h.sql`truncate incidents, outbox cascade`;
    t0 = h.clock.now().getTime();
    ids = [];
    for (let i = 0; i < 5; i++) {
      const [row] = await openIncidents(h.sql, [
        { nodeId: nodeIds[i]!, nodeName: `db-${i}`, category: i === 4 ? 'node_degraded' : 'node_down', severity: 'warning', title: `t${i}`, reason: null, policyId: null, openedAt: new Date(t0 + i * 10 * MIN) },
      ]);
      ids.push(row!.id);
    }
  });

  const at = (min: number) => new Date(t0 + min * MIN).toISOString();
  const list = async (q: string) => expectJson<{ items: Incident[]; next_cursor: string | null }>(await h.admin('GET', `/v1/incidents?${q}`), 200);

  it('lists those opened in [opened_after, opened_before), with the other filters', async () => {
    const got = await list(`opened_after=${at(10)}&opened_before=${at(30)}`);
    assert.deepEqual(got.items.map((i) => i.id), [ids[2], ids[1]]);
    assert.deepEqual((await list(`opened_after=${at(30)}`)).items.map((i) => i.id), [ids[4], ids[3]]);
    assert.deepEqual((await list(`opened_before=${at(10)}`)).items.map((i) => i.id), [ids[0]]);
    assert.deepEqual((await list(`opened_after=${at(10)}&label=role=db&status=open`)).items.map((i) => i.id), [ids[3], ids[2], ids[1]]);
    assert.deepEqual((await list(`opened_before=${at(40)}&label=role=web`)).items.length, 0);
    assert.deepEqual((await list(`opened_after=${at(10)}&node_id=db-1`)).items.map((i) => i.id), [ids[1]]);
  });

  it('pages through the range only, each page within it', async () => {
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const got = await list(`opened_after=${at(5)}&opened_before=${at(40)}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...got.items.map((i) => i.id));
      cursor = got.next_cursor;
    }
    assert.deepEqual(seen, [ids[3], ids[2], ids[1]]);
  });

  it('refuses a time that is not RFC 3339, and an empty range', async () => {
    await expectInvalid(await h.admin('GET', '/v1/incidents?opened_after=yesterday'), ['opened_after']);
    await expectInvalid(await h.admin('GET', '/v1/incidents?opened_before=2026-02-30T00:00:00Z'), ['opened_before']);
    await expectInvalid(await h.admin('GET', `/v1/incidents?opened_after=${at(10)}&opened_before=${at(10)}`), ['opened_before']);
    await expectInvalid(await h.admin('GET', `/v1/incidents?opened_after=${at(20)}&opened_before=${at(10)}`), ['opened_before']);
  });

  it("lists on the console's Incidents page those opened on the days chosen, counts and links keeping them", async () => {
    // The five incidents open 10 min apart from t0; one more the next UTC day on a node of its own.
    const other = await h.createNode('db-5', { labels: { role: 'db' } });
    const nextDay = new Date(t0 + 86_400_000);
    const [late] = await openIncidents(h.sql, [
      { nodeId: other.id, nodeName: 'db-5', category: 'node_down', severity: 'warning', title: 't5', reason: null, policyId: null, openedAt: nextDay },
    ]);
    const cookie = await consoleCookie(h, 'http://localhost');
    const page = async (q: string) => (await h.app.request(`/incidents?${q}`, { headers: { cookie } })).text();
    const shown = (html: string) => [...html.matchAll(/href="\/incidents\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
    const first = at(0).slice(0, 10);
    const second = nextDay.toISOString().slice(0, 10);
    const one = await page(`from=${first}&to=${first}`);
    assert.deepEqual(new Set(shown(one)), new Set(ids));
    assert.match(one, /<b>5<\/b> open/);
    assert.match(one, new RegExp(`<input id="from" name="from" type="date" value="${first}"`));
    assert.match(one, new RegExp(`href="/incidents\\?status=open&amp;from=${first}&amp;to=${first}"`));
    assert.deepEqual(shown(await page(`from=${second}`)), [late!.id]);
    assert.deepEqual(shown(await page(`to=${first}&label=role:db`)).length, 4);
    await h.admin('DELETE', `/v1/nodes/${other.id}`);
  });

  it("says on the console's Incidents page why a day was left out, and still shows the page", async () => {
    const cookie = await consoleCookie(h, 'http://localhost');
    const page = async (q: string) => {
      const res = await h.app.request(`/incidents?${q}`, { headers: { cookie } });
      assert.equal(res.status, 200, q);
      return res.text();
    };
    const notice = (text: RegExp) => new RegExp(`<div class="notice bad" role="alert">${text.source}</div>`);
    const first = at(0).slice(0, 10);
    assert.match(await page('from=0000-01-01'), notice(/Opened from: days run from 1970-01-01 to 9998-12-31\./));
    assert.match(await page('to=9999-12-31'), notice(/to: days run from 1970-01-01 to 9998-12-31\./));
    assert.match(await page('from=2026-02-30'), notice(/Opened from: 2026-02-30 is not a day; pick one such as 2026-11-21\./));
    assert.match(await page('from=garbage'), notice(/Opened from: garbage is not a day; pick one such as 2026-11-21\./));
    const backwards = await page(`from=${first}&to=2000-01-01`);
    assert.match(backwards, notice(/to: 2000-01-01 is before the first day; it was left out\./));
    assert.match(backwards, /<b>5<\/b> open/);
  });

  it("shows on an incident's page how long after its opening it was acknowledged and resolved", async () => {
    const id = ids[0]!;
    h.clock.set(new Date(t0 + 8 * MIN));
    await h.admin('POST', `/v1/incidents/${id}/acknowledge`, { by: 'alice' });
    h.clock.set(new Date(t0 + 72 * MIN));
    await h.admin('POST', `/v1/incidents/${id}/resolve`, { by: 'alice' });
    const cookie = await consoleCookie(h, 'http://localhost');
    const html = await (await h.app.request(`/incidents/${id}`, { headers: { cookie } })).text();
    assert.match(html, /Acknowledged by <span>alice<\/span>/);
    assert.match(html, /<span class="muted">, after 8 min<\/span>/);
    assert.match(html, /<span class="muted">, after 1 h 12 min<\/span>/);
  });

  /**
   * db-0 acknowledged after 2 min and resolved after 60; db-1 acknowledged after 4 min and resolved
   * by Lifeline after 30; db-2 acknowledged after 10 min; db-3 resolved after 20, never
   * acknowledged; db-4 (node_degraded) untouched.
   */
  const review = async () => {
    const step = async (i: number, afterMin: number, act: 'acknowledge' | 'resolve') => {
      h.clock.set(new Date(t0 + (i * 10 + afterMin) * MIN));
      await expectJson(await h.admin('POST', `/v1/incidents/${ids[i]}/${act}`, { by: 'alice' }), 200);
    };
    await step(0, 2, 'acknowledge');
    await step(1, 4, 'acknowledge');
    await step(2, 10, 'acknowledge');
    await step(3, 20, 'resolve');
    await step(0, 60, 'resolve');
    await resolveIncidents(h.sql, [{ id: ids[1]!, at: new Date(t0 + 40 * MIN), by: 'auto' }]);
  };
  const summary = async (q: string) => expectJson<Record<string, unknown>>(await h.admin('GET', `/v1/incidents/summary?${q}`), 200);

  it('summarizes for a review: counts, and times to acknowledge and resolve over those that were', async () => {
    await review();
    // [mean, median, p90] in seconds; null when nothing was timed.
    const times = (t: Array<number | null>) => ({ mean_seconds: t[0], median_seconds: t[1], p90_seconds: t[2] });
    const figures = (count: number, acknowledged: number, resolved: number, ack: Array<number | null>, res: Array<number | null>, down: number, degraded: number) => ({
      count, acknowledged, resolved, time_to_acknowledge: times(ack), time_to_resolve: times(res), by_category: { node_down: down, node_degraded: degraded },
    });
    // To acknowledge 120, 240 and 600 s: the 90th percentile interpolated 80 % of the way from 240 to 600.
    // To resolve 1200 (never acknowledged), 1800 (by Lifeline) and 3600 s.
    assert.deepEqual(await summary(''), figures(5, 3, 3, [320, 240, 528], [2200, 1800, 3240], 4, 1));
    // db-1 to db-3: acknowledged after 240 and 600 s, resolved after 1800 and 1200 s.
    assert.deepEqual(await summary(`opened_after=${at(10)}&opened_before=${at(40)}&label=role=db`), figures(3, 2, 2, [420, 420, 564], [1500, 1500, 1740], 3, 0));
    const none = [null, null, null];
    assert.deepEqual(await summary('node_id=db-4'), figures(1, 0, 0, none, none, 0, 1));
    await expectInvalid(await h.admin('GET', `/v1/incidents/summary?opened_after=${at(10)}&opened_before=${at(0)}`), ['opened_before']);
    // The summary counts every status (acknowledged and resolved are its own figures): a status filter is refused, not ignored.
    await expectInvalid(await h.admin('GET', '/v1/incidents/summary?status=open'), ['status']);
  });

  /** db-0 acknowledged by alice after 3 min, its acknowledgement expiring at 13 (a 600 s timeout), which clears acknowledged_at. */
  const acknowledgedThenExpired = async () => {
    const id = ids[0]!;
    h.clock.set(new Date(t0 + 3 * MIN));
    await expectJson(await h.admin('POST', `/v1/incidents/${id}/acknowledge`, { by: 'alice' }), 200);
    const expired = new Date(t0 + 13 * MIN);
    await reopenIncidents(h.sql, [id], expired);
    await addTimeline(h.sql, [{ incident_id: id, at: expired, kind: 'acknowledgement_expired', detail: { after_seconds: 600, acknowledged_at: at(3), acknowledged_by: 'alice' } }]);
    return id;
  };

  it('times an acknowledgement that expired from the first acknowledgement, in the summary and on the page', async () => {
    const id = await acknowledgedThenExpired();
    h.clock.set(new Date(t0 + 30 * MIN));
    await expectJson(await h.admin('POST', `/v1/incidents/${id}/resolve`, { by: 'bob' }), 200);
    const got = await summary('node_id=db-0');
    assert.equal(got.acknowledged, 1);
    assert.deepEqual(got.time_to_acknowledge, { mean_seconds: 180, median_seconds: 180, p90_seconds: 180 });
    const cookie = await consoleCookie(h, 'http://localhost');
    const html = await (await h.app.request(`/incidents/${id}`, { headers: { cookie } })).text();
    assert.doesNotMatch(html, /not yet/);
    assert.match(html, /by <span>alice<\/span><span class="muted">, after 3 min; the acknowledgement expired<\/span>/);
  });

  it('says on the page the first acknowledgement, which the summary times, and the one after it expired', async () => {
    const id = await acknowledgedThenExpired();
    h.clock.set(new Date(t0 + 20 * MIN));
    await expectJson(await h.admin('POST', `/v1/incidents/${id}/acknowledge`, { by: 'bob' }), 200);
    assert.deepEqual((await summary('node_id=db-0')).time_to_acknowledge, { mean_seconds: 180, median_seconds: 180, p90_seconds: 180 });
    const cookie = await consoleCookie(h, 'http://localhost');
    const html = await (await h.app.request(`/incidents/${id}`, { headers: { cookie } })).text();
    const fact = /<dt>Acknowledged<\/dt>\s*<dd[^>]*>(.*?)<\/dd>/s.exec(html)?.[1] ?? '';
    assert.match(fact, /^First <time[^>]*>.*?<\/time> by <span>alice<\/span><span class="muted">, after 3 min; the acknowledgement expired<\/span>/);
    assert.match(fact, /; acknowledged again <time[^>]*>.*?<\/time> by <span>bob<\/span><span class="muted">, after 20 min<\/span>$/);
  });
});
