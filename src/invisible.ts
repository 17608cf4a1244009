// Text from jobs and agents (a run's output) is printed where a terminal would act on parts of it.

/**
 * What a terminal shows of a line but a reason or a table cell would print as junk: colour and
 * cursor sequences (CSI, "\x1b[31m"), title sequences (OSC, ended by BEL) and format characters
 * such as U+202E, which would turn the rest of an email subject around.
 */
export const INVISIBLE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\p{Cf}/gu;

// Embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069) reorder what follows
// them: "abc\u202Egnp.exe" reads "abcexe.png". A name or a note is shown inside other text (pages,
// messages, timelines), where no rendering can tell the spoof from the real thing.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;

/** Whether text holds a bidirectional control, refused in names and notes alike (BIDI_REFUSED). */
export const hasBidiControls = (s: string): boolean => BIDI_CONTROLS.test(s);

/** What text holding a bidirectional control is told. */
export const BIDI_REFUSED = 'must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069)';
