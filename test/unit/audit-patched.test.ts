import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIT_VALUE_MAX, patched } from '../../src/audit/model.ts';

// patched: the one way an update records what it changed, from what to what, without credentials
// and without values too large to keep for every edit.

const target = { type: 'thing', id: 't1', name: 'thing' };
const changesOf = (patch: object, before: object) => patched('thing.update', target, patch, before).detail!.changes;

describe('patched', () => {
  it('records only the fields whose value differs, each from and to; a field the thing lacked has no from', () => {
    const change = patched('thing.update', target, { grace_seconds: 5, name: 'same', schedule: { cron: '* * * * *' }, gone: undefined }, { grace_seconds: 0, name: 'same', schedule: null });
    assert.deepEqual(change.detail, {
      fields: ['grace_seconds', 'name', 'schedule'],
      changes: { grace_seconds: { from: 0, to: 5 }, schedule: { from: null, to: { cron: '* * * * *' } } },
    });
    assert.equal(change.result, 'done');
    assert.equal(patched('thing.update', target, { name: undefined }, { name: 'x' }).result, 'unchanged');
  });

  it('records a credential, a ping key, a badge id or a URL only as changed, at any depth, and masks a password in any other text', () => {
    assert.deepEqual(
      changesOf(
        { token: 'lln_new', ping_key: 'pk-new', badge_id: 'b-new', config: { url: 'https://a.example/x?token=1', routing_key: 'R', note: 'see https://ops:hunter2@wiki.example/page' }, levels: [{ api_token: 'deep' }] },
        { token: 'lln_old', ping_key: 'pk-old', badge_id: 'b-old', config: { url: 'https://a.example/y' }, levels: [] },
      ),
      {
        badge_id: 'changed',
        'config.note': { to: 'see https://ops:***@wiki.example/page' },
        'config.routing_key': 'changed',
        'config.url': 'changed',
        levels: { from: [], to: [{ api_token: '[redacted]' }] },
        ping_key: 'changed',
        token: 'changed',
      },
    );
  });

  it('records a value longer than the cap by its size only, so a page naming a thousand nodes does not fill the log', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const { components } = changesOf({ components: [{ name: 'All', node_ids: ids }] }, { components: [{ name: 'All', node_ids: ids.slice(0, 10) }] }) as Record<string, { from: unknown; to: unknown }>;
    assert.deepEqual(components!.from, [{ name: 'All', node_ids: ids.slice(0, 10) }]);
    const chars = JSON.stringify([{ name: 'All', node_ids: ids }]).length;
    assert.ok(chars > AUDIT_VALUE_MAX);
    assert.deepEqual(components!.to, { omitted: 'too large to record', chars });
  });
});

describe('patched, with labels named like what every object inherits', () => {
  it('reads only the thing’s own fields: a label `constructor` or `__proto__` added has no from, one removed no to', () => {
    const added = JSON.parse('{"constructor":"c","__proto__":"p","toString":"t"}') as Record<string, string>;
    assert.deepEqual(changesOf({ labels: added }, { labels: {} }), {
      'labels.__proto__': { to: 'p' },
      'labels.constructor': { to: 'c' },
      'labels.toString': { to: 't' },
    });
    assert.deepEqual(changesOf({ labels: {} }, { labels: added }), {
      'labels.__proto__': { from: 'p' },
      'labels.constructor': { from: 'c' },
      'labels.toString': { from: 't' },
    });
    // A field the thing never had, though every object inherits one of that name.
    assert.deepEqual(changesOf({ constructor: 'x' }, {}), { constructor: { to: 'x' } });
  });
});

describe('patched, hiding a ping key or a badge id', () => {
  it('hides them inside a list recorded whole and inside an object that replaces null, as it does in an object walked field by field', () => {
    assert.deepEqual(
      changesOf(
        { levels: [{ ping_key: 'pk-in-list', badge_id: 'b-in-list', name: 'a' }], config: { inner: { pingKey: 'pk-under-null' } } },
        { levels: [], config: null },
      ),
      {
        config: { from: null, to: { inner: { pingKey: '[redacted]' } } },
        levels: { from: [], to: [{ ping_key: '[redacted]', badge_id: '[redacted]', name: 'a' }] },
      },
    );
  });
});

describe('patched, with labels named like a credential', () => {
  it('hides a label whose name has a credential word as a part, and masks a token in a URL it records', () => {
    const labels = { db_password: 'pw1', DB_PASS: 'pw2', credentials: 'c', auth: 'a', dsn_url: 'https://x/y?token=abc', apiKey: 'k', 'signing-key': 's' };
    assert.deepEqual(changesOf({ labels: { ...labels, docs: 'https://wiki.example/run?page=2&token=abc&sig=s1g' } }, { labels: {} }), {
      'labels.DB_PASS': 'changed',
      'labels.apiKey': 'changed',
      'labels.auth': 'changed',
      'labels.credentials': 'changed',
      'labels.db_password': 'changed',
      'labels.docs': { to: 'https://wiki.example/run?page=2&token=***&sig=***' },
      'labels.dsn_url': 'changed',
      'labels.signing-key': 'changed',
    });
  });

  it('keeps by value a label that only looks like one in part: monkey, keys, passes, author, key_id', () => {
    const labels = { monkey: 'banana', keys: '3', passes: '2', author: 'ann', key_id: 'k-1', key: 'v' };
    assert.deepEqual(changesOf({ labels }, { labels: {} }), Object.fromEntries(Object.entries(labels).sort().map(([k, v]) => [`labels.${k}`, { to: v }])));
  });
});
