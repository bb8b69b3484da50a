import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSilentLogger } from '@mamori/common';
import { openWarehouse, type Warehouse } from '@mamori/warehouse';

// The variable packages/warehouse's tests use: whichever test file of a process comes first
// picks the directory, and every later one reuses it.
const DIR_VARIABLE = 'MAMORI_WAREHOUSE_TEST_CHDB_DIR';

/**
 * The chDB data directory of this test process. libchdb binds one directory per process and
 * keeps it after a test file's modules are gone (the environment outlives module reloads), so
 * tests keep apart by database instead.
 */
export function chdbTestDir(): string {
  let dir = process.env[DIR_VARIABLE];
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'mamori-api-test-'));
    process.env[DIR_VARIABLE] = dir;
    const created = dir;
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
  }
  return dir;
}

/** A fresh database name, so that tests sharing the directory never meet. */
export function testDatabase(prefix = 'api'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A fresh tenant id. */
export function testTenant(): string {
  return `tenant-${randomBytes(4).toString('hex')}`;
}

/**
 * A warehouse on chDB in a fresh database of this process's directory; `drop` removes the
 * database and closes the warehouse (for afterAll).
 */
export async function openTestWarehouse(): Promise<{
  warehouse: Warehouse;
  drop: () => Promise<void>;
}> {
  const database = testDatabase();
  const { warehouse } = await openWarehouse(
    { kind: 'embedded', path: chdbTestDir(), database, retentionDays: 30 },
    { logger: createSilentLogger() },
  );
  return {
    warehouse,
    drop: async () => {
      await warehouse.client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await warehouse.close();
    },
  };
}
