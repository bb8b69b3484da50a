import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const DIR_VARIABLE = 'MAMORI_WAREHOUSE_TEST_CHDB_DIR';

/**
 * The chDB data directory of this test process. libchdb binds one directory per process and
 * keeps it after a test file's modules are gone, so every test file that runs in a process
 * uses this one (remembered in the environment, which outlives module reloads); tests keep
 * apart by database and tenant instead.
 */
export function chdbTestDir(): string {
  let dir = process.env[DIR_VARIABLE];
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'mamori-warehouse-test-'));
    process.env[DIR_VARIABLE] = dir;
    const created = dir;
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
  }
  return dir;
}

/** A fresh database name, so that suites sharing the directory never meet. */
export function testDatabase(prefix = 'test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A fresh tenant id, so that tests sharing a database never meet. */
export function testTenant(): string {
  return `tenant-${randomBytes(4).toString('hex')}`;
}
