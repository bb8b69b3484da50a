import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSilentLogger, isMamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import { createWarehouse, createWarehouseClient, openWarehouse } from '../src/index.js';
import { chdbTestDir, testDatabase, testTenant } from './support/chdb.js';
import { execEvent } from '../src/testing/index.js';
import { warehouseSuite } from './support/suite.js';

const embedded = (database = 'unused') =>
  ({ kind: 'embedded', path: chdbTestDir(), database, retentionDays: 30 }) as const;

describe('warehouse on chDB (embedded)', () => {
  warehouseSuite({
    stagingDir: join(chdbTestDir(), 'mamori-staging'),
    connect: () =>
      Promise.resolve(createWarehouseClient(embedded(), { logger: createSilentLogger() })),
  });

  it('opens from configuration: connects, migrates, and stores', async () => {
    const database = testDatabase('open');
    const tenant = testTenant();
    const first = await openWarehouse(embedded(database));
    expect(first.migrations).toEqual({ applied: [1, 2, 3, 4, 5, 6, 7, 8], version: 8 });
    await first.warehouse.insertEvents([execEvent({ tenant })]);
    await first.warehouse.close();

    const second = await openWarehouse(embedded(database));
    try {
      expect(second.migrations).toEqual({ applied: [], version: 8 });
      expect((await second.warehouse.listEvents(tenant)).items).toHaveLength(1);
    } finally {
      await second.warehouse.client.command({ query: `DROP DATABASE ${database}` });
      await second.warehouse.close();
    }
  });

  it("clears staged inserts a crashed process left, never this process's own", async () => {
    const staging = join(chdbTestDir(), `staging-${process.pid}-${Date.now()}`);
    mkdirSync(staging, { recursive: true });
    const stray = join(staging, 'events-999999999-3.tsv');
    const own = join(staging, `events-${process.pid}-0.tsv`);
    writeFileSync(stray, 'left by a crash');
    writeFileSync(own, 'being inserted by another warehouse of this process');
    const client = createWarehouseClient(embedded());
    try {
      createWarehouse({ client, database: 'unused', stagingDir: staging });
      expect(existsSync(stray)).toBe(false);
      expect(existsSync(own)).toBe(true);
    } finally {
      await client.close();
      rmSync(staging, { recursive: true, force: true });
    }
  });

  it('refuses a second chDB directory while one is open in the process', async () => {
    const client = createWarehouseClient(embedded());
    try {
      let error: unknown;
      try {
        createWarehouseClient({ ...embedded(), path: join(chdbTestDir(), 'elsewhere') });
      } catch (err) {
        error = err;
      }
      expect(isMamoriError(error, 'MAMORI_CONFIG')).toBe(true);
      // Another client on the same directory is fine.
      const same = createWarehouseClient(embedded());
      expect((await same.ping()).success).toBe(true);
      await same.close();
    } finally {
      await client.close();
    }
  });
});
