// Composition root of `node services/api/dist/main.js`: the same as `mamori api`.
import { createLogger, runUntilSignalled } from '@mamori/common';
import { startApi } from './run.js';

const logger = createLogger({ name: 'mamori-api' });
await runUntilSignalled('api', () => startApi(process.env, logger), logger);
