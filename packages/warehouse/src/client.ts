import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { ErrorCode, MamoriError } from '@mamori/common';
import { createChdbConnection } from 'chdb/connection';
import type { WarehouseConfig } from './config.js';

type ChdbClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection'];

/** Absolute chDB directories open in this process, with how many clients use each. */
const openEmbedded = new Map<string, number>();

/**
 * A `@clickhouse/client` for the configured target: chDB in-process on `config.path`, or a
 * ClickHouse server over HTTP. Statements name their database explicitly, because an injected
 * chDB connection ignores the client's `database` option.
 *
 * libchdb binds one data directory per process: every embedded client of a process must use
 * the same `path`. Several clients on that path may be open at once.
 * @throws MamoriError Config when an embedded client on another directory is still open.
 */
export function createWarehouseClient(config: WarehouseConfig): ClickHouseClient {
  if (config.kind === 'clickhouse') {
    return createClient({
      url: config.url,
      username: config.username,
      password: config.password,
      database: config.database,
      application: 'mamori',
    });
  }
  const path = resolve(config.path);
  const other = [...openEmbedded.keys()].find((open) => open !== path);
  if (other !== undefined) {
    throw new MamoriError(
      ErrorCode.Config,
      'chDB is already open on another directory in this process (libchdb binds one per process)',
      { context: { path, open: other } },
    );
  }
  mkdirSync(path, { recursive: true });
  // chdb types the connection against @clickhouse/client-common, which the client 1.23 also
  // vendors as its own copy: the same interface under two declarations.
  const connection = createChdbConnection({ path }) as unknown as ChdbClientConnection;
  openEmbedded.set(path, (openEmbedded.get(path) ?? 0) + 1);
  const client = createClient({ connection });
  const close = client.close.bind(client);
  let closed = false;
  client.close = async () => {
    if (!closed) {
      closed = true;
      const users = (openEmbedded.get(path) ?? 1) - 1;
      if (users === 0) openEmbedded.delete(path);
      else openEmbedded.set(path, users);
    }
    await close();
  };
  return client;
}
