import { isWriteAfterClose } from './db/closed-write.ts';
import type { Logger } from './logger.ts';

/**
 * What the process does with an exception nothing caught, or a rejection nothing handled: the
 * driver's write to a closed connection (isWriteAfterClose) is logged at error level and the
 * process carries on, since the query it belonged to has already failed and the pool reconnects;
 * anything else is logged as one JSON line at fatal level, then the process exits 1, because its
 * state is unknown. Without this, Node wrote a bare stack to stderr, which no log collector reads
 * as an event, and one terminated backend stopped every evaluator and notifier on the database.
 */
export function handleUncaught(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): void {
  process.on('uncaughtException', (err, origin) => {
    if (origin === 'uncaughtException' && isWriteAfterClose(err)) {
      log.error({ err }, 'the database driver wrote to a connection that had already closed; its query had already failed, carrying on');
      return;
    }
    log.fatal({ err, origin }, origin === 'unhandledRejection' ? 'a promise rejection nobody handled; exiting' : 'an exception nobody caught; exiting');
    exit(1);
  });
}
