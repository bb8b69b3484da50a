import { join } from 'node:path';
import type { EnvReader } from '@mamori/common';

/** Which ClickHouse a process keeps its history in, and how long events live there. */
export type WarehouseConfig =
  | {
      kind: 'embedded';
      /** chDB data directory; libchdb binds one per process. */
      path: string;
      database: string;
      /** Days an event is kept, counted from its observed time. */
      retentionDays: number;
    }
  | {
      kind: 'clickhouse';
      /** HTTP(S) URL of a ClickHouse server or of a cluster's load balancer. */
      url: string;
      username: string;
      password: string;
      database: string;
      retentionDays: number;
    };

/** Database names are interpolated into DDL, so only plain identifiers are accepted. */
export const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Reads the warehouse settings shared by every service:
 * - `MAMORI_WAREHOUSE` — `embedded` (default: chDB in-process) or `clickhouse`;
 * - `MAMORI_CLICKHOUSE_URL` — `http(s)://host:port`, required for `clickhouse`;
 * - `MAMORI_CLICKHOUSE_USER` (default `default`), `MAMORI_CLICKHOUSE_PASSWORD` (default empty);
 * - `MAMORI_CLICKHOUSE_DATABASE` — database of Mamori's tables on either target (default `mamori`);
 * - `MAMORI_EVENTS_RETENTION_DAYS` — days events are kept (default 30).
 *
 * The embedded warehouse lives in `<dataDir>/warehouse`.
 */
export function readWarehouseConfig(
  env: EnvReader,
  defaults: { dataDir: string },
): WarehouseConfig {
  const kind = env.oneOf('MAMORI_WAREHOUSE', ['embedded', 'clickhouse'] as const, 'embedded');
  const database = env.string('MAMORI_CLICKHOUSE_DATABASE', 'mamori');
  if (!DATABASE_NAME.test(database)) {
    env.problem(
      `MAMORI_CLICKHOUSE_DATABASE: ${JSON.stringify(database)} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)`,
    );
  }
  // 10 years, in days: far beyond any retention policy, and keeps the TTL arithmetic small.
  const retentionDays = env.int('MAMORI_EVENTS_RETENTION_DAYS', 30, { min: 1, max: 3650 });
  const url = env.optionalString('MAMORI_CLICKHOUSE_URL');
  if (kind === 'embedded') {
    if (url !== undefined) {
      env.problem(
        'MAMORI_CLICKHOUSE_URL: set, but MAMORI_WAREHOUSE is embedded (set it to clickhouse)',
      );
    }
    return { kind, path: join(defaults.dataDir, 'warehouse'), database, retentionDays };
  }
  if (url === undefined) {
    env.problem('MAMORI_CLICKHOUSE_URL: required when MAMORI_WAREHOUSE=clickhouse');
  } else {
    let protocol: string | undefined;
    try {
      protocol = new URL(url).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      // The URL may hold a password: never echo it.
      env.problem('MAMORI_CLICKHOUSE_URL: not an http:// or https:// URL');
    }
  }
  return {
    kind,
    url: url ?? '',
    username: env.string('MAMORI_CLICKHOUSE_USER', 'default'),
    password: env.optionalString('MAMORI_CLICKHOUSE_PASSWORD') ?? '',
    database,
    retentionDays,
  };
}
