// Character boundaries in UTF-8 bytes: where a buffer cut at a byte offset may be cut without
// splitting a character. A continuation byte (10xxxxxx) is the middle of one; any other byte
// starts one (or is invalid on its own, which a decoder makes U+FFFD either way).

const continues = (byte: number): boolean => (byte & 0xc0) === 0x80;

/** `at`, or back to the start of the character it falls in; `at` itself when it is 0 or past the bytes. */
export function boundaryAtOrBefore(bytes: Uint8Array, at: number): number {
  let end = at;
  while (end > 0 && end < bytes.length && continues(bytes[end]!)) end -= 1;
  return end;
}

/** `at` (0 when below it), or on to the start of the next character; at most the bytes' length. */
export function boundaryAtOrAfter(bytes: Uint8Array, at: number): number {
  let start = Math.max(0, at);
  while (start < bytes.length && continues(bytes[start]!)) start += 1;
  return start;
}
