import { ConfigError, loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startEngine } from './engine.ts';

// Graceful stop must finish well inside the 10 s orchestrators give before SIGKILL.
const STOP_DEADLINE_MS = 9_000;

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`lifeline: invalid configuration: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const log = createLogger(config.logLevel);
let engine: Awaited<ReturnType<typeof startEngine>>;
try {
  engine = await startEngine(config, log);
} catch (err) {
  log.fatal({ err }, 'lifeline could not start');
  process.exit(1);
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: no new requests, flushing heartbeats, draining work');
  const deadline = setTimeout(() => {
    log.error('graceful stop exceeded its deadline; exiting');
    process.exit(1);
  }, STOP_DEADLINE_MS);
  deadline.unref();
  await engine.stop();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
