export { buildApp, type StoreApp, type StoreDeps } from './app.js';
export { readStoreConfig, type StoreConfig } from './config.js';
export {
  createBatcher,
  type BatchChunk,
  type Batcher,
  type BatcherOptions,
} from './pipeline/batcher.js';
export {
  agentsStream,
  alertsStream,
  eventsStream,
  type StoreStream,
  type StoreWarehouse,
} from './streams.js';
export { startStore, type RunningStore, type SharedStoreResources } from './run.js';
export { createStoreMetrics, type StoreMetrics, type StoreMetricsOptions } from './metrics.js';
