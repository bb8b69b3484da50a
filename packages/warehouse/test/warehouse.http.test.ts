import { afterAll, describe } from 'vitest';
import { createWarehouseClient } from '../src/index.js';
import { chdbTestDir } from './support/chdb.js';
import { startClickHouseHttpServer, type ClickHouseHttpServer } from './support/clickhouse-http.js';
import { warehouseSuite } from './support/suite.js';

describe('warehouse over ClickHouse HTTP (chDB behind a stand-in server)', () => {
  let server: ClickHouseHttpServer | undefined;
  afterAll(async () => {
    await server?.close();
  });
  warehouseSuite({
    async connect() {
      server = await startClickHouseHttpServer({
        path: chdbTestDir(),
        username: 'mamori',
        password: 's3cret',
      });
      return createWarehouseClient({
        kind: 'clickhouse',
        url: server.url,
        username: 'mamori',
        password: 's3cret',
        database: 'default',
        retentionDays: 30,
      });
    },
  });
});
