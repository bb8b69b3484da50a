// Composition root of `node services/ingest/dist/main.js`: the same as `mamori ingest`.
import { createLogger, runUntilSignalled } from '@mamori/common';
import { startIngest } from './run.js';

const logger = createLogger({ name: 'mamori-ingest' });
await runUntilSignalled('ingest', () => startIngest(process.env, logger), logger);
