#!/usr/bin/env node
// Composition root of the `mamori` command.
import { createLogger } from '@mamori/common';
import { startIngestService, startPlatform, USAGE, type Running } from './commands.js';

const command = process.argv[2] ?? 'help';
const commands: Record<
  string,
  (env: NodeJS.ProcessEnv, logger: ReturnType<typeof createLogger>) => Promise<Running>
> = {
  start: startPlatform,
  ingest: startIngestService,
};

const run = commands[command];
if (!run) {
  process.stdout.write(USAGE);
  process.exitCode = command === 'help' || command === '--help' || command === '-h' ? 0 : 2;
} else {
  const logger = createLogger({ name: `mamori-${command}` });
  try {
    const running = await run(process.env, logger);
    const shutdown = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      running.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'did not stop cleanly');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  } catch (err) {
    logger.fatal({ err }, `mamori ${command} failed to start`);
    process.exitCode = 1;
  }
}
