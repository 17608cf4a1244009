import { NOT_KEY_VALUE, parseLabel, type LabelPair } from '../nodes/model.ts';
import { Notice } from './components.tsx';

/** A list's `?label=` as typed, read leniently: a bad one is said and left out, never a 400 page. */
export interface LabelQuery {
  label?: LabelPair | undefined;
  /** The label as typed, for the form and the list's links. */
  labelText: string;
  /** Why it was left out, if it was. */
  labelProblem?: string;
}

/**
 * The Fleet and Incidents lists read their label filter here, by the API's own rule (parseLabel).
 * Only the start is trimmed, where a space can only be a slip (a key holds none): a value may end in
 * a space, and `env=prod ` trimmed whole filtered by `prod`, so the link of a node's `prod ` tag
 * listed every other node instead.
 */
export function readLabelFilter(raw: string | undefined): LabelQuery {
  const labelText = raw?.trimStart() ?? '';
  const parsed = parseLabel(labelText);
  if (!('problem' in parsed)) return { label: parsed, labelText };
  if (!labelText) return { labelText };
  return { labelText, labelProblem: parsed.problem === NOT_KEY_VALUE ? 'A label filter is key=value, for example role=web.' : `Not a label filter: ${parsed.problem}.` };
}

/** The label field of a list's filter form. */
export const LabelField = (p: { q: LabelQuery }) => (
  <div>
    <label for="label">Label</label>
    <input id="label" name="label" type="text" value={p.q.labelText} placeholder="role=web" spellcheck={false} />
  </div>
);

/** Why the label typed was left out, above the list. */
export const LabelProblem = (p: { q: LabelQuery }) => (p.q.labelProblem ? <Notice kind="bad">{p.q.labelProblem}</Notice> : null);
