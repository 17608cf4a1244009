// Integers read straight from an int8[] as Postgres prints it ('{30,-2,NULL}'), one after the
// other: no string and no number parse per element, as postgres.js makes for each column it
// reads. The evaluator's due rows carry every number of a node in one such column.

/** Reads the elements of one printed int8[] in order; `read` starts on the next array. */
export class IntArrayReader {
  private text = '';
  private at = 0;

  read(text: string): void {
    this.text = text;
    this.at = 1; // past '{'
  }

  /** The next element; null for NULL. Exact up to 2^53, like any number. */
  next(): number | null {
    const t = this.text;
    let i = this.at;
    if (t.charCodeAt(i) === 78 /* N */) {
      this.at = i + 5; // 'NULL' and its ',' or '}'
      return null;
    }
    const negative = t.charCodeAt(i) === 45; /* - */
    if (negative) i++;
    let n = 0;
    for (let c = t.charCodeAt(i); c >= 48 && c <= 57; c = t.charCodeAt(++i)) n = n * 10 + (c - 48);
    this.at = i + 1;
    return negative ? -n : n;
  }
}
