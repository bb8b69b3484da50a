import { describe } from 'vitest';
import { createWarehouseClient } from '../src/index.js';
import { chdbTestDir } from './support/chdb.js';
import { warehouseSuite } from './support/suite.js';

describe('warehouse on chDB (embedded)', () => {
  warehouseSuite({
    connect: () =>
      Promise.resolve(
        createWarehouseClient({
          kind: 'embedded',
          path: chdbTestDir(),
          database: 'unused',
          retentionDays: 30,
        }),
      ),
  });
});
