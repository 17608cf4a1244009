import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { addTimeline, openIncidents } from '../../src/incidents/store.ts';
import { insertDeliveries, recordSent } from '../../src/notifications/store.ts';
import { escalate } from '../../src/incidents/service.ts';
import { expectJson } from '../helpers/app.ts';
import { VIEWS } from '../helpers/browser.ts';
import { consoleInBrowser } from '../helpers/console-browser.ts';

// An incident as the on-call engineer meets it at night on a phone (390×844): what is down, since
// when, why and how far it escalated are on the first screen with Acknowledge, and Acknowledge
// works on an incident that escalated after the page was drawn.
// LIFELINE_SCREENSHOTS=<dir> keeps the phone's first screen and the whole page.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;
const PHONE = VIEWS.find((v) => v.name === 'phone-light')!.context;

describe('an incident on a phone, in a browser', () => {
  const c = consoleInBrowser({ key: 'on-call phone' });

  const shot = async (page: Page, name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-full.png`), fullPage: true });
  };

  /** A down node with a last heartbeat, and its open incident under a two-level policy, paged at level 1. */
  async function downIncident(name: string) {
    const alice = await expectJson<{ id: string }>(await c.h.admin('POST', '/v1/users', { name: `Alice ${name}`, email: `alice-${name}@example.com` }), 201);
    const bob = await expectJson<{ id: string }>(await c.h.admin('POST', '/v1/users', { name: `Bob ${name}`, email: `bob-${name}@example.com` }), 201);
    const policy = await expectJson<{ id: string }>(
      await c.h.admin('POST', '/v1/escalation-policies', { name: `Nights ${name}`, levels: [{ after_seconds: 0, user_ids: [alice.id] }, { after_seconds: 300, user_ids: [bob.id] }] }),
      201,
    );
    const node = await c.h.createNode(name, { escalation_policy_id: policy.id });
    assert.equal((await c.h.req('POST', '/v1/heartbeats', { token: node.token, json: { status: 'failing' } })).status, 202);
    await c.h.flush();
    c.h.clock.advance(95_000);
    await c.h.sql`update node_health set state = 'down', reason = 'no heartbeat for 90s', since = ${c.h.clock.now()} where node_id = ${node.id}`;
    const [incident] = await openIncidents(c.h.sql, [
      { nodeId: node.id, nodeName: name, category: 'node_down', severity: 'critical', title: `${name} is down`, reason: 'no heartbeat for 90s', policyId: policy.id, openedAt: c.h.clock.now() },
    ]);
    await addTimeline(c.h.sql, [{ incident_id: incident!.id, at: c.h.clock.now(), kind: 'opened', detail: { reason: 'no heartbeat for 90s', policy_id: policy.id, level: 0, step: 0, channel_ids: [], users: [{ user_id: alice.id, name: `Alice ${name}` }] } }]);
    return incident!;
  }

  const status = async (id: string) => (await expectJson<{ status: string; escalation_level: number; acknowledged_by: string | null }>(await c.h.admin('GET', `/v1/incidents/${id}`), 200));

  it('acknowledges an incident that escalated to level 2 after its page was drawn', async () => {
    const incident = await downIncident('db-02');
    // Not watched for problems: the refreshes cut below report failed requests.
    const { page } = await c.open(`/incidents/${incident.id}`, { context: PHONE });
    // The page hears nothing more after it loads, so it keeps what it drew while the policy escalates.
    await page.route(
      (url) => url.pathname === '/v1/events' || url.pathname === `/incidents/${incident.id}`,
      (route) => (route.request().headers()['hx-request'] || route.request().url().includes('/v1/events') ? route.abort() : route.continue()),
    );
    await shot(page, 'incident-phone-open');
    c.h.clock.advance(300_000);
    await c.h.sql.begin((tx) => escalate(tx, [{ incidentId: incident.id, step: 1, atOnce: false }], c.h.clock.now(), true));
    assert.equal((await status(incident.id)).escalation_level, 1, 'escalated to level 2');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText('Acknowledged: escalation stops.').waitFor();
    assert.equal((await status(incident.id)).status, 'acknowledged');
  });

  it('puts what is down, since when, its last heartbeat, why and the escalation level on the first screen with Acknowledge', async () => {
    const incident = await downIncident('db-03');
    const { page, problems } = await c.open(`/incidents/${incident.id}`, { context: PHONE });
    await shot(page, 'incident-phone-first-screen');
    const height = PHONE.viewport!.height;
    const bottom = async (selector: string) => {
      const box = await page.locator(selector).first().boundingBox();
      assert.ok(box, `${selector} is shown`);
      return box.y + box.height;
    };
    for (const fact of ['Why', 'Down since', 'Last heartbeat', 'Escalation level']) {
      assert.ok((await bottom(`dt:text-is("${fact}")`)) <= height, `${fact} on the first screen`);
    }
    assert.ok((await bottom('dt:text-is("Paged")')) <= height, 'whom it paged on the first screen');
    assert.ok((await bottom('#acknowledge')) <= height, 'Acknowledge on the first screen');
    assert.match((await page.locator('.facts').first().innerText()).replace(/\s+/g, ' '), /Last heartbeat 1 min ago · \d\d:\d\d:\d\d UTC · failing Why no heartbeat for 90s/);
    // The resolve form, with its note, comes after the facts.
    const facts = (await page.locator('.facts').first().boundingBox())!;
    assert.ok((await page.locator('#note').boundingBox())!.y > facts.y + facts.height, 'the note below the facts');
    assert.deepEqual(problems, []);
  });

  it('says on the first screen whom each level paged and when, from the ledger', async () => {
    const incident = await downIncident('db-04');
    const ops = await expectJson<{ id: string }>(await c.h.admin('POST', '/v1/channels', { name: 'ops-alerts', type: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/x' } }), 201);
    const [alice] = await c.h.sql<{ id: string }[]>`select id from users where name = 'Alice db-04'`;
    // Level 1 paged Alice by email, sent a minute later; level 2 paged Alice and the Slack channel,
    // Alice's sent, the channel's still on its way: a line for each level's page.
    const opened = c.h.clock.now();
    const page = (eventKey: string, at: Date) => [
      { incidentId: incident.id, event: eventKey === 'opened' ? ('opened' as const) : ('escalated' as const), eventKey, channelId: null, userId: alice!.id, channelType: 'email', occurredAt: at },
      ...(eventKey === 'opened' ? [] : [{ incidentId: incident.id, event: 'escalated' as const, eventKey, channelId: ops.id, channelType: 'slack', occurredAt: at }]),
    ];
    const [first] = await insertDeliveries(c.h.sql, page('opened', opened), opened);
    await recordSent(c.h.sql, [{ id: first!, at: new Date(opened.getTime() + 60_000) }]);
    c.h.clock.advance(300_000);
    const escalatedAt = c.h.clock.now();
    await c.h.sql`update incidents set escalation_step = 1, escalation_level = 1 where id = ${incident.id}`;
    await addTimeline(c.h.sql, [{ incident_id: incident.id, at: escalatedAt, kind: 'escalated', detail: { level: 1, step: 1, channel_ids: [ops.id], users: [{ user_id: alice!.id, name: 'Alice db-04' }] } }]);
    const ids = await insertDeliveries(c.h.sql, page('escalated-1', escalatedAt), escalatedAt);
    const [aliceAgain] = await c.h.sql<{ id: string }[]>`select id from deliveries where id = any(${ids}::text[]) and user_id is not null`;
    const sentAt = new Date(escalatedAt.getTime() + 2_000);
    await recordSent(c.h.sql, [{ id: aliceAgain!.id, at: sentAt }]);
    const { page: tab, problems } = await c.open(`/incidents/${incident.id}`, { context: PHONE });
    await shot(tab, 'incident-phone-paged');
    const box = (await tab.locator('#paged').boundingBox())!;
    assert.ok(box.y + box.height <= PHONE.viewport!.height, 'on the first screen');
    const hhmm = sentAt.toISOString().slice(11, 16);
    const firstHhmm = new Date(opened.getTime() + 60_000).toISOString().slice(11, 16);
    // Level 1's page stays named beside level 2's: Alice was woken at 10:10 too.
    assert.equal((await tab.locator('#paged').innerText()).replace(/\s+/g, ' ').trim(), `Level 1: Alice db-04 (Email, ${firstHhmm} UTC) Level 2, now: Alice db-04 (Email, ${hhmm} UTC), ops-alerts (Slack, sending)`);
    // The whole ledger stays below.
    assert.equal(await tab.getByRole('heading', { name: 'Who was told' }).count(), 1);
    assert.deepEqual(problems, []);
  });

  it('keeps each status tag of the incidents list whole at 1280 px', async () => {
    // Long unbroken names crowd the columns, as a fleet of generated names does.
    const incident = await downIncident(`batch-${'x'.repeat(100)}`);
    await downIncident(`batch-${'y'.repeat(100)}`);
    await c.h.admin('POST', `/v1/incidents/${incident.id}/acknowledge`, { by: 'alice' });
    const { page, problems } = await c.open('/incidents');
    await shot(page, 'incidents-list-1280');
    // A tag broken inside its word stands two lines high.
    const heights = await page.locator('#incidents-live td .tag').evaluateAll((tags) => tags.map((t) => [t.textContent, Math.round(t.getBoundingClientRect().height)] as const));
    assert.ok(heights.some(([text]) => text === 'acknowledged'), JSON.stringify(heights));
    const line = Math.min(...heights.map(([, height]) => height));
    assert.deepEqual(heights.filter(([, height]) => height > line), [], 'every tag on one line');
    assert.deepEqual(problems, []);
  });
});
