// Composition root of `node services/detector/dist/main.js`: the same as `mamori detector`.
import { createLogger, runUntilSignalled } from '@mamori/common';
import { startDetector } from './run.js';

const logger = createLogger({ name: 'mamori-detector' });
await runUntilSignalled('detector', () => startDetector(process.env, logger), logger);
