// A strict reader for the YAML subset Lifeline's own operations files use (compose.yaml and
// ops/**/*.yml): block mappings and sequences, one-line flow sequences of scalars, plain and quoted
// scalars, comments, anchors, aliases and `<<` merge keys. Anything else (block scalars, flow
// mappings, multi-line scalars, tabs, duplicate keys) is an error naming the line, so a file that
// uses more of YAML fails loudly here instead of being misread. The signature matches
// `parse` from the `yaml` package, which can replace this module by changing one import.

type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

interface Line {
  no: number;
  indent: number;
  text: string;
}

export class YamlSubsetError extends Error {
  constructor(line: number, problem: string) {
    super(`line ${line}: ${problem}`);
    this.name = 'YamlSubsetError';
  }
}

/** Ends a line at a `#` that starts a comment (outside quotes, at the start or after a space). */
function stripComment(raw: string): string {
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (quote === '"' && ch === '\\') i++;
    else if (quote && ch === quote) quote = undefined;
    else if (!quote && (ch === '"' || ch === "'") && (i === 0 || /[\s[,:-]/.test(raw[i - 1]!))) quote = ch;
    else if (!quote && ch === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) return raw.slice(0, i).trimEnd();
  }
  return raw.trimEnd();
}

function lex(text: string): Line[] {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const body = stripComment(raw);
    if (body.trim() === '') return;
    const indent = body.length - body.trimStart().length;
    if (body.slice(0, indent).includes('\t')) throw new YamlSubsetError(i + 1, 'tabs are not allowed in indentation');
    if (indent === 0 && (body === '---' || body === '...')) throw new YamlSubsetError(i + 1, 'document markers are not supported');
    lines.push({ no: i + 1, indent, text: body.trimStart() });
  });
  return lines;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/', '0': '\0' };

/** Reads one quoted scalar at the start of `s`; returns its value and the rest of `s`. */
function quoted(s: string, no: number): [string, string] {
  const q = s[0]!;
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const ch = s[i]!;
    if (q === "'" && ch === "'" && s[i + 1] === "'") {
      out += "'";
      i++;
    } else if (ch === q) {
      return [out, s.slice(i + 1)];
    } else if (q === '"' && ch === '\\') {
      const e = s[++i] ?? '';
      if (e === 'u') {
        out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16));
        i += 4;
      } else if (e in ESCAPES) out += ESCAPES[e];
      else throw new YamlSubsetError(no, `unknown escape \\${e}`);
    } else out += ch;
  }
  throw new YamlSubsetError(no, 'unterminated quoted scalar (multi-line scalars are not supported)');
}

