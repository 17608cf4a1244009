import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PagedNow } from '../../src/console/incident-parts.tsx';
import type { IncidentRow, TimelineEntry } from '../../src/incidents/model.ts';
import type { DeliveryRow } from '../../src/notifications/model.ts';

const opened = new Date('2026-12-07T03:00:00Z');
const now = new Date('2026-12-07T03:20:00Z');
const alice = '00000000-0000-4000-8000-00000000000a';
const bob = '00000000-0000-4000-8000-00000000000b';
const names = { keys: new Map(), channels: new Map(), users: new Map([[alice, 'Alice'], [bob, 'Bob']]), schedules: new Map() };

const incident = (step: number, level: number): IncidentRow => ({
  id: 'i-1', node_id: 'n-1', node_name: 'db-1', category: 'node_down', severity: 'critical', status: 'open', title: 'db-1 is down', reason: null,
  policy_id: 'p-1', opened_at: opened, acknowledged_at: null, acknowledged_by: null, resolved_at: null, resolved_by: null,
  escalation_level: level, escalation_step: step, escalation_held: false, escalation_from: null, escalation_base: 0, reopenings: 0, version: 1,
});
const page = (step: number, userId: string, sentAt: Date): DeliveryRow => ({
  id: `d-${step}-${userId}`, incident_id: 'i-1', event: step === 0 ? 'opened' : 'escalated', event_key: step === 0 ? 'opened' : `escalated-${step}`,
  channel_id: null, user_id: userId, channel_type: 'email', status: 'sent', digest: false, attempts: 1, last_error: null,
  occurred_at: sentAt, created_at: sentAt, enqueued_at: sentAt, sent_at: sentAt, next_attempt_at: null, lease_until: null, lease_token: null,
});
const entry = (step: number, level: number, at: Date): TimelineEntry => ({ incident_id: 'i-1', at, kind: step === 0 ? 'opened' : 'escalated', detail: { step, level } });
const text = async (p: Parameters<typeof PagedNow>[0]) => (await PagedNow(p).toString()).replace(/<li>/g, '\n').replace(/<[^>]+>/g, '').trim();

describe("an incident's Paged fact", () => {
  it('names the one page as before', async () => {
    assert.equal(await text({ incident: incident(0, 0), ledger: [page(0, alice, opened)], timeline: [entry(0, 0, opened)], names, pagedNobody: false, now }), 'Alice (Email, 03:00 UTC)');
  });

  it('keeps who earlier levels paged once it escalates, a line each, the current one marked', async () => {
    const at = new Date('2026-12-07T03:15:00Z');
    const shown = await text({ incident: incident(1, 1), ledger: [page(1, bob, at), page(0, alice, opened)], timeline: [entry(0, 0, opened), entry(1, 1, at)], names, pagedNobody: false, now });
    assert.equal(shown, 'Level 1: Alice (Email, 03:00 UTC)\nLevel 2, now: Bob (Email, 03:15 UTC)');
  });

  it('tells a repeated level from its first page', async () => {
    const t1 = new Date('2026-12-07T03:05:00Z');
    const t2 = new Date('2026-12-07T03:10:00Z');
    const shown = await text({
      incident: incident(2, 0), ledger: [page(0, alice, opened), page(1, bob, t1), page(2, alice, t2)],
      timeline: [entry(0, 0, opened), entry(1, 1, t1), entry(2, 0, t2)], names, pagedNobody: false, now,
    });
    assert.equal(shown, 'Level 1: Alice (Email, 03:00 UTC)\nLevel 2: Bob (Email, 03:05 UTC)\nLevel 1 again, now: Alice (Email, 03:10 UTC)');
  });
});
