// Which reason a message or the console's incident page gives for an incident later than its
// opening (reasonNow), and the timeline line it falls back to (lastReasonOf).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { State } from '../../src/health/decide.ts';
import type { IncidentRow, TimelineEntry } from '../../src/incidents/model.ts';
import { lastReasonOf, reasonNow } from '../../src/incidents/still-failing.ts';

const OPENED = 'no run has ended since it was created';
const LAST = 'exited with status 3: disk full';
const NOW = 'exited with status 1: connection refused';

const incident = (status: IncidentRow['status'], category: IncidentRow['category'] = 'node_down') => ({ status, category, reason: OPENED });
const node = (state: State | null, reason: string | null = NOW) => ({ state, reason });

describe('reasonNow', () => {
  test('an unresolved incident whose node is still in its state says the node’s reason', () => {
    assert.equal(reasonNow(incident('open'), node('down'), LAST), NOW);
    assert.equal(reasonNow(incident('acknowledged'), node('down'), LAST), NOW);
    assert.equal(reasonNow(incident('acknowledged', 'node_degraded'), node('degraded'), undefined), NOW);
  });

  test('a node in maintenance or unknown says the last reason the outage had, else the opening one', () => {
    for (const state of ['maintenance', 'unknown', null] as const) {
      assert.equal(reasonNow(incident('acknowledged'), node(state, 'in maintenance'), LAST), LAST, String(state));
      assert.equal(reasonNow(incident('open'), node(state, 'in maintenance'), undefined), OPENED, String(state));
    }
  });

  test('a node that flipped between down and degraded is no longer in the state the incident opened for', () => {
    assert.equal(reasonNow(incident('open', 'node_down'), node('degraded', 'slow'), LAST), LAST);
    assert.equal(reasonNow(incident('open', 'node_degraded'), node('down', 'gone'), undefined), OPENED);
  });

  test('a resolved incident says the last reason, not what its node says in a later outage or after recovering', () => {
    assert.equal(reasonNow(incident('resolved'), node('down', 'a later outage'), LAST), LAST);
    assert.equal(reasonNow(incident('resolved'), node('healthy', 'ok'), undefined), OPENED);
  });

  test('a deleted node’s incident keeps what it has', () => {
    assert.equal(reasonNow(incident('open'), undefined, LAST), LAST);
    assert.equal(reasonNow(incident('open'), undefined, undefined), OPENED);
  });

  test('a node with no reason falls back', () => {
    assert.equal(reasonNow(incident('open'), node('down', null), LAST), LAST);
    assert.equal(reasonNow({ ...incident('open'), reason: null }, node('down', null), undefined), null);
  });
});

describe('lastReasonOf', () => {
  const line = (kind: string, detail: Record<string, unknown>, sec: number): TimelineEntry => ({ incident_id: 'i', at: new Date(sec * 1000), kind, detail });

  test('the reason of the last reason_changed line, whatever follows it', () => {
    const timeline = [
      line('opened', {}, 0),
      line('reason_changed', { node_state: 'down', reason: 'first' }, 1),
      line('reason_changed', { node_state: 'down', reason: LAST }, 2),
      line('acknowledged', { by: 'alice' }, 3),
    ];
    assert.equal(lastReasonOf(timeline), LAST);
    assert.equal(lastReasonOf(timeline.slice(0, 1)), undefined);
    assert.equal(lastReasonOf([line('reason_changed', { reason: 7 }, 1)]), undefined, 'not a string: none');
  });
});
