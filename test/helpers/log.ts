import { pino } from 'pino';

/** Silent unless LOG_LEVEL is set, so a failing test can be rerun with logs. */
export const testLog = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
