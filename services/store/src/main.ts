// Composition root of `node services/store/dist/main.js`: the same as `mamori store`.
import { createLogger, runUntilSignalled } from '@mamori/common';
import { startStore } from './run.js';

const logger = createLogger({ name: 'mamori-store' });
await runUntilSignalled('store', () => startStore(process.env, logger), logger);
