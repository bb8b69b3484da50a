// Test helpers for suites that need a ClickHouse server: a stand-in for its HTTP interface on
// chDB. Never imported by the warehouse itself.
export {
  startClickHouseHttpServer,
  type ClickHouseHttpServer,
  type ClickHouseHttpServerOptions,
} from './clickhouse-http.js';
