import { Hono } from 'hono';
import type { AuditRow, FieldChange } from '../../audit/model.ts';
import { listAuditRows } from '../../audit/store.ts';
import type { AppDeps } from '../../http/deps.ts';
import { isAuditId } from '../../http/routes/audit.ts';
import { requireScope } from '../acting.tsx';
import { At, Pager, Table } from '../components.tsx';
import { chrome, cursor, href, readCursor } from '../context.ts';
import type { ConsoleEnv, Guards } from '../guard.ts';
import { Page } from '../layout.tsx';
import { html } from '../render.tsx';

// The audit log, for admin keys only, as GET /v1/audit lists it: who changed what, through which
// door, and for an update each field from what to what. Reached from the API keys page.

// A value may be 4,000 characters of JSON (AUDIT_VALUE_MAX) a side: 100 rows of a long-listed
// status page's edits made an 840 KB page, 50 make about 420 KB.
const PAGE_SIZE = 50;

/** Past this many characters a value shows its start, and the rest on a click. */
const FOLD_CHARS = 200;

/**
 * A recorded value as its JSON, so the text "60" and the number 60 read apart, folded past
 * FOLD_CHARS (a policy's levels, a page's components) so a row stays a row; an absent side as none.
 */
function shown(side: 'from' | 'to', change: { from?: unknown; to?: unknown }) {
  if (!(side in change)) return <span class="muted">none</span>;
  const json = JSON.stringify(change[side]) ?? '';
  if (json.length <= FOLD_CHARS) return <code>{json}</code>;
  return (
    <details>
      <summary>
        <code>{json.slice(0, FOLD_CHARS)}…</code> <span class="muted">({json.length} characters)</span>
      </summary>
      <code>{json}</code>
    </details>
  );
}

/**
 * What a row's detail says: each field an update changed (`changes`), a field it set to the value
 * it had, or, for a row written before values were recorded, the names of the fields it set; any
 * other detail (a channel's type, a key's scope) as its JSON.
 */
function Detail(p: { detail: Record<string, unknown> }) {
  const { fields, changes, ...rest } = p.detail;
  const named = Array.isArray(fields) ? fields.map(String) : [];
  const changed = changes !== null && typeof changes === 'object' ? Object.entries(changes as Record<string, FieldChange>) : undefined;
  return (
    <ul class="plain">
      {changed?.map(([field, c]) => (
        <li>
          <b>{field}</b>:{' '}
          {c === 'changed' ? (
            <span class="muted">changed (a credential: its value is not recorded)</span>
          ) : (
            <>
              {shown('from', c)} → {shown('to', c)}
            </>
          )}
        </li>
      ))}
      {changed && changed.length === 0 && named.length ? <li class="muted">Set {named.join(', ')} to the values they had.</li> : null}
      {!changed && named.length ? <li>Set {named.join(', ')} <span class="muted">(values not recorded then)</span></li> : null}
      {Object.entries(rest).map(([key, value]) => (
        <li>
          <b>{key}</b>: <code>{JSON.stringify(value)}</code>
        </li>
      ))}
    </ul>
  );
}

const Row = (p: { r: AuditRow }) => (
  <tr>
    <td data-label="When">
      <At at={p.r.at} />
    </td>
    <td data-label="Who">
      {p.r.actor_name}
      <span class="sub">
        {p.r.actor_kind} · {p.r.via}
      </span>
    </td>
    <td data-label="Action">
      <code>{p.r.action}</code>
      {p.r.result === 'unchanged' ? <span class="sub">nothing to do</span> : null}
    </td>
    <td data-label="Target">
      {p.r.target_name ?? p.r.target_id}
      <span class="sub mono">{p.r.target_id}</span>
    </td>
    <td data-label="Change">
      <Detail detail={p.r.detail} />
    </td>
  </tr>
);

export function auditRoutes(deps: AppDeps, guards: Guards) {
  const app = new Hono<ConsoleEnv>();
  app.get('/audit', ...guards.page, requireScope(deps, 'admin'), async (c) => {
    const before = readCursor(c.req.query('before'), isAuditId);
    const [frame, fetched] = await Promise.all([chrome(c, deps), listAuditRows(deps.sql, { beforeId: before }, PAGE_SIZE + 1)]);
    const rows = fetched.slice(0, PAGE_SIZE);
    const last = rows.at(-1);
    const next = fetched.length > PAGE_SIZE && last ? href('/audit', { before: cursor(last.id) }) : undefined;
    return html(
      c,
      <Page title="Audit log" chrome={frame} section="keys">
        <h1>Audit log</h1>
        <p class="muted">Every privileged change, newest first. Secrets, tokens and URLs that may hold one are recorded as changed, never by value.</p>
        <Table head={['When', 'Who', 'Action', 'Target', 'Change']}>
          {rows.map((r) => (
            <Row r={r} />
          ))}
        </Table>
        <Pager next={next} first={before ? '/audit' : undefined} />
      </Page>,
    );
  });
  return app;
}
