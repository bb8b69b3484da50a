// Test helpers: a stand-in for ClickHouse's HTTP interface on chDB, for suites that need a
// server, and events to store. Never imported by the warehouse itself.
export {
  startClickHouseHttpServer,
  type ClickHouseHttpServer,
  type ClickHouseHttpServerOptions,
} from './clickhouse-http.js';
export { execEvent, fileEvent, httpEvent, SECOND, T0, type EventOptions } from './fixtures.js';
