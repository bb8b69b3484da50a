import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createEmbeddedBus } from '../../src/index.js';
import { describeBusConformance } from './suite.js';

// One directory for the whole suite: topics and groups are random per test, and the reopen
// test needs a second bus on the same directory.
const dir = await mkdtemp(join(tmpdir(), 'mamori-bus-conformance-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describeBusConformance('embedded', {
  open: () => createEmbeddedBus({ dir, handlerRetry: { initialMs: 10, maxMs: 100 } }),
  waitTimeoutMs: 10_000,
});
