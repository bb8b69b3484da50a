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
  let running: Stoppable | undefined;
  let stopRequested: string | undefined;
  const stop = (signal: string): void => {
    logger.info({ signal }, `stopping ${what}`);
    running!.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, `${what} did not stop cleanly`);
        process.exit(1);
      },
    );
  };
  // Listening from the start: a signal that arrives while starting stops the service as soon
  // as it has started, instead of killing it half-way.
  const onSignal = (signal: string): void => {
    if (running) stop(signal);
    else stopRequested = signal;
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    running = await start();
  } catch (err) {
    logger.fatal({ err }, `${what} failed to start`);
    process.exitCode = 1;
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    return;
  }
  if (stopRequested) stop(stopRequested);
}
