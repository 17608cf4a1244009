// Text from jobs and agents (a run's output) is printed where a terminal would act on parts of it.

/**
 * What a terminal shows of a line but a reason or a table cell would print as junk: colour and
 * cursor sequences (CSI, "\x1b[31m"), title sequences (OSC, ended by BEL) and format characters
 * such as U+202E, which would turn the rest of an email subject around.
 */
export const INVISIBLE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\p{Cf}/gu;
