import { ClickHouseLogLevel, createClient, type ClickHouseError } from '@clickhouse/client';
import { createLogger, createSilentLogger } from '@mamori/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWarehouseClient, openWarehouse } from '../src/index.js';
import { chdbTestDir, testDatabase } from './support/chdb.js';
import { startClickHouseHttpServer, type ClickHouseHttpServer } from '../src/testing/index.js';
import { warehouseSuite } from './support/suite.js';

const credentials = { username: 'mamori', password: 's3cret' };

describe('warehouse over ClickHouse HTTP (chDB behind a stand-in server)', () => {
  let server: ClickHouseHttpServer;
  beforeAll(async () => {
    server = await startClickHouseHttpServer({ path: chdbTestDir(), ...credentials });
  });
  afterAll(async () => {
    await server?.close();
  });

  warehouseSuite({
    connect: () =>
      Promise.resolve(
        createWarehouseClient(
          {
            kind: 'clickhouse',
            url: server.url,
            ...credentials,
            database: 'default',
            retentionDays: 30,
          },
          { logger: createSilentLogger() },
        ),
      ),
  });

  it('creates its database on a server where it does not exist yet', async () => {
    const database = testDatabase('fresh');
    const { warehouse, migrations } = await openWarehouse(
      { kind: 'clickhouse', url: server.url, ...credentials, database, retentionDays: 30 },
      { logger: createSilentLogger() },
    );
    try {
      expect(migrations.applied.length).toBeGreaterThan(0);
      expect((await warehouse.listEvents('anyone')).items).toEqual([]);
    } finally {
      await warehouse.close();
    }
  });

  describe('the stand-in server', () => {
    it('answers pings and really carries the suite over HTTP', async () => {
      const client = createClient({ url: server.url, ...credentials });
      try {
        expect((await client.ping()).success).toBe(true);
        expect(server.requests()).toBeGreaterThan(50);
      } finally {
        await client.close();
      }
    });

    it('refuses wrong credentials the way ClickHouse does', async () => {
      const client = createClient({
        url: server.url,
        username: 'mamori',
        password: 'nope',
        log: { level: ClickHouseLogLevel.OFF },
      });
      try {
        const error = (await client
          .query({ query: 'SELECT 1' })
          .catch((e: unknown) => e)) as ClickHouseError;
        expect(error).toMatchObject({ code: '516', type: 'AUTHENTICATION_FAILED' });
      } finally {
        await client.close();
      }
    });

    it("writes the client's errors to the process's pino logger", async () => {
      const lines: Record<string, unknown>[] = [];
      const logger = createLogger({
        name: 'test',
        destination: {
          write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>),
        },
      });
      const client = createWarehouseClient(
        {
          kind: 'clickhouse',
          url: server.url,
          username: 'mamori',
          password: 'pw-9f3a7c-wrong',
          database: 'default',
          retentionDays: 30,
        },
        { logger },
      );
      try {
        await expect(client.query({ query: 'SELECT 1' })).rejects.toThrow('Authentication failed');
        expect(lines).toContainEqual(
          expect.objectContaining({ level: 50, component: 'clickhouse-client' }),
        );
        // The password is never logged.
        expect(JSON.stringify(lines)).not.toContain('pw-9f3a7c');
      } finally {
        await client.close();
      }
    });

    it('returns ClickHouse errors with their code and type', async () => {
      const client = createClient({
        url: server.url,
        ...credentials,
        log: { level: ClickHouseLogLevel.OFF },
      });
      try {
        const error = (await client
          .query({ query: 'SELECT * FROM no_such_db.no_such_table' })
          .catch((e: unknown) => e)) as ClickHouseError;
        expect(error).toMatchObject({ code: '81', type: 'UNKNOWN_DATABASE' });
      } finally {
        await client.close();
      }
    });

    it('scopes settings and parameters to their request', async () => {
      const client = createClient({ url: server.url, ...credentials });
      try {
        const setting = async (settings: Record<string, number>) => {
          const result = await client.query({
            query: "SELECT getSetting('max_block_size') AS n, {p:String} AS p",
            query_params: { p: "a'b\\c\n" },
            clickhouse_settings: settings,
            format: 'JSONEachRow',
          });
          const [row] = await result.json<{ n: number | string; p: string }>();
          return { n: Number(row?.n), p: row?.p };
        };
        expect(await setting({ max_block_size: 1234 })).toEqual({ n: 1234, p: "a'b\\c\n" });
        expect((await setting({})).n).not.toBe(1234);
      } finally {
        await client.close();
      }
    });
  });
});
