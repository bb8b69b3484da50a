import type { Logger } from './logger.js';

/** Something a process runs until it is told to stop. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Runs a service as a process's main work: starts it, stops it on SIGTERM or SIGINT and
 * exits. A failed start or stop is logged and ends the process with exit code 1.
 */
export async function runUntilSignalled(
  what: string,
  start: () => Promise<Stoppable>,
  logger: Logger,
): Promise<void> {
  let running: Stoppable;
  try {
    running = await start();
  } catch (err) {
    logger.fatal({ err }, `${what} failed to start`);
    process.exitCode = 1;
    return;
  }
  const shutdown = (signal: string): void => {
    logger.info({ signal }, `stopping ${what}`);
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, `${what} did not stop cleanly`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
