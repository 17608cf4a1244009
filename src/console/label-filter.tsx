import { MAX_LABEL_FILTERS, NOT_KEY_VALUE, parseLabel, type LabelPair } from '../nodes/model.ts';
import { Notice } from './components.tsx';

/** A list's `?label=`s as typed, read leniently: a bad one is said and left out, never a 400 page. */
export interface LabelQuery {
  /** Every label a node must carry (all of them, as the API's repeated `?label=` reads them). */
  labels: LabelPair[];
  /** The labels as typed, for the form and the list's links. */
  labelTexts: string[];
  /** Why some were left out, if any were. */
  labelProblems: string[];
}

// Not repeating what was typed: anyone may send a link with words of their own there.
const problemOf = (problem: string) => (problem === NOT_KEY_VALUE ? 'A label filter is key=value, for example role=web.' : `Not a label filter: ${problem}.`);

/**
 * The Fleet and Incidents lists read their label filters here, by the API's own rule (parseLabel)
 * and its limit of MAX_LABEL_FILTERS: a node must carry every one, so a label link on a page
 * already filtered by a label adds to it instead of replacing it. Only the start is trimmed, where
 * a space can only be a slip (a key holds none): a value may end in a space, and `env=prod `
 * trimmed whole filtered by `prod`, so the link of a node's `prod ` tag listed every other node
 * instead. An empty field (the form's spare one) is no filter.
 */
export function readLabelFilters(raw: readonly string[] | undefined): LabelQuery {
  const typed = (raw ?? []).map((t) => t.trimStart()).filter((t) => t !== '');
  const q: LabelQuery = { labels: [], labelTexts: [], labelProblems: [] };
  for (const text of typed.slice(0, MAX_LABEL_FILTERS)) {
    const parsed = parseLabel(text);
    q.labelTexts.push(text);
    if ('problem' in parsed) q.labelProblems.push(problemOf(parsed.problem));
    else q.labels.push(parsed);
  }
  const over = typed.length - MAX_LABEL_FILTERS;
  if (over > 0) q.labelProblems.push(`At most ${MAX_LABEL_FILTERS} labels at once: ${over === 1 ? `the ${MAX_LABEL_FILTERS + 1}st was` : `the last ${over} were`} left out.`);
  return q;
}

/**
 * The labels typed with one more, each once: where a label link on a filtered list leads. Once
 * compared as labels, not as text: `rack:k0` and `rack=k0` are one filter, so a link adds nothing
 * for it. Undefined when the page is filtered by MAX_LABEL_FILTERS already and this label is not
 * among them: readLabelFilters would leave a 21st out, and the link led to the page it was on.
 */
export function withLabel(texts: readonly string[], text: string): string[] | undefined {
  const label = parseLabel(text);
  const same = (t: string) => {
    const other = parseLabel(t);
    return 'problem' in label || 'problem' in other ? t === text : other.key === label.key && other.value === label.value;
  };
  if (texts.some(same)) return [...texts];
  return texts.length < MAX_LABEL_FILTERS ? [...texts, text] : undefined;
}

/**
 * The label fields of a list's filter form: one per label it is filtered by, and a spare one to
 * add another (the only one on an unfiltered list), all sent as `label`.
 */
export const LabelField = (p: { q: LabelQuery }) => (
  <div>
    <label for="label">Label</label>
    {[...p.q.labelTexts, ...(p.q.labelTexts.length < MAX_LABEL_FILTERS ? [''] : [])].map((text, i) =>
      i === 0 ? (
        <input id="label" name="label" type="text" value={text} placeholder="role=web" spellcheck={false} />
      ) : (
        <input name="label" type="text" value={text} aria-label={`and label ${i + 1}`} placeholder={text ? undefined : 'and…'} spellcheck={false} />
      ),
    )}
  </div>
);

/** Why labels typed were left out, above the list. */
export const LabelProblem = (p: { q: LabelQuery }) => <>{p.q.labelProblems.map((m) => <Notice kind="bad">{m}</Notice>)}</>;