function plain(s: string, no: number): Value {
  if (/^[&*!|>{%@`]/.test(s)) throw new YamlSubsetError(no, `unsupported syntax "${s}"`);
  if (/: |:$/.test(s)) throw new YamlSubsetError(no, `a plain scalar may not contain ": " (quote it): "${s}"`);
  if (s === '~' || s === 'null') return null;
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (/^[-+]?(0|[1-9]\d*)$/.test(s)) return Number(s);
  if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  return s;
}

function scalar(s: string, no: number): Value {
  if (s.startsWith('"') || s.startsWith("'")) {
    const [value, rest] = quoted(s, no);
    if (rest.trim() !== '') throw new YamlSubsetError(no, `unexpected text after a quoted scalar: "${rest.trim()}"`);
    return value;
  }
  return plain(s, no);
}

/** `[a, "b", 3]` on one line; only scalars inside. */
function flowSequence(s: string, no: number): Value[] {
  if (!s.endsWith(']')) throw new YamlSubsetError(no, 'a flow sequence must close on its line');
  const items: Value[] = [];
  let rest = s.slice(1, -1).trim();
  while (rest !== '') {
    let item: Value;
    if (rest.startsWith('"') || rest.startsWith("'")) {
      [item, rest] = quoted(rest, no);
      rest = rest.trim();
    } else {
      const end = rest.indexOf(',');
      const raw = (end === -1 ? rest : rest.slice(0, end)).trim();
      if (/^[[{]/.test(raw)) throw new YamlSubsetError(no, 'nested flow collections are not supported');
      item = plain(raw, no);
      rest = end === -1 ? '' : rest.slice(end);
    }
    items.push(item);
    if (rest === '') break;
    if (!rest.startsWith(',')) throw new YamlSubsetError(no, `expected "," in flow sequence, got "${rest}"`);
    rest = rest.slice(1).trim();
  }
  return items;
}

/** Splits `key: value` / `key:`; undefined when the text is not a mapping entry. */
function entry(text: string, no: number): [string, string] | undefined {
  if (text.startsWith('"') || text.startsWith("'")) {
    const [key, rest] = quoted(text, no);
    if (rest === ':' || rest.startsWith(': ')) return [key, rest.slice(1).trim()];
    return undefined;
  }
  const m = /^([^\s"'[\]{},#&*!|>][^:]*?):(?: +(.*))?$/.exec(text);
  return m ? [m[1]!, m[2] ?? ''] : undefined;
}

class Reader {
  private i = 0;
  private readonly anchors = new Map<string, Value>();

  constructor(private readonly lines: Line[]) {}

  document(): Value {
    if (this.lines.length === 0) return null;
    const value = this.node(this.lines[0]!.indent);
    const extra = this.lines[this.i];
    if (extra) throw new YamlSubsetError(extra.no, 'unexpected indentation');
    return value;
  }

  private node(indent: number): Value {
    const line = this.lines[this.i]!;
    return line.text === '-' || line.text.startsWith('- ') ? this.sequence(indent) : this.mapping(indent);
  }

  /** The value after `key:` or `- `, possibly an anchor, alias or nested block. */
  private value(text: string, no: number, parentIndent: number, inSequence: boolean): Value {
    let anchor: string | undefined;
    const a = /^&([A-Za-z0-9_.-]+)(?: +(.*))?$/.exec(text);
    if (a) {
      anchor = a[1]!;
      text = a[2] ?? '';
    }
    let value: Value;
    if (text === '') {
      const next = this.lines[this.i];
      const nestedSeq = !inSequence && next?.indent === parentIndent && (next.text === '-' || next.text.startsWith('- '));
      value = next && (next.indent > parentIndent || nestedSeq) ? this.node(next.indent) : null;
    } else if (text.startsWith('*')) {
      const name = text.slice(1);
      if (!this.anchors.has(name)) throw new YamlSubsetError(no, `unknown alias *${name}`);
      value = this.anchors.get(name)!;
    } else if (text.startsWith('[')) {
      value = flowSequence(text, no);
    } else {
      value = scalar(text, no);
    }
    if (anchor !== undefined) this.anchors.set(anchor, value);
    return value;
  }

  private mapping(indent: number): { [key: string]: Value } {
    const out: { [key: string]: Value } = {};
    const merged: Array<{ [key: string]: Value }> = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent) throw new YamlSubsetError(line.no, 'unexpected indentation');
      const kv = entry(line.text, line.no);
      if (!kv) {
        if (line.text === '-' || line.text.startsWith('- ')) break;
        throw new YamlSubsetError(line.no, `expected "key: value", got "${line.text}"`);
      }
      this.i++;
      const [key, rest] = kv;
      const value = this.value(rest, line.no, indent, false);
      if (key === '<<') {
        const sources = Array.isArray(value) ? value : [value];
        for (const s of sources) {
          if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new YamlSubsetError(line.no, '<< must merge a mapping');
          merged.push(s);
        }
        continue;
      }
      if (Object.hasOwn(out, key)) throw new YamlSubsetError(line.no, `duplicate key "${key}"`);
      out[key] = value;
    }
    // Explicit keys win over merged ones; earlier merges win over later ones.
    for (const source of merged) for (const [k, v] of Object.entries(source)) if (!Object.hasOwn(out, k)) out[k] = v;
    return out;
  }

  private sequence(indent: number): Value[] {
    const out: Value[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent) throw new YamlSubsetError(line.no, 'unexpected indentation');
      if (!(line.text === '-' || line.text.startsWith('- '))) break;
      const rest = line.text.slice(1).trimStart();
      const offset = line.text.length - rest.length;
      if (rest !== '' && (entry(rest, line.no) || rest.startsWith('- '))) {
        // `- key: value` opens a mapping (or `- - x` a sequence) indented where its text starts.
        this.lines[this.i] = { no: line.no, indent: indent + offset, text: rest };
        out.push(this.node(indent + offset));
      } else {
        this.i++;
        out.push(this.value(rest, line.no, indent, true));
      }
    }
    return out;
  }
}

export function parse(text: string): unknown {
  return new Reader(lex(text)).document();
}
