// Character boundaries in UTF-8 bytes: where a buffer cut at a byte offset may be cut without
// splitting a character. A continuation byte (10xxxxxx) is the middle of one; any other byte
// starts one (or is invalid on its own, which a decoder makes U+FFFD either way). A character has
// at most 3 continuation bytes, so neither walk goes further: a longer run is invalid bytes, with
// no character to keep whole, and walking it would drop or skip a whole chunk of 0x80 bytes.

const continues = (byte: number): boolean => (byte & 0xc0) === 0x80;

/** Continuation bytes a character may have. */
const MOST_CONTINUING = 3;

/**
 * `at`, or back to the start of the character it falls in; `at` itself when it is 0, past the
 * bytes, or more than 3 bytes after any start.
 */
export function boundaryAtOrBefore(bytes: Uint8Array, at: number): number {
  let end = at;
  while (end > 0 && end < bytes.length && at - end < MOST_CONTINUING && continues(bytes[end]!)) end -= 1;
  return end < bytes.length && end > 0 && continues(bytes[end]!) ? at : end;
}

/**
 * `at` (0 when below it), or on to the start of the next character, or the bytes' end; `at`
 * itself when past the bytes, or when no start is within 3 bytes.
 */
export function boundaryAtOrAfter(bytes: Uint8Array, at: number): number {
  const from = Math.max(0, at);
  let start = from;
  while (start < bytes.length && start - from < MOST_CONTINUING && continues(bytes[start]!)) start += 1;
  return start < bytes.length && continues(bytes[start]!) ? from : start;
}
