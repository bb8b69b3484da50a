import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSilentLogger } from '@mamori/common';
import { startClickHouseHttpServer } from '@mamori/warehouse/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startStore } from '../src/index.js';
import { chdbTestDir, testDatabase } from './support/chdb.js';
import { unique } from './support/events.js';

async function readyz(port: number): Promise<{ status: number; body: { reason?: string } }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { reason?: string } };
}

describe('mamori store, composed from its environment', () => {
  it('is not ready while ClickHouse does not answer, even with nothing to insert', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mamori-store-run-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const clickhouse = await startClickHouseHttpServer({
      path: chdbTestDir(),
      username: 'mamori',
      password: 'store-test-password',
    });
    let clickhouseUp = true;
    onTestFinished(() => (clickhouseUp ? clickhouse.close() : undefined));
    const database = testDatabase('run');
    const store = await startStore(
      {
        MAMORI_DATA_DIR: dataDir,
        MAMORI_WAREHOUSE: 'clickhouse',
        MAMORI_CLICKHOUSE_URL: clickhouse.url,
        MAMORI_CLICKHOUSE_USER: 'mamori',
        MAMORI_CLICKHOUSE_PASSWORD: 'store-test-password',
        MAMORI_CLICKHOUSE_DATABASE: database,
        MAMORI_STORE_GROUP: unique('store'),
        MAMORI_STORE_OPS_PORT: '0',
      },
      createSilentLogger(),
    );
    onTestFinished(() => store.stop());
    const port = store.opsPort!;
    expect(await readyz(port)).toMatchObject({ status: 200 });

    await clickhouse.close();
    clickhouseUp = false;
    const down = await readyz(port);
    expect(down.status).toBe(503);
    expect(down.body.reason).toContain('warehouse: ClickHouse does not answer');
  });
});
