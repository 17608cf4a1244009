import type { Tx } from '../db/client.ts';
import { auditRow, type Acting, type AuditChange } from './model.ts';
import { insertAuditRow, insertAuditRows } from './store.ts';

/**
 * Records a privileged change in the audit log, in the transaction of the change itself: both
 * commit or neither does. Every door (API, console, signed link) reaches the change through its
 * room's service, which calls this, so none can change something without leaving a row.
 */
export async function audit(tx: Tx, acting: Acting, change: AuditChange, now: Date): Promise<void> {
  await insertAuditRow(tx, auditRow(acting, change, now));
}

/**
 * The same change to each of `targets` of `type` (every node one heartbeat batch registered), a
 * row each, in one statement.
 */
export async function auditEach(tx: Tx, acting: Acting, change: Omit<AuditChange, 'target'>, type: string, targets: { id: string; name: string }[], now: Date): Promise<void> {
  if (targets.length === 0) return;
  await insertAuditRows(tx, auditRow(acting, { ...change, target: { type, id: '' } }, now), targets);
}
