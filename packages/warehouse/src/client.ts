import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ClickHouseLogLevel,
  createClient,
  type ClickHouseClient,
  type ErrorLogParams,
  type Logger as ClickHouseLogger,
  type LogParams,
  type WarnLogParams,
} from '@clickhouse/client';
import { ErrorCode, MamoriError, type Logger } from '@mamori/common';
import { createChdbConnection } from 'chdb/connection';
import type { WarehouseConfig } from './config.js';

type ChdbClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection'];

/** Absolute chDB directories open in this process, with how many clients use each. */
const openEmbedded = new Map<string, number>();

export interface WarehouseClientOptions {
  /** Where the client's own warnings and errors go. @default the client's console logger */
  logger?: Logger;
}

/** The client's log calls, through the process's pino logger. */
function loggerClass(log: Logger): new () => ClickHouseLogger {
  const child = log.child({ component: 'clickhouse-client' });
  return class implements ClickHouseLogger {
    trace({ module, message, args }: LogParams) {
      child.trace({ module, args }, message);
    }
    debug({ module, message, args }: LogParams) {
      child.debug({ module, args }, message);
    }
    info({ module, message, args }: LogParams) {
      child.info({ module, args }, message);
    }
    warn({ module, message, args, err }: WarnLogParams) {
      child.warn({ module, args, err }, message);
    }
    error({ module, message, args, err }: ErrorLogParams) {
      child.error({ module, args, err }, message);
    }
  };
}

/**
 * A `@clickhouse/client` for the configured target: chDB in-process on `config.path`, or a
 * ClickHouse server over HTTP. Statements name their database explicitly, because an injected
 * chDB connection ignores the client's `database` option.
 *
 * libchdb binds one data directory per process: every embedded client of a process must use
 * the same `path`. Several clients on that path may be open at once.
 * @throws MamoriError Config when an embedded client on another directory is still open.
 */
export function createWarehouseClient(
  config: WarehouseConfig,
  options: WarehouseClientOptions = {},
): ClickHouseClient {
  const log = options.logger
    ? { LoggerClass: loggerClass(options.logger), level: ClickHouseLogLevel.WARN }
    : undefined;
  if (config.kind === 'clickhouse') {
    return createClient({
      log,
      url: config.url,
      username: config.username,
      password: config.password,
      // No `database`: the server would refuse every request, migrations' CREATE DATABASE
      // included, until that database exists. Statements name it instead.
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
  const client = createClient({ connection, log });
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
