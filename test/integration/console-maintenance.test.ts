import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openIncidents } from '../../src/incidents/store.ts';
import { formOf, signedIn, textareaText, unescapeHtml } from '../helpers/app.ts';

// Maintenance as the incident pages say it: a node put into maintenance while an incident of it
// is open keeps the incident, and the pages say why nobody is paged and until when; and the way
// from a node or an incident to a window for it.

const ORIGIN = 'http://localhost';

describe('console: incidents of a node in maintenance', () => {
  const { s, get } = signedIn(ORIGIN);

  it('says on the incident and in the list that the node is in maintenance, and until when', async () => {
    const { h } = s;
    const node = await h.createNode('web-01');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'web-01 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const before = await get(`/incidents/${incident!.id}`);
    assert.doesNotMatch(before, /in maintenance/);
    const until = new Date(h.clock.now().getTime() + 3_600_000);
    const created = await h.admin('POST', '/v1/maintenances', { node_ids: ['web-01'], starts_at: h.clock.now().toISOString(), ends_at: until.toISOString() });
    assert.equal(created.status, 201);
    const says = new RegExp(`node in maintenance until <time datetime="${until.toISOString()}">[^<]+</time>: no pages meanwhile; escalation goes on if it is still down after`);
    assert.match(await get(`/incidents/${incident!.id}`), says);
    assert.match(await get('/incidents'), says);
    assert.match(await get('/nodes/web-01'), says);
  });
  it('opens a window for the node of a node or incident page in two clicks: the node filled in, ending in 1 h (or a preset)', async () => {
    const { h, cookie } = s;
    const node = await h.createNode('db-07');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'db-07 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const link = /<a class="button" href="([^"]+)" id="maintenance-for-node">Maintenance for this node…<\/a>/;
    const fromNode = link.exec(await get('/nodes/db-07'))?.[1];
    assert.equal(fromNode, '/maintenance?node=db-07#new-window');
    assert.equal(link.exec(await get(`/incidents/${incident!.id}`))?.[1], fromNode);

    const inHours = (hours: number) => new Date(h.clock.now().getTime() + hours * 3_600_000).toISOString().slice(0, 16);
    const form = await get(fromNode!.replace(/#.*/, ''));
    const body = formOf(form, '/maintenance');
    assert.equal(body.get('nodes'), 'db-07');
    assert.equal(body.get('ends_at'), inHours(1));
    assert.match(form, /<button type="submit" class="link" name="hours" value="4" formaction="\/maintenance#new-window" formnovalidate="">4 h<\/button>/);
    assert.equal(formOf(await get('/maintenance?node=db-07&hours=4'), '/maintenance').get('ends_at'), inHours(4));

    const sent = await h.app.request('/maintenance', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    assert.equal(sent.status, 303, await sent.text());
    const windows = (await (await h.admin('GET', '/v1/maintenances?active=true')).json()) as { items: Array<{ node_ids: string[]; ends_at: string }> };
    assert.ok(windows.items.some((w) => w.node_ids.includes(node.id) && w.ends_at.startsWith(inHours(1))), JSON.stringify(windows));
  });
  it('keeps what was typed when a preset picks the end, and creates nothing for it', async () => {
    const { h, cookie } = s;
    await h.createNode('db-08');
    const body = formOf(await get('/maintenance'), '/maintenance');
    body.set('nodes', 'db-08 db-09');
    body.set('labels', 'tier=db');
    body.set('reason', 'disk swap & <reboot>');
    body.set('hours', '4');
    const res = await h.app.request('/maintenance', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    assert.equal(res.status, 200);
    const html = await res.text();
    const again = formOf(html, '/maintenance');
    assert.equal(again.get('nodes'), 'db-08 db-09');
    assert.equal(textareaText(/<textarea id="labels"[^>]*>([^<]*)<\/textarea>/.exec(html)?.[1] ?? ''), 'tier=db');
    assert.equal(unescapeHtml(again.get('reason')!), 'disk swap & <reboot>');
    assert.equal(again.get('starts_at'), body.get('starts_at'));
    assert.equal(again.get('ends_at'), new Date(h.clock.now().getTime() + 4 * 3_600_000).toISOString().slice(0, 16));
    assert.match(html, /value="4" formaction="\/maintenance#new-window" formnovalidate="" aria-current="true">4 h</);
    // A fresh token: the form shown is good for the one window it will create.
    assert.notEqual(again.get('_once'), body.get('_once'));
    // Enter in a field sends the form by its first button, which starts the window.
    assert.match(html.slice(html.indexOf('<form method="post" action="/maintenance"')), /^<form[^>]*>(<input [^>]*>)*<button type="submit" hidden="" tabindex="-1">Start the window<\/button>/);
    // A start typed for later: the hours count from it, or the window would end before it began.
    again.set('starts_at', new Date(h.clock.now().getTime() + 10 * 3_600_000).toISOString().slice(0, 16));
    again.set('hours', '4');
    const later = await h.app.request('/maintenance', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: again.toString() });
    assert.equal(formOf(await later.text(), '/maintenance').get('ends_at'), new Date(Date.parse(`${again.get('starts_at')}:00Z`) + 4 * 3_600_000).toISOString().slice(0, 16));
    assert.equal((await h.sql`select count(*) from maintenances where reason like 'disk swap%'`)[0]!.count, '0');
  });
  it('says once, in the form\'s words, that a window must cover something; the API keeps its own', async () => {
    const { h, cookie } = s;
    const body = formOf(await get('/maintenance'), '/maintenance');
    body.set('reason', 'nothing named');
    const res = await h.app.request('/maintenance', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.deepEqual([...html.matchAll(/<p class="error" id="([^"]+)">([^<]*)<\/p>/g)].map((m) => [m[1], m[2]]), [['nodes-error', 'Pick at least one node or give a label']]);
    assert.doesNotMatch(html, /node_ids/);
    const api = await h.admin('POST', '/v1/maintenances', { node_ids: [], starts_at: h.clock.now().toISOString() });
    assert.equal(api.status, 400);
    assert.match(await api.text(), /node_ids or labels must name at least one node or label/);
  });
  it('links a renamed node by its name now, not the one the incident opened under, which another node took', async () => {
    const { h } = s;
    const node = await h.createNode('cache-01');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'cache-01 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    assert.equal((await h.admin('PATCH', '/v1/nodes/cache-01', { name: 'cache-01-old' })).status, 200);
    await h.createNode('cache-01');
    const page = await get(`/incidents/${incident!.id}`);
    assert.match(page, /<a class="button" href="\/maintenance\?node=cache-01-old#new-window" id="maintenance-for-node">/);
    assert.match(page, new RegExp(`<a href="/nodes/${node.id}">cache-01-old</a><span class="muted"> \\(was cache-01\\)</span>`));
  });
});
