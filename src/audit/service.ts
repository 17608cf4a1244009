import type { Tx } from '../db/client.ts';
import { auditRow, type Acting, type AuditChange } from './model.ts';
import { insertAuditRow } from './store.ts';

/**
 * Records a privileged change in the audit log, in the transaction of the change itself: both
 * commit or neither does. Every door (API, console, signed link) reaches the change through its
 * room's service, which calls this, so none can change something without leaving a row.
 */
export async function audit(tx: Tx, acting: Acting, change: AuditChange, now: Date): Promise<void> {
  await insertAuditRow(tx, auditRow(acting, change, now));
}
