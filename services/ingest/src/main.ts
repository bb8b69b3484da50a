// Composition root of `node services/ingest/dist/main.js`: the same as `mamori ingest`.
import { createLogger } from '@mamori/common';
import { startIngest } from './run.js';

const logger = createLogger({ name: 'mamori-ingest' });
try {
  const ingest = await startIngest(process.env, logger);
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'stopping ingest');
    ingest.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'ingest did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (err) {
  logger.fatal({ err }, 'ingest failed to start');
  process.exitCode = 1;
}
